import wabtInit from 'wabt';

/** dot.wat's text → wasm bytes, with SIMD enabled (wabt, a devDependency). */
export async function assembleDot(wat: string): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const mod = wabt.parseWat('dot.wat', wat, { simd: true });
  try {
    mod.validate();
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}
