// The server sections of `npm run bench`: serverVsInProcess (with the concurrency sweep and the server's
// memory), then batchVsServer against the same server while it runs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../model/index.ts';
import { batchFolder, batchRun, type BatchRun } from './batch.ts';
import { httpLoad, inProcessLoad, openTagmap, startServer, type LoadStats } from './serve.ts';

export interface ServerPartOptions {
  repoRoot: string;
  photos: string;
  count: number;
  seconds: number;
  /** the sweep's load runs, seconds */
  sweepSeconds: number;
  sweep: number[];
  concurrency?: number;
  /** images in the batch folder; 0 skips batchVsServer */
  batchImages: number;
}

function loadPhotos(dir: string, count: number): Buffer[] {
  if (!existsSync(dir)) throw new Error(`no photos folder ${dir} (give one with --photos)`);
  const files = readdirSync(dir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, count);
  if (!files.length) throw new Error(`no JPEG photos in ${dir}`);
  return files.map((f) => readFileSync(path.join(dir, f)));
}

/** The smallest concurrency within 5% of the best in-process throughput, at least two jobs per worker. */
async function saturatingConcurrency(
  tagmap: Awaited<ReturnType<typeof openTagmap>>,
  photos: Buffer[],
  model: string,
  options: ServerPartOptions,
  workers: number,
) {
  const sweep: LoadStats[] = [];
  for (const c of options.sweep) {
    const stats = await inProcessLoad(tagmap, photos, model, c, options.sweepSeconds);
    sweep.push(stats);
    console.log(`  in-process c=${c}: ${stats.imagesPerSec} images/s, p50 ${stats.p50Ms} ms, p99 ${stats.p99Ms} ms`);
  }
  const best = Math.max(...sweep.map((s) => s.imagesPerSec));
  const concurrency = sweep.find((s) => s.imagesPerSec >= 0.95 * best)!.concurrency;
  return { sweep, concurrency: Math.max(concurrency, 2 * workers) };
}

export async function serverPart(options: ServerPartOptions, model: string) {
  const photos = loadPhotos(options.photos, options.count);
  const config = defaultConfig();
  const layout = { workers: config.workers, threadsPerWorker: config.threadsPerWorker, cores: availableParallelism() };
  console.log(
    `serverVsInProcess: ${photos.length} photos, model=${model}, ` +
      `${layout.workers} worker(s) x ${layout.threadsPerWorker} intra-op thread(s) on ${layout.cores} cores`,
  );

  const tagmap = await openTagmap();
  await inProcessLoad(tagmap, photos, model, 1, 1); // warm-up
  const { sweep, concurrency } = options.concurrency
    ? { sweep: [], concurrency: options.concurrency }
    : await saturatingConcurrency(tagmap, photos, model, options, layout.workers);
  const inProcess = await inProcessLoad(tagmap, photos, model, concurrency, options.seconds);
  console.log(
    `  in-process c=${concurrency}: ${inProcess.imagesPerSec} images/s, p50 ${inProcess.p50Ms} ms, ` +
      `p99 ${inProcess.p99Ms} ms; median ${JSON.stringify(inProcess.medianTimings)}`,
  );
  await tagmap.close();

  const server = await startServer(options.repoRoot, {});
  const batch: BatchRun[] = [];
  const folder = options.batchImages ? batchFolder(photos, options.batchImages) : undefined;
  try {
    await httpLoad(server, photos, model, 1, Math.min(2, options.seconds)); // warm-up
    const http = await httpLoad(server, photos, model, concurrency, options.seconds);
    console.log(
      `  HTTP c=${concurrency}: ${http.imagesPerSec} images/s, p50 ${http.p50Ms} ms, p99 ${http.p99Ms} ms, ` +
        `/healthz p99 ${http.healthzP99Ms} ms, errors ${http.errors}`,
    );
    if (folder) {
      console.log(
        `batchVsServer: npm run tag on ${folder.images} photos, against the server's ${http.imagesPerSec} images/s`,
      );
      batch.push(await batchRun(options.repoRoot, folder, model, http.imagesPerSec, server.url));
      console.log(`  --server: ${batch[0].imagesPerSec} images/s (x${batch[0].ratio})`);
    }
    await server.stop();
    if (folder) {
      batch.push(await batchRun(options.repoRoot, folder, model, http.imagesPerSec));
      console.log(`  in-process: ${batch[1].imagesPerSec} images/s (x${batch[1].ratio})`);
    }
    return { concurrency, inProcess, http, sweep, layout, batch };
  } finally {
    await server.stop();
    folder?.remove();
  }
}
