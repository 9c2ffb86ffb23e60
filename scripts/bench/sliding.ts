// unrolledVsSliding: one dense pass of an unrolled model over a W x H input against the classic way of
// getting the same class map, the window classifier run on every window at the model's stride. The
// sliding side is made as fast as we could: crops copied row by row into one preallocated batch buffer,
// batched runs through the same onnxruntime session (same threads), and a sweep of batch sizes so that
// the best one is reported (and the others shown).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ModelEntry } from '../../model/index.ts';
import { denseRunner, photoTensor } from './dense.ts';
import { macCounter } from './flops.ts';

export interface SlidingRow {
  model: string;
  width: number;
  height: number;
  /** cells of the dense map = windows the sliding classifier runs */
  windows: number;
  denseMs: number;
  /** best batch size's time for every window; null when the model has no window classifier to slide */
  slidingMs: number | null;
  ratio: number | null;
  /** (windows x MACs of one window) / MACs of the dense pass, from the graph */
  flopRatio: number | null;
  denseGmac: number;
  windowMmac: number;
  bestBatch: number | null;
  /** per-window ms of every batch size tried */
  sweep: Array<{ batch: number; msPerWindow: number; windowsTimed: number }>;
  /** 'all' when every window was run for slidingMs, else per-window time x windows from a timed sample */
  slidingFrom: 'all' | 'sample' | null;
  /** largest |sliding - dense| over the cells the sliding side computed (exact models: rounding only) */
  maxAbsDiff: number | null;
  note?: string;
}

export interface SlidingOptions {
  threads: number;
  repeats: number;
  /** run every window at the best batch size (else extrapolate from the sweep's sample) */
  full: boolean;
  /** timed budget per batch size in the sweep */
  sampleMs: number;
  batches: number[];
  /** largest batch input, bytes */
  maxBatchBytes: number;
}

/** Copies the window at (x0, y0) of a [C, H, W] tensor into `into` at `at`; outside the tensor reads 0. */
export function copyWindow(
  tensor: Float32Array,
  channels: number,
  width: number,
  height: number,
  x0: number,
  y0: number,
  window: number,
  into: Float32Array,
  at: number,
): void {
  const xs = Math.max(0, x0);
  const xe = Math.min(width, x0 + window);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < window; y++) {
      const dst = at + (c * window + y) * window;
      const sy = y0 + y;
      if (sy < 0 || sy >= height || xe <= xs) {
        into.fill(0, dst, dst + window);
        continue;
      }
      if (xs > x0) into.fill(0, dst, dst + (xs - x0));
      const src = (c * height + sy) * width;
      into.set(tensor.subarray(src + xs, src + xe), dst + (xs - x0));
      if (xe < x0 + window) into.fill(0, dst + (xe - x0), dst + window);
    }
  }
}

export async function unrolledVsSliding(
  entry: ModelEntry,
  photo: string,
  width: number,
  height: number,
  options: SlidingOptions,
): Promise<SlidingRow> {
  const { card } = entry;
  const C = card.input.channels;
  const { window, stride, offset } = card.geometry;
  const modelBytes = readFileSync(entry.modelPath);
  const runner = await denseRunner(entry, options.threads);
  const run = runner.run;
  const tensor = await photoTensor(photo, card.input, width, height);
  const { ms: denseMs, map: dense } = await runner.time(tensor, width, height, options.repeats);
  const [, K, rows, cols] = dense.dims;
  const windows = rows * cols;

  const counter = await macCounter(modelBytes, card.input.name, C);
  const denseMacs = await counter.macs(1, width, height);
  const side = Math.max(window, card.input.minSide);
  const windowMacs = await counter.macs(1, side, side);
  const base = {
    model: entry.name,
    width,
    height,
    windows,
    denseMs,
    denseGmac: +(denseMacs / 1e9).toFixed(2),
    windowMmac: +(windowMacs / 1e6).toFixed(2),
  };

  // models whose every cell sees the whole image (global pooling) have no window classifier to slide
  if (counter.opTypes.has('GlobalAveragePool') || counter.opTypes.has('GlobalMaxPool')) {
    await runner.release();
    return {
      ...base,
      slidingMs: null,
      ratio: null,
      flopRatio: null,
      bestBatch: null,
      sweep: [],
      slidingFrom: null,
      maxAbsDiff: null,
      note:
        'global average pooling: every cell depends on the whole image, so no window classifier gives this map; ' +
        'no sliding baseline',
    };
  }

  const size = C * window * window;
  let maxAbsDiff = 0;
  /** Runs windows [first, first + n) through one batch and checks them against the dense map. */
  const runBatch = async (buffer: Float32Array, first: number, n: number) => {
    for (let b = 0; b < n; b++) {
      const cell = (first + b) % windows;
      const x0 = offset + (cell % cols) * stride;
      const y0 = offset + Math.floor(cell / cols) * stride;
      copyWindow(tensor, C, width, height, x0, y0, window, buffer, b * size);
    }
    const out = await run(n === buffer.length / size ? buffer : buffer.subarray(0, n * size), n, window, window);
    if (out.data.length !== n * K) throw new Error(`${entry.name}: a ${window}px window gave ${out.dims.join('x')}`);
    for (let b = 0; b < n; b++) {
      const cell = (first + b) % windows;
      for (let k = 0; k < K; k++)
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(out.data[b * K + k] - dense.data[k * windows + cell]));
    }
  };

  const batches = options.batches.filter((b) => b <= windows && b * size * 4 <= options.maxBatchBytes);
  if (!batches.length) batches.push(1);
  const sweep: SlidingRow['sweep'] = [];
  for (const batch of batches) {
    const buffer = new Float32Array(batch * size); // one buffer per batch size, reused for every run
    await runBatch(buffer, 0, batch); // warm-up: the first run of a new shape plans its memory
    let done = 0;
    const started = performance.now();
    while (done < windows && (done === 0 || performance.now() - started < options.sampleMs)) {
      const n = Math.min(batch, windows - done);
      await runBatch(buffer, done, n);
      done += n;
    }
    sweep.push({ batch, msPerWindow: +((performance.now() - started) / done).toPrecision(4), windowsTimed: done });
  }
  const best = sweep.reduce((a, b) => (b.msPerWindow < a.msPerWindow ? b : a));
  let slidingMs = best.msPerWindow * windows;
  let slidingFrom: SlidingRow['slidingFrom'] = best.windowsTimed === windows ? 'all' : 'sample';
  if (options.full && slidingFrom === 'sample') {
    const buffer = new Float32Array(best.batch * size);
    const started = performance.now();
    for (let first = 0; first < windows; first += best.batch)
      await runBatch(buffer, first, Math.min(best.batch, windows - first));
    slidingMs = performance.now() - started;
    slidingFrom = 'all';
  }
  await runner.release();
  return {
    ...base,
    slidingMs: +slidingMs.toFixed(1),
    ratio: +(slidingMs / denseMs).toFixed(1),
    flopRatio: +((windows * windowMacs) / denseMacs).toFixed(1),
    bestBatch: best.batch,
    sweep,
    slidingFrom,
    maxAbsDiff: +maxAbsDiff.toPrecision(3),
  };
}
