/**
 * Entry of a data-parallel replica thread on Node's worker_threads: the init record arrives as
 * workerData, then serve.ts builds the replica and answers step requests until terminated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ReplicaInit } from './messages.js';
import { serveReplica } from './serve.js';

const port = parentPort;
if (port === null) throw new Error('src/train/parallel/worker is a worker-thread entry; the trainer starts it.');

void serveReplica(workerData as ReplicaInit, {
  post: (reply) => port.postMessage(reply),
  listen: (handle) => void port.on('message', handle),
});
