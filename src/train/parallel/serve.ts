import * as tf from '@tensorflow/tfjs-core';
import { setBackend, type BackendName } from '../../backend.js';
import { GPT } from '../../model/gpt.js';
import type { ReplicaInit, StepRequest, WorkerReply } from './messages.js';
import { Replica } from './replica.js';
import { causeOf } from './thread.js';

/** A thread's side of its channel to the main thread (Node's parentPort, or a Web Worker's self). */
export interface ReplicaPort {
  /** Posts a reply to the main thread. */
  post(reply: WorkerReply): void;
  /** Hands every step request from now on to `handle`. */
  listen(handle: (request: StepRequest) => void): void;
}

/** The main thread's backend, then new GPT(config) checked against the layout. */
async function build(init: ReplicaInit): Promise<Replica> {
  await setBackend(init.backend as BackendName);
  const model = new GPT(init.config);
  try {
    return new Replica(init, model);
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/**
 * What every replica thread does, whatever runs it: build the replica, say 'ready', then answer
 * each step request. A failure is posted as 'failed' with its cause rather than thrown, so that
 * the pool names the worker and the reason and the thread stays up until it is terminated.
 */
export async function serveReplica(init: ReplicaInit, port: ReplicaPort): Promise<void> {
  const failed = (err: unknown) => port.post({ type: 'failed', message: causeOf(err) });
  let replica: Replica;
  try {
    replica = await build(init);
  } catch (err) {
    failed(err);
    return;
  }
  port.listen((request) => void replica.step(request).then((reply) => port.post(reply), failed));
  port.post({ type: 'ready', numTensors: tf.memory().numTensors });
}
