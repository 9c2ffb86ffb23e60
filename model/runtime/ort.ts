// The one module that imports onnxruntime-node. Everything else asks it for sessions and runs.
// session.run() blocks the calling thread, so the server only calls this from worker threads;
// command-line tools (importer, verifier) may call it directly.
import * as ort from 'onnxruntime-node';
import { TagmapError } from '../contract/errors.ts';
import type { Device } from '../contract/settings.ts';

// onnxruntime's own logger prints a red error when CUDA libraries are missing, even when device=auto then
// runs on the CPU as intended; failures still reach us as exceptions, and the pool logs the fallback once.
ort.env.logLevel = 'fatal';

export type Provider = 'cpu' | 'cuda';

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: Provider;
  /** why CUDA was not used, when device was auto and CUDA failed */
  fallbackReason?: string;
}

export interface SessionOptions {
  device: Device;
  intraOpThreads: number;
  /** write onnxruntime's per-node profile (JSON) to a file starting with this (the bench's profiles) */
  profilePrefix?: string;
}

function baseOptions({ intraOpThreads, profilePrefix }: SessionOptions): ort.InferenceSession.SessionOptions {
  return {
    ...(profilePrefix && { enableProfiling: true, profileFilePrefix: profilePrefix }),
    intraOpNumThreads: intraOpThreads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    // Input sizes change with every image; the arena would keep the largest allocation forever.
    enableCpuMemArena: false,
    logSeverityLevel: 3,
    // No busy-waiting: by default an intra-op thread spins on its core after each parallel section, waiting
    // for the next. With workers x threads filling the cores, those spins take the CPU that sharp's decodes,
    // the main thread (HTTP, post-processing) and the next job's own tensor building need; measured on 2
    // cores at saturation, turning them off raised throughput by about 30% (docs/benchmarks.md).
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  };
}

/** Opens a session on CUDA when asked or available (auto), else on the CPU. */
export async function openSession(model: string | Uint8Array, options: SessionOptions): Promise<OpenedSession> {
  const create = (provider: Provider) =>
    typeof model === 'string'
      ? ort.InferenceSession.create(model, { ...baseOptions(options), executionProviders: [provider] })
      : ort.InferenceSession.create(model, { ...baseOptions(options), executionProviders: [provider] });

  if (options.device === 'cpu') return { session: await create('cpu'), provider: 'cpu' };
  try {
    return { session: await create('cuda'), provider: 'cuda' };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (options.device === 'cuda') {
      throw new TagmapError(
        'internal',
        `TAGMAP_DEVICE=cuda but the CUDA execution provider could not start: ${reason}. ` +
          'Install onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12 on a machine with CUDA 12, ' +
          'or use TAGMAP_DEVICE=auto|cpu.',
      );
    }
    return { session: await create('cpu'), provider: 'cpu', fallbackReason: reason };
  }
}

export interface NamedTensor {
  dims: number[];
  data: Float32Array;
}

/** Runs one float32 input through the session and returns the named float32 outputs. */
export async function runSession(
  session: ort.InferenceSession,
  inputName: string,
  input: NamedTensor,
  outputNames: string[],
): Promise<Record<string, NamedTensor>> {
  const feeds = { [inputName]: new ort.Tensor('float32', input.data, input.dims) };
  const results = await session.run(feeds, outputNames);
  const out: Record<string, NamedTensor> = {};
  for (const name of outputNames) {
    const tensor = results[name];
    out[name] = { dims: [...tensor.dims], data: tensor.data as Float32Array };
    tensor.dispose();
  }
  return out;
}

export const ortVersion = (): string => ort.env.versions.node ?? 'unknown';
