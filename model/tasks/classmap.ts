// classMap(): the fused dense class map itself, with the geometry that places its cells in the image.
import type { RunOptions } from '../contract/options.ts';
import type { ClassMapResult } from '../contract/results.ts';
import { resolveRun, type ResolvedRun } from '../runtime/options.ts';
import { modelRefOf, timingsOf } from '../runtime/run.ts';
import type { Task } from './task.ts';

export const classMapTask: Task<RunOptions, ResolvedRun, ClassMapResult> = {
  labelMap: false,
  resolve: resolveRun,
  answer(ran) {
    const { entry, result, plan } = ran;
    const { grid } = result;
    return {
      model: modelRefOf(entry),
      plan,
      timings: timingsOf(ran),
      shape: [result.classes, grid.rows, grid.cols],
      kind: entry.card.output.kind,
      data: result.map,
      geometry: { ...entry.card.geometry, cellSize: plan.cellSize },
      grid: { originX: grid.originX, originY: grid.originY, stepX: grid.stepX, stepY: grid.stepY },
      labels: entry.card.labels.map((l) => l.name),
    };
  },
};
