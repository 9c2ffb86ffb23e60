// computeEfficiency: each model's dense pass at W x H as a rate of float operations (2 per multiply-accumulate,
// counted from the graph), against the peak this machine reaches in the same run (peak.ts). A second, profiled
// pass says where the time goes: each op type's share of onnxruntime's kernel time.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ModelEntry } from '../../model/index.ts';
import { denseRunner, photoTensor } from './dense.ts';
import { macCounter } from './flops.ts';

export interface EfficiencyRow {
  model: string;
  width: number;
  height: number;
  gmac: number;
  denseMs: number;
  gflopPerSec: number;
  peakGflopPerSec: number;
  fraction: number;
  /** op types by their share of the profiled pass's kernel time, largest first */
  profile: Array<{ op: string; nodes: number; share: number }>;
}

interface ProfileEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

/** Kernel time by op type from one onnxruntime profile file (one pass). */
function opShares(file: string): EfficiencyRow['profile'] {
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
  const time = new Map<string, number>();
  const nodes = new Map<string, Set<string>>();
  for (const e of events) {
    const op = e.args?.op_name;
    if (e.cat !== 'Node' || !op || !e.name?.endsWith('_kernel_time')) continue;
    time.set(op, (time.get(op) ?? 0) + (e.dur ?? 0));
    nodes.set(op, (nodes.get(op) ?? new Set()).add(e.name));
  }
  const total = [...time.values()].reduce((a, b) => a + b, 0);
  return [...time]
    .sort((a, b) => b[1] - a[1])
    .map(([op, us]) => ({ op, nodes: nodes.get(op)!.size, share: +(us / total).toFixed(3) }));
}

async function profiledPass(entry: ModelEntry, threads: number, tensor: Float32Array, width: number, height: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-profile-'));
  try {
    const runner = await denseRunner(entry, threads, { profilePrefix: path.join(dir, 'profile') });
    await runner.run(tensor, 1, width, height);
    runner.session.endProfiling();
    await runner.release();
    const [file] = readdirSync(dir);
    return opShares(path.join(dir, file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function computeEfficiency(
  entry: ModelEntry,
  photo: string,
  peakGflopPerSec: number,
  options: { threads: number; repeats: number; width: number; height: number },
): Promise<EfficiencyRow> {
  const { width, height, threads } = options;
  const counter = await macCounter(readFileSync(entry.modelPath), entry.card.input.name, entry.card.input.channels);
  const macs = await counter.macs(1, width, height);
  const tensor = await photoTensor(photo, entry.card.input, width, height);
  const runner = await denseRunner(entry, threads);
  const { ms } = await runner.time(tensor, width, height, options.repeats);
  await runner.release();
  const gflopPerSec = (2 * macs) / ms / 1e6;
  return {
    model: entry.name,
    width,
    height,
    gmac: +(macs / 1e9).toFixed(2),
    denseMs: ms,
    gflopPerSec: +gflopPerSec.toFixed(1),
    peakGflopPerSec,
    fraction: +(gflopPerSec / peakGflopPerSec).toFixed(2),
    profile: await profiledPass(entry, threads, tensor, width, height),
  };
}
