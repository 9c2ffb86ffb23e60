// batchVsServer: `npm run tag` on a folder of the load photos (repeated to `images` files), in-process and with
// --server against a running server, each against the server's saturated throughput from serverVsInProcess.
// The rate is the batch script's own summary (from its first input to its last row, after its models or its
// server connection are up); wall-clock rates, start-up included, are reported beside it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BatchRun {
  mode: 'in-process' | 'server';
  images: number;
  rows: number;
  imagesPerSec: number;
  wallImagesPerSec: number;
  ratio: number;
}

export interface BatchFolder {
  dir: string;
  images: number;
  remove(): void;
}

export function batchFolder(photos: Buffer[], images: number): BatchFolder {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-batch-'));
  for (let n = 0; n < images; n++)
    writeFileSync(path.join(dir, `photo${String(n).padStart(4, '0')}.jpg`), photos[n % photos.length]);
  return { dir, images, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One `npm run tag` of the folder; `server` is the URL for --server, else in-process. */
export async function batchRun(
  repoRoot: string,
  folder: BatchFolder,
  model: string,
  serverImagesPerSec: number,
  server?: string,
): Promise<BatchRun> {
  const out = path.join(folder.dir, '..', `${path.basename(folder.dir)}-${server ? 'server' : 'local'}.jsonl`);
  const args = ['--import', 'tsx', path.join(repoRoot, 'scripts/tag.ts'), folder.dir, '--model', model, '--out', out];
  if (server) args.push('--server', server);
  const started = performance.now();
  try {
    const { stderr } = await run(process.execPath, args, { cwd: repoRoot, maxBuffer: 16 << 20 });
    const wallSeconds = (performance.now() - started) / 1000;
    const rate = /\(([\d.]+) images\/s\)/.exec(stderr);
    if (!rate) throw new Error(`npm run tag printed no summary: ${stderr.slice(-500)}`);
    const rows = readFileSync(out, 'utf8').trim().split('\n').length;
    const imagesPerSec = Number(rate[1]);
    return {
      mode: server ? 'server' : 'in-process',
      images: folder.images,
      rows,
      imagesPerSec,
      wallImagesPerSec: +(folder.images / wallSeconds).toFixed(2),
      ratio: +(imagesPerSec / serverImagesPerSec).toFixed(2),
    };
  } finally {
    rmSync(out, { force: true });
  }
}
