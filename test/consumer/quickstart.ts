// The README's quickstart, as a user writes it against the installed package
// (test/package.test.ts type-checks it with `tsc --strict` and runs it).
import { CharTokenizer, GPT, TextDataset, Trainer, generateAll, setBackend, tf } from 'tinygpt';

const backend = await setBackend('wasm'); // or 'auto': tfjs-node if installed, else wasm, else cpu
const text = 'the cat sat on the mat. the dog ate the hat. '.repeat(20);
const tok = CharTokenizer.fromText(text);
const model = new GPT({ vocabSize: tok.vocabSize, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 32, seed: 1 });
const trainer = new Trainer(model, new TextDataset(tok.encode(text)), { maxIters: 60, batchSize: 8, blockSize: 16, lr: 3e-3 });
const last = await trainer.train();
const ids = await generateAll(model, tok.encode('the '), { maxNewTokens: 24, temperature: 0 });
console.log(JSON.stringify({ backend, val: last?.val, text: tok.decode(ids), tensors: tf.memory().numTensors }));
