/**
 * Entry of a data-parallel replica thread (Node worker_threads): selects the main thread's
 * backend, builds new GPT(config), then answers step requests until terminated.
 */
import * as tf from '@tensorflow/tfjs-core';
import { parentPort, workerData } from 'node:worker_threads';
import { setBackend, type BackendName } from '../../backend.js';
import { GPT } from '../../model/gpt.js';
import type { ReplicaInit, StepRequest, WorkerReply } from './messages.js';
import { Replica } from './replica.js';
import { causeOf } from './thread.js';

const port = parentPort;
if (port === null) throw new Error('src/train/parallel/worker is a worker-thread entry; the trainer starts it.');
const init = workerData as ReplicaInit;
const post = (reply: WorkerReply) => port.postMessage(reply);

async function start(): Promise<Replica> {
  await setBackend(init.backend as BackendName);
  const model = new GPT(init.config);
  try {
    return new Replica(init, model);
  } catch (err) {
    model.dispose();
    throw err;
  }
}

start().then(
  (replica) => {
    port.on('message', (req: StepRequest) => {
      replica.step(req).then(post, (err: unknown) => post({ type: 'failed', message: causeOf(err) }));
    });
    post({ type: 'ready', numTensors: tf.memory().numTensors });
  },
  (err: unknown) => post({ type: 'failed', message: causeOf(err) }),
);
