// How a dense pass's cost grows with the image: one model at square sides (256 to 2048 px), with its MACs from
// the graph, so that ms per megapixel and GMAC/s show whether the time stays proportional to the work.
import { readFileSync } from 'node:fs';
import type { ModelEntry } from '../../model/index.ts';
import { denseRunner, photoTensor } from './dense.ts';
import { macCounter } from './flops.ts';

export interface ScalingRow {
  model: string;
  side: number;
  cells: number;
  gmac: number;
  ms: number;
  msPerMpx: number;
  gmacPerSec: number;
}

export async function sizeScaling(
  entry: ModelEntry,
  photo: string,
  sides: number[],
  options: { threads: number; repeats: number },
): Promise<ScalingRow[]> {
  const { card } = entry;
  const counter = await macCounter(readFileSync(entry.modelPath), card.input.name, card.input.channels);
  const runner = await denseRunner(entry, options.threads);
  const rows: ScalingRow[] = [];
  for (const side of sides) {
    const tensor = await photoTensor(photo, card.input, side, side);
    const { ms, map } = await runner.time(tensor, side, side, options.repeats);
    const macs = await counter.macs(1, side, side);
    rows.push({
      model: entry.name,
      side,
      cells: map.dims[2] * map.dims[3],
      gmac: +(macs / 1e9).toFixed(2),
      ms,
      msPerMpx: +(ms / ((side * side) / 1e6)).toFixed(1),
      gmacPerSec: +(macs / ms / 1e6).toFixed(1),
    });
  }
  await runner.release();
  return rows;
}
