// An inference worker thread (piscina): owns one onnxruntime session per model, opened and warmed when
// the thread starts, and turns resized pixels into a fused class map (and a label map when asked).
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { fuse, resample, stitch, type DenseMap } from './densemap.ts';
import type { InferJob, InferResult, WorkerInit, WorkerModel, WorkerReady } from './job.ts';
import { labelMap } from './labelmap.ts';
import { openSession, runSession, type OpenedSession } from './ort.ts';
import { cellGridOf } from './layout.ts';
import { buildTensor } from './tensor.ts';

const init = workerData as WorkerInit;
const sessions = new Map<string, { model: WorkerModel; opened: OpenedSession }>();

async function runPass(
  entry: { model: WorkerModel; opened: OpenedSession },
  data: Float32Array,
  width: number,
  height: number,
): Promise<DenseMap> {
  const { model, opened } = entry;
  const out = await runSession(
    opened.session,
    model.input.name,
    { dims: [1, model.input.channels, height, width], data },
    [model.output.name],
  );
  const { dims, data: scores } = out[model.output.name];
  if (dims.length !== 4 || dims[0] !== 1 || dims[1] !== model.classes) {
    throw new Error(
      `${model.name}: output "${model.output.name}" has shape [${dims.join(', ')}]; ` +
        `the card's ${model.classes} labels need [1, ${model.classes}, h, w]`,
    );
  }
  return { data: scores, classes: dims[1], rows: dims[2], cols: dims[3] };
}

async function openAndWarm(model: WorkerModel) {
  const opened = await openSession(model.path, { device: init.device, intraOpThreads: init.intraOpThreads });
  const entry = { model, opened };
  const side = Math.max(model.geometry.window, model.input.minSide);
  await runPass(entry, new Float32Array(model.input.channels * side * side), side, side);
  sessions.set(model.name, entry);
  return opened;
}

const opened = [];
for (const model of init.models) opened.push(await openAndWarm(model));
const ready: WorkerReady = {
  kind: 'tagmap-worker-ready',
  provider: opened[0]?.provider ?? 'cpu',
  fallbackReason: opened[0]?.fallbackReason,
};
parentPort?.postMessage(ready);

/** Returns the value with its buffers transferred instead of copied. */
function transfer<T extends object>(value: T, buffers: ArrayBufferLike[]) {
  return Piscina.move({ [Piscina.transferableSymbol]: buffers, [Piscina.valueSymbol]: value } as never);
}

export default async function infer(job: InferJob) {
  const started = performance.now();
  const entry = sessions.get(job.model);
  if (!entry) throw new Error(`worker has no session for model "${job.model}"`);
  const { model } = entry;
  let runMs = 0;

  const scaled = [];
  for (const { plan, pixels } of job.scales) {
    const image = {
      data: new Uint8Array(pixels),
      width: plan.width,
      height: plan.height,
      channels: model.input.channels,
    };
    const passes: DenseMap[] = [];
    for (let ky = 0; ky < plan.density; ky++) {
      for (let kx = 0; kx < plan.density; kx++) {
        const crop = {
          padLeft: plan.padLeft,
          padTop: plan.padTop,
          left: kx * plan.shiftStep,
          top: ky * plan.shiftStep,
          width: plan.tensorWidth,
          height: plan.tensorHeight,
        };
        const tensor = buildTensor(image, crop, model.input);
        const runStart = performance.now();
        passes.push(await runPass(entry, tensor, plan.tensorWidth, plan.tensorHeight));
        runMs += performance.now() - runStart;
      }
    }
    const map = stitch(passes, plan.density);
    scaled.push({ map, grid: cellGridOf(plan, model.geometry, map.rows, map.cols) });
  }

  // the finest grid (smallest cell spacing) is the one every scale is resampled to
  const finest = scaled.reduce((best, s) => (s.grid.stepX < best.grid.stepX ? s : best));
  const fused = fuse(
    scaled.map((s) => resample(s.map, s.grid, finest.grid)),
    job.fuse,
  );
  const labels = job.labelMap ? labelMap(fused, finest.grid, job.image.width, job.image.height) : undefined;

  const result: InferResult = {
    map: fused.data,
    classes: fused.classes,
    grid: finest.grid,
    labels,
    provider: entry.opened.provider,
    runMs,
    workerMs: performance.now() - started,
  };
  return transfer(result, labels ? [fused.data.buffer, labels.buffer] : [fused.data.buffer]);
}
