// The Node entry and the subpaths resolve and type-check for a consumer.
import { sha256Hex, SHAKESPEARE_SHA256 } from 'tinygpt/node';
import { lossPlotSvg } from 'tinygpt/viz';
import { causalMask } from 'tinygpt/ops';

const svg: string = lossPlotSvg({
  steps: [
    { step: 1, loss: 2.5, lr: 1e-3 },
    { step: 2, loss: 2.1, lr: 1e-3 },
  ],
  evals: [],
});
const digest: string = sha256Hex(new TextEncoder().encode(''));
console.log(JSON.stringify({ svg: svg.startsWith('<svg'), digest, sha: SHAKESPEARE_SHA256.length, mask: typeof causalMask }));
