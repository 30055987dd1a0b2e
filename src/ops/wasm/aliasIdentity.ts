import * as tf from '@tensorflow/tfjs-core';

/**
 * A copy-free Identity kernel for the wasm backend.
 *
 * tfjs-core saves every tensor a gradient needs through engine.clone, which runs the Identity
 * kernel; tfjs-backend-wasm 4.22's Identity copies the data (the cpu backend's shares it), so a
 * training step of the recipe model spent ~2.5% of its kernel time copying ~110 saved tensors.
 * Tensors are immutable in tfjs (no kernel writes into its inputs, a Variable's assign swaps its
 * data id), so the clone can share the data id with a reference count, as the cpu backend's
 * Identity and every backend's Reshape do.
 */
interface RefCountingBackend {
  incRef(dataId: object): void;
}

function isRefCounting(b: unknown): b is RefCountingBackend {
  return b != null && typeof (b as Record<string, unknown>).incRef === 'function';
}

function aliasIdentity({ inputs, backend }: { inputs: tf.NamedTensorInfoMap; backend: unknown }): tf.TensorInfo {
  const x = inputs.x as tf.TensorInfo;
  if (!isRefCounting(backend)) throw new Error('Identity: the backend keeps no reference counts.');
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

let installed = false;

/**
 * Replaces the wasm backend's Identity with the sharing one, once; a no-op on other backends
 * and on a wasm backend without reference counts (the stock kernel then stays).
 */
export function useAliasingIdentity(): void {
  if (installed || tf.getBackend() !== 'wasm' || !isRefCounting(tf.backend())) return;
  if (tf.getKernel('Identity', 'wasm') !== undefined) tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: aliasIdentity as tf.KernelFunc });
  installed = true;
}
