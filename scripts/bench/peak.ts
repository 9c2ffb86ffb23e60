// The machine's reachable float32 rate: one N x N by N x N matrix product (MatMul, the weight an initializer)
// in onnxruntime with the same thread count as the models. MLAS's SGEMM is the best-tuned kernel onnxruntime
// has, so its rate is the ceiling the models' passes are measured against (computeEfficiency).
import { performance } from 'node:perf_hooks';
import onnxProto from 'onnx-proto';
import { openSession, runSession } from '../../model/index.ts';

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function matMulModel(n: number): Uint8Array {
  const weight = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'peak',
      node: [{ opType: 'MatMul', input: ['a', 'b'], output: ['c'], name: 'matmul' }],
      initializer: [{ name: 'b', dims: [n, n], dataType: FLOAT, rawData: new Uint8Array(weight.buffer) }],
      input: [
        { name: 'a', type: { tensorType: { elemType: FLOAT, shape: { dim: [{ dimValue: n }, { dimValue: n }] } } } },
      ],
      output: [{ name: 'c', type: { tensorType: { elemType: FLOAT } } }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

export interface Peak {
  size: number;
  ms: number;
  gflopPerSec: number;
}

/** Median of `repeats` timed products after one warm-up. */
export async function peakRate(threads: number, size = 4096, repeats = 3): Promise<Peak> {
  const { session } = await openSession(matMulModel(size), { device: 'cpu', intraOpThreads: threads });
  const a = new Float32Array(size * size).fill(0.5);
  const run = () => runSession(session, 'a', { dims: [size, size], data: a }, ['c']);
  await run();
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  await session.release();
  const ms = times.sort((x, y) => x - y)[Math.floor(times.length / 2)];
  return { size, ms: +ms.toFixed(1), gflopPerSec: +((2 * size ** 3) / ms / 1e6).toFixed(1) };
}
