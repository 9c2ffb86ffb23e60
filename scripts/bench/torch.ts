// ortVsTorch: the same unrolled net over the same W x H input, tagmap's onnxruntime path (one session, the
// server's session options) against PyTorch eager (Debian's python3-torch, torch_dense.py) at the same thread
// count. ratio = torchMs / ortMs; maxAbsDiff between the two maps shows they computed the same thing.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ModelEntry } from '../../model/index.ts';
import { denseRunner, photoTensor } from './dense.ts';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');

export interface TorchRow {
  model: string;
  width: number;
  height: number;
  threads: number;
  ortMs: number;
  torchMs: number;
  ratio: number;
  maxAbsDiff: number;
  torch: string;
}

export async function ortVsTorch(
  entry: ModelEntry,
  photo: string,
  options: { threads: number; repeats: number; width: number; height: number },
): Promise<TorchRow> {
  const { width, height, threads, repeats } = options;
  const tensor = await photoTensor(photo, entry.card.input, width, height);
  const runner = await denseRunner(entry, threads);
  const ort = await runner.time(tensor, width, height, repeats);
  await runner.release();
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-torch-'));
  try {
    const input = path.join(dir, 'input.f32');
    const output = path.join(dir, 'output.f32');
    writeFileSync(input, tensor);
    const args = [path.join(REPO, 'scripts/python.mjs'), path.join(REPO, 'scripts/bench/torch_dense.py')];
    args.push('--model', entry.modelPath, '--input', input, '--output', output);
    args.push('--dims', [1, entry.card.input.channels, height, width].join(','), '--threads', String(threads));
    args.push('--repeats', String(repeats));
    const { stdout } = await run(process.execPath, args, {
      cwd: REPO,
      env: { ...process.env, PYTHONPATH: REPO, OMP_NUM_THREADS: String(threads) },
      maxBuffer: 1 << 20,
    });
    const torch = JSON.parse(stdout.trim().split('\n').at(-1)!) as { torchMs: number; torch: string };
    const bytes = readFileSync(output);
    const map = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    if (map.length !== ort.map.data.length)
      throw new Error(`torch map has ${map.length} values, onnxruntime's ${ort.map.data.length}`);
    let maxAbsDiff = 0;
    for (let i = 0; i < map.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(map[i] - ort.map.data[i]));
    return {
      model: entry.name,
      width,
      height,
      threads,
      ortMs: ort.ms,
      torchMs: +torch.torchMs.toFixed(1),
      ratio: +(torch.torchMs / ort.ms).toFixed(2),
      maxAbsDiff: +maxAbsDiff.toPrecision(3),
      torch: torch.torch,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
