// Multiply-accumulates of a model's Conv, Gemm and MatMul nodes at one input size, from the
// graph: each weight's shape (an initializer, possibly behind DequantizeLinear) times the size of the
// node's output. Output sizes come from one onnxruntime pass of a copy of the model that also returns
// every counted node's output, so no shape inference of our own is needed (Resize, Pad, Concat and the
// rest are whatever onnxruntime makes of them).
import onnxProto from 'onnx-proto';
import { openSession, runSession } from '../../model/index.ts';

const { onnx } = onnxProto;
const COUNTED = new Set(['Conv', 'Gemm', 'MatMul']);
type Int64 = number | { toNumber(): number };
const num = (v: Int64) => (typeof v === 'number' ? v : v.toNumber());

interface CountedNode {
  opType: string;
  output: string;
  /** the weight's dims, [M, C/g, kh, kw] for Conv, [K, N] for Gemm/MatMul */
  weight: number[];
  transB: boolean;
}

export interface MacCounter {
  /** multiply-accumulates of one pass over an [n, channels, height, width] input */
  macs(n: number, width: number, height: number): Promise<number>;
  nodes: number;
  /** every op type in the graph */
  opTypes: Set<string>;
}

/** Follows a node input back through DequantizeLinear/Identity/Cast to an initializer (or Constant) and returns its dims. */
function weightDims(model: onnxProto.onnx.ModelProto, name: string): number[] | undefined {
  const graph = model.graph!;
  const producers = new Map<string, onnxProto.onnx.INodeProto>();
  for (const node of graph.node ?? []) for (const out of node.output ?? []) producers.set(out, node);
  let current = name;
  for (let hops = 0; hops < 8; hops++) {
    const init = graph.initializer?.find((t) => t.name === current);
    if (init) return (init.dims ?? []).map(num);
    const producer = producers.get(current);
    if (!producer) return undefined;
    if (producer.opType === 'Constant') {
      const value = producer.attribute?.find((a) => a.name === 'value')?.t;
      return value ? (value.dims ?? []).map(num) : undefined;
    }
    if (!['DequantizeLinear', 'Identity', 'Cast'].includes(producer.opType ?? '')) return undefined;
    current = producer.input![0];
  }
  return undefined;
}

export async function macCounter(modelBytes: Uint8Array, inputName: string, channels: number): Promise<MacCounter> {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph!;
  const counted: CountedNode[] = [];
  for (const node of graph.node ?? []) {
    if (!COUNTED.has(node.opType ?? '')) continue;
    const weight = weightDims(model, node.input![1]);
    if (!weight) continue; // an activation x activation product: none in the bundled models
    const transB = num(node.attribute?.find((a) => a.name === 'transB')?.i ?? 0) === 1;
    counted.push({ opType: node.opType!, output: node.output![0], weight, transB });
  }
  const already = new Set((graph.output ?? []).map((o) => o.name));
  for (const c of counted) {
    if (already.has(c.output)) continue;
    graph.output!.push(
      onnx.ValueInfoProto.create({
        name: c.output,
        type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT } },
      }),
    );
  }
  const { session } = await openSession(onnx.ModelProto.encode(model).finish(), { device: 'cpu', intraOpThreads: 1 });
  const outputs = [...new Set(counted.map((c) => c.output))];

  async function macs(n: number, width: number, height: number): Promise<number> {
    const data = new Float32Array(n * channels * width * height);
    const out = await runSession(session, inputName, { dims: [n, channels, height, width], data }, outputs);
    let total = 0;
    for (const c of counted) {
      const dims = out[c.output].dims;
      const elements = dims.reduce((a, b) => a * b, 1);
      const w = c.weight;
      if (c.opType === 'Conv') {
        // every output element is one dot product over C/g x kh x kw inputs
        total += elements * w.slice(1).reduce((a, b) => a * b, 1);
      } else {
        const k = c.opType === 'Gemm' && c.transB ? w[1] : w[0];
        total += elements * k;
      }
    }
    return total;
  }
  return { macs, nodes: counted.length, opTypes: new Set((graph.node ?? []).map((n) => n.opType ?? '')) };
}
