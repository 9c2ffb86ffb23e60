// An inference worker thread (piscina): owns one onnxruntime session per model, the preload set opened and
// warmed when the thread starts, the others when the pool says so (or a job needs one), each released again when
// the pool says so; turns resized pixels into a fused class map (and a label map when asked).
import { performance } from 'node:perf_hooks';
import { BroadcastChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { fuse, resample, stitch, type DenseMap } from './densemap.ts';
import type { CommandDone, InferJob, InferResult, ModelCommand, WorkerInit, WorkerModel, WorkerReady } from './job.ts';
import { labelMap } from './labelmap.ts';
import { openSession, runSession, type OpenedSession } from './ort.ts';
import { cellGridOf } from './layout.ts';
import { buildTensor } from './tensor.ts';

interface Session {
  model: WorkerModel;
  opened: OpenedSession;
}

const init = workerData as WorkerInit;
const models = new Map(init.models.map((model) => [model.name, model]));
/** open or opening sessions, by model name */
const sessions = new Map<string, Promise<Session>>();

async function runPass(entry: Session, data: Float32Array, width: number, height: number): Promise<DenseMap> {
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

async function openAndWarm(model: WorkerModel): Promise<Session> {
  const opened = await openSession(model.path, { device: init.device, intraOpThreads: init.intraOpThreads });
  const entry = { model, opened };
  const side = Math.max(model.geometry.window, model.input.minSide);
  await runPass(entry, new Float32Array(model.input.channels * side * side), side, side);
  return entry;
}

function sessionFor(name: string): Promise<Session> {
  const open = sessions.get(name);
  if (open) return open;
  const model = models.get(name);
  if (!model) return Promise.reject(new Error(`worker has no model "${name}"`));
  const opening = openAndWarm(model);
  sessions.set(name, opening);
  opening.catch(() => sessions.get(name) === opening && sessions.delete(name));
  return opening;
}

async function release(name: string): Promise<void> {
  const open = sessions.get(name);
  if (!open) return;
  sessions.delete(name);
  await (await open).opened.session.release();
}

const commands = new BroadcastChannel(init.channel);
commands.unref();
commands.onmessage = async (event) => {
  const command = (event as { data: ModelCommand }).data;
  const done: CommandDone = { kind: 'tagmap-worker-done', id: command.id, threadId };
  try {
    await (command.kind === 'load' ? sessionFor(command.model) : release(command.model));
  } catch (error) {
    done.error = error instanceof Error ? error.message : String(error);
  }
  parentPort?.postMessage(done);
};

const opened = [];
for (const name of init.preload) opened.push((await sessionFor(name)).opened);
const ready: WorkerReady = {
  kind: 'tagmap-worker-ready',
  threadId,
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
  // the pool loads a model in every worker before sending it jobs; a worker started since (after a crash) opens it here
  const wasOpen = sessions.has(job.model);
  const entry = await sessionFor(job.model);
  const openMs = wasOpen ? 0 : performance.now() - started;
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
    openMs,
    runMs,
    workerMs: performance.now() - started,
  };
  return transfer(result, labels ? [fused.data.buffer, labels.buffer] : [fused.data.buffer]);
}
