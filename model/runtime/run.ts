// The stages every request takes before its task makes the answer: admit (a pool slot, or 503 at once), hold
// the model (waiting while it loads), decode (the header read once, then one decode per scale straight to its
// size), plan, and run on the pool.
import { performance } from 'node:perf_hooks';
import type { Plan, Timings } from '../contract/results.ts';
import { decodeImage, readHeader, type ImageHeader } from '../io/image.ts';
import type { InferResult } from './job.ts';
import type { ResolvedRun } from './options.ts';
import type { Held, Residency } from './residency.ts';
import type { ModelEntry } from './registry.ts';
import { layoutScales } from './layout.ts';
import type { InferencePool } from './worker-pool.ts';

/** One image run through one model: what the task modules turn into their answers. */
export interface Ran {
  entry: ModelEntry;
  /** the original image bytes */
  image: Buffer;
  header: ImageHeader;
  result: InferResult;
  plan: Plan;
  /** loadMs, decodeMs, queueMs and inferMs; the rest of the time is post-processing */
  timings: Omit<Timings, 'postMs' | 'totalMs'>;
  started: number;
}

export type Runner = (image: Buffer, entry: ModelEntry, options: ResolvedRun, labelMap: boolean) => Promise<Ran>;

export function createRunner(pool: InferencePool, residency: Residency, maxPixels: number): Runner {
  return async (image, entry, options, labelMap) => {
    const started = performance.now();
    const release = pool.admit();
    let held: Held | undefined;
    try {
      const { channels } = entry.card.input;
      // an image that cannot be read is refused before its model is loaded
      const header = await readHeader(image, maxPixels);
      const plans = layoutScales(header, entry.card, options);
      held = await residency.acquire(entry.name);
      // one decode per scale, straight to its size (JPEG shrinks while decoding)
      const resized = await Promise.all(plans.map((size) => decodeImage(image, { channels, maxPixels, size })));
      const decodeMs = performance.now() - started - held.loadMs;
      const scales = plans.map((plan, n) => ({ plan, pixels: Uint8Array.from(resized[n].data).buffer }));
      const result = await pool.run({ model: entry.name, image: header, scales, fuse: options.fuse, labelMap });
      const poolMs = performance.now() - started - held.loadMs - decodeMs;
      const plan: Plan = {
        image: { width: header.width, height: header.height },
        inputs: plans.map((p) => ({ scale: p.scale, width: p.tensorWidth, height: p.tensorHeight })),
        scales: options.scales,
        density: options.density,
        grid: { rows: result.grid.rows, cols: result.grid.cols },
        cellSize: (result.grid.stepX + result.grid.stepY) / 2,
        provider: result.provider,
      };
      const timings = {
        loadMs: held.loadMs + result.openMs,
        decodeMs,
        queueMs: Math.max(0, poolMs - result.workerMs),
        inferMs: result.runMs,
      };
      return { entry, image, header, result, plan, timings, started };
    } finally {
      held?.release();
      release();
    }
  };
}

/** The timings so far, post-processing being everything after the pool. */
export function timingsOf(ran: Ran): Timings {
  const totalMs = performance.now() - ran.started;
  const { loadMs, decodeMs, queueMs, inferMs } = ran.timings;
  return { loadMs, decodeMs, queueMs, inferMs, postMs: totalMs - loadMs - decodeMs - queueMs - inferMs, totalMs };
}

export const modelRefOf = (entry: ModelEntry) => ({
  name: entry.name,
  version: entry.card.version,
  sha256: entry.sha256,
});
