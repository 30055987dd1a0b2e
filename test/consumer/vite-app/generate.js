// Shared by the browser app (main.js) and its Node reference run: a seeded model's greedy
// continuation on the wasm backend. It takes the tinygpt namespace so both import it their own way.
export async function run({ setBackend, CharTokenizer, GPT, generateAll, tf }) {
  const backend = await setBackend('wasm');
  const tok = CharTokenizer.fromText('abcdefgh ');
  const model = new GPT({ vocabSize: tok.vocabSize, blockSize: 16, nLayer: 2, nHead: 2, nEmbd: 16, seed: 3 });
  const ids = await generateAll(model, tok.encode('abc'), { maxNewTokens: 12, temperature: 0 });
  model.dispose();
  return { backend, text: tok.decode(ids), tensors: tf.memory().numTensors };
}
