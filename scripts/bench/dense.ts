// One model's dense pass as the bench times it: the photo resized to exactly W x H and normalised as tagmap
// does (no padding), run through one onnxruntime session on the CPU, median of `repeats` after a warm-up.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { buildTensor, decodeImage, openSession, runSession, type Card, type ModelEntry } from '../../model/index.ts';

type Session = Awaited<ReturnType<typeof openSession>>['session'];
type Output = Awaited<ReturnType<typeof runSession>>[string];

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export async function photoTensor(photo: string, input: Card['input'], width: number, height: number) {
  const size = { width, height };
  const pixels = await decodeImage(readFileSync(photo), { channels: input.channels, maxPixels: 1 << 30, size });
  return buildTensor(pixels, { padLeft: 0, padTop: 0, left: 0, top: 0, ...size }, input);
}

export interface DenseRunner {
  session: Session;
  /** one pass over a [n, C, h, w] input: the model's output map */
  run(data: Float32Array, n: number, width: number, height: number): Promise<Output>;
  /** median ms of `repeats` passes after a warm-up, and the map */
  time(data: Float32Array, width: number, height: number, repeats: number): Promise<{ ms: number; map: Output }>;
  release(): Promise<void>;
}

/**
 * A session with `threads` intra-op threads over the entry's file, or over other bytes for the same card
 * (`model`); `profilePrefix` turns on onnxruntime's profiler.
 */
export async function denseRunner(
  entry: ModelEntry,
  threads: number,
  { model, profilePrefix }: { model?: Uint8Array; profilePrefix?: string } = {},
): Promise<DenseRunner> {
  const { card } = entry;
  const { session } = await openSession(model ?? entry.modelPath, {
    device: 'cpu',
    intraOpThreads: threads,
    profilePrefix,
  });
  const run = async (data: Float32Array, n: number, width: number, height: number) => {
    const dims = [n, card.input.channels, height, width];
    return (await runSession(session, card.input.name, { dims, data }, [card.output.name]))[card.output.name];
  };
  const time = async (data: Float32Array, width: number, height: number, repeats: number) => {
    const map = await run(data, 1, width, height);
    const times: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const started = performance.now();
      await run(data, 1, width, height);
      times.push(performance.now() - started);
    }
    return { ms: +median(times).toFixed(1), map };
  };
  return { session, run, time, release: () => session.release() };
}
