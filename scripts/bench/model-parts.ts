// The per-model sections of `npm run bench`, each over the chosen bundled models: unrolledVsSliding,
// int8VsFloat, ortVsTorch, computeEfficiency and the size scaling of the dense pass. Each prints a line per row.
import type { ModelEntry } from '../../model/index.ts';
import { computeEfficiency, type EfficiencyRow } from './efficiency.ts';
import { int8VsFloat, type Int8Row } from './int8-float.ts';
import { peakRate, type Peak } from './peak.ts';
import { sizeScaling, type ScalingRow } from './scaling.ts';
import { unrolledVsSliding, type SlidingRow } from './sliding.ts';
import { ortVsTorch, type TorchRow } from './torch.ts';

export interface ModelPartOptions {
  entries: ModelEntry[];
  photo: string;
  /** more photos for int8VsFloat's agreement (the first is `photo`) */
  agreementPhotos: string[];
  threads: number;
  repeats: number;
  sizes: ReadonlyArray<readonly [number, number]>;
  /** the W x H of int8VsFloat, ortVsTorch and computeEfficiency */
  large: readonly [number, number];
  sliding: { full: boolean; sampleMs: number; batches: number[] };
  peakSize: number;
  scalingModels: string[];
  scalingSides: number[];
  torchModel: string;
}

const sizeOf = (o: ModelPartOptions) => ({ width: o.large[0], height: o.large[1] });

export async function slidingPart(o: ModelPartOptions): Promise<SlidingRow[]> {
  const rows: SlidingRow[] = [];
  for (const entry of o.entries) {
    for (const [width, height] of o.sizes) {
      const row = await unrolledVsSliding(entry, o.photo, width, height, {
        threads: o.threads,
        repeats: o.repeats,
        ...o.sliding,
        maxBatchBytes: 160 << 20,
      });
      rows.push(row);
      const sweep = row.sweep.map((s) => `b${s.batch} ${s.msPerWindow}`).join(', ');
      console.log(
        `  ${entry.name} ${width}x${height}: dense ${row.denseMs} ms, sliding ${row.slidingMs ?? '-'} ms` +
          (row.ratio === null ? ` (${row.note})` : ` (x${row.ratio}, flops x${row.flopRatio}; ms/window: ${sweep})`),
      );
    }
  }
  return rows;
}

export async function int8Part(o: ModelPartOptions): Promise<Int8Row[]> {
  const rows: Int8Row[] = [];
  for (const entry of o.entries) {
    const row = await int8VsFloat(entry, [o.photo, ...o.agreementPhotos], {
      threads: o.threads,
      repeats: o.repeats,
      ...sizeOf(o),
    });
    if (!row) continue;
    rows.push(row);
    console.log(
      `  ${row.model}: int8 ${row.int8Ms} ms, float ${row.floatMs} ms (x${row.speedup}); top class agrees on ` +
        `${(100 * row.topAgreement).toFixed(1)}% of ${row.cells} cells, max probability difference ${row.maxProbDiff}`,
    );
  }
  return rows;
}

export async function torchPart(o: ModelPartOptions): Promise<TorchRow | undefined> {
  const entry = o.entries.find((e) => e.name === o.torchModel);
  if (!entry) return undefined;
  const row = await ortVsTorch(entry, o.photo, { threads: o.threads, repeats: o.repeats, ...sizeOf(o) });
  console.log(
    `  ${row.model} ${row.width}x${row.height}: onnxruntime ${row.ortMs} ms, PyTorch ${row.torch} eager ` +
      `${row.torchMs} ms (x${row.ratio}; max |difference| ${row.maxAbsDiff})`,
  );
  return row;
}

export async function efficiencyPart(o: ModelPartOptions): Promise<{ peak: Peak; rows: EfficiencyRow[] }> {
  const peak = await peakRate(o.threads, o.peakSize);
  console.log(`  peak: ${peak.size}x${peak.size} float32 MatMul, ${peak.ms} ms = ${peak.gflopPerSec} GFLOP/s`);
  const rows: EfficiencyRow[] = [];
  for (const entry of o.entries) {
    const row = await computeEfficiency(entry, o.photo, peak.gflopPerSec, {
      threads: o.threads,
      repeats: o.repeats,
      ...sizeOf(o),
    });
    rows.push(row);
    const top = row.profile.slice(0, 3).map((p) => `${p.op} ${Math.round(100 * p.share)}%`);
    console.log(`  ${row.model}: ${row.gflopPerSec} GFLOP/s = ${row.fraction} of peak (${top.join(', ')})`);
  }
  return { peak, rows };
}

export async function scalingPart(o: ModelPartOptions): Promise<ScalingRow[]> {
  const rows: ScalingRow[] = [];
  for (const entry of o.entries.filter((e) => o.scalingModels.includes(e.name))) {
    const part = await sizeScaling(entry, o.photo, o.scalingSides, { threads: o.threads, repeats: o.repeats });
    rows.push(...part);
    console.log(`  ${entry.name}: ${part.map((r) => `${r.side} px ${r.ms} ms`).join(', ')}`);
  }
  return rows;
}
