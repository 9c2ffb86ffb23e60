// What the main thread and the inference workers send each other. Pixel and map buffers are transferred.
import type { Card } from '../contract/card.ts';
import type { FuseMode } from '../contract/options.ts';
import type { Device } from '../contract/settings.ts';
import type { Provider } from './ort.ts';
import type { CellGrid, ScaleLayout } from './layout.ts';

/** What a worker needs to know about one model; sent once as workerData. */
export interface WorkerModel {
  name: string;
  path: string;
  classes: number;
  input: Card['input'];
  output: Card['output'];
  geometry: Card['geometry'];
}

export interface WorkerInit {
  models: WorkerModel[];
  /** the models each worker opens and warms before it says ready; the others it opens when told or asked */
  preload: string[];
  /** the BroadcastChannel on which the pool sends every worker its ModelCommands */
  channel: string;
  device: Device;
  intraOpThreads: number;
}

/** Posted by each worker once its preload sessions are open and warmed. */
export interface WorkerReady {
  kind: 'tagmap-worker-ready';
  threadId: number;
  provider: Provider;
  fallbackReason?: string;
}

/** Sent to every worker at once: open and warm a model's session, or release it. */
export interface ModelCommand {
  kind: 'load' | 'unload';
  id: number;
  model: string;
}

/** Each worker's answer to a ModelCommand. */
export interface CommandDone {
  kind: 'tagmap-worker-done';
  id: number;
  threadId: number;
  error?: string;
}

interface ScaleInput {
  plan: ScaleLayout;
  /** resized 8-bit pixels, plan.width x plan.height x channels */
  pixels: ArrayBuffer;
}

export interface InferJob {
  model: string;
  image: { width: number; height: number };
  scales: ScaleInput[];
  fuse: FuseMode;
  /** also compute the per-pixel label map at the original image size */
  labelMap: boolean;
}

export interface InferResult {
  /** fused class map [classes, rows, cols] on `grid` (the finest scale's grid) */
  map: Float32Array;
  classes: number;
  grid: CellGrid;
  labels?: Uint8Array | Uint16Array;
  provider: Provider;
  /** time this job waited for the worker to open the model (0 unless the worker had not loaded it) */
  openMs: number;
  /** time inside session.run, summed over passes */
  runMs: number;
  /** time in the worker, tensors and post-processing included */
  workerMs: number;
}
