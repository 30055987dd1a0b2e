import { beforeAll } from 'vitest';
import { setBackend } from '../src/backend.js';

beforeAll(async () => {
  await setBackend((process.env.TINYGPT_BACKEND as 'cpu' | 'wasm' | undefined) ?? 'cpu');
});
