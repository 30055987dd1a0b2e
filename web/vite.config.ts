// `npx vite --config web/vite.config.ts` serves the page; TINYGPT_CHECKPOINT=DIR also serves that
// checkpoint at /ckpt/ and the page loads it on open. `npx vite build --config web/vite.config.ts`
// writes web/dist.
import { defineConfig } from 'vite';
import { webConfig } from './config.js';

export default defineConfig(webConfig({ checkpointDir: process.env.TINYGPT_CHECKPOINT || undefined }));
