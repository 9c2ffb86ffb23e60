// The one model/ API that the server and the batch script both use. No HTTP in here.
import type { Card, Pool } from './contract/card.ts';

/** Options shared by tag(), parse() and classMap(); every field optional, card defaults then global defaults. */
export interface RunOptions {
  model?: string;
  /** scales relative to the card's shortSide, e.g. [1] or [0.5, 1, 2] */
  scales?: number[];
  /** images whose longer side exceeds this are scaled down first (px) */
  maxSide?: number;
  /** shift-and-stitch: d x d shifted passes give cells every stride/d px */
  density?: number;
  /** how maps of several scales are fused */
  fuse?: 'mean' | 'max';
}

export interface TagOptions extends RunOptions {
  topK?: number;
  minScore?: number;
  pool?: Pool;
  include?: string[];
  exclude?: string[];
}

export type ParseFormat = 'json' | 'png' | 'overlay';
export interface ParseOptions extends RunOptions {
  format?: ParseFormat;
}

export interface ModelRef {
  name: string;
  version: string;
  sha256: string;
}

export interface Plan {
  /** decoded, upright image size */
  image: { width: number; height: number };
  /** tensor sizes fed to the net, one per scale */
  inputs: Array<{ scale: number; width: number; height: number }>;
  scales: number[];
  density: number;
  /** the fused class map's grid */
  grid: { rows: number; cols: number };
  /** image px between cells of the fused grid */
  cellSize: number;
  provider: string;
}

export interface Timings {
  /** decoding and resizing on the main thread */
  decodeMs: number;
  /** waiting for a free worker (and moving buffers) */
  queueMs: number;
  /** inside onnxruntime's session.run, all passes */
  inferMs: number;
  /** tensors, stitching, fusing, label maps, tags and encoding */
  postMs: number;
  totalMs: number;
}

export interface Box { x: number; y: number; width: number; height: number }

export interface Tag {
  label: string;
  id: number;
  score: number;
  coverage: number;
  peak: { x: number; y: number };
  box: Box;
  parents: string[];
}

export interface TagResult {
  model: ModelRef;
  plan: Plan;
  timings: Timings;
  tags: Tag[];
}

export interface LegendEntry { id: number; name: string; color: [number, number, number]; share: number }

export interface ParseResult {
  model: ModelRef;
  plan: Plan;
  timings: Timings;
  width: number;
  height: number;
  legend: LegendEntry[];
  /** per pixel label id, row-major, width x height */
  labels: Uint8Array | Uint16Array;
  /** encoded per format: PNG bytes for png/overlay; for json the caller uses rle() */
  png?: Buffer;
  /** COCO-style uncompressed RLE (column-major counts) per present label; present for format json */
  masks?: Array<{ id: number; name: string; share: number; rle: { size: [number, number]; counts: number[] } }>;
}

export interface ClassMapResult {
  model: ModelRef;
  plan: Plan;
  timings: Timings;
  /** [K, rows, cols] */
  shape: [number, number, number];
  kind: 'logits' | 'probabilities';
  data: Float32Array;
  geometry: { window: number; stride: number; offset: number; exact: boolean; cellSize: number };
  /** image coordinates (original, upright px) of cell (0,0)'s centre and the spacing of cells */
  grid: { originX: number; originY: number; stepX: number; stepY: number };
  labels: string[];
}

export interface ModelSummary {
  name: string;
  version: string;
  sha256: string;
  description: string;
  tasks: Card['tasks'];
  labels: number;
  window: number;
  default: boolean;
}

/** What model/ hands the server and the batch script. */
export interface Tagmap {
  /** resolves when every model is loaded and warmed */
  ready(): Promise<void>;
  isReady(): boolean;
  provider(): string;
  models(): ModelSummary[];
  card(name: string): Card & { sha256: string };
  tag(image: Buffer, options?: TagOptions): Promise<TagResult>;
  parse(image: Buffer, options?: ParseOptions): Promise<ParseResult>;
  classMap(image: Buffer, options?: RunOptions): Promise<ClassMapResult>;
  /** current pool queue depth, for metrics */
  queueDepth(): number;
  /** stop taking work, let running work finish, reject queued work, release sessions */
  close(): Promise<void>;
}

export interface TagmapLogger {
  info(message: string): void;
  warn(message: string): void;
}

export interface TagmapConfig {
  /** folder of model folders (default model/zoo) */
  modelsDir: string;
  /** the model used when a request names none (default: imagenet when present, else the first) */
  defaultModel?: string;
  device: 'auto' | 'cpu' | 'cuda';
  /** worker threads, each owning its own sessions */
  workers: number;
  /** onnxruntime intra-op threads per worker; workers x threads <= cores */
  threadsPerWorker: number;
  /** requests waiting beyond the running ones before new ones are refused */
  maxQueue: number;
  maxPixels: number;
  /** default maxSide when a request gives none, and the largest a request may ask for */
  maxSide: number;
  /** where start-up facts go (provider, CUDA fallback reason); default: warnings to the console */
  logger?: TagmapLogger;
}
