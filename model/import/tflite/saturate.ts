// The saturation of a quantized TFLite file in its float conversion. A uint8/int8 activation holds only
// [scale * (qmin - zero_point), scale * (qmax - zero_point)]: whatever its op computes beyond that is clamped when
// the file runs, and the file's later layers were trained and calibrated on the clamped values. Mostly the ranges
// are wide enough that little saturates, but not always (Coral's MobileNet-EdgeTPU DeepLab clamps its image-pooling
// branch at 2.27 where the float op gives up to 9), so the float conversion clamps every quantized activation to
// its range as well: a fused ReLU or ReLU6 becomes a Clip to the intersection of both ranges, an op without one gets
// a Clip. The same values as before wherever the file does not saturate; the same saturation where it does. With
// int8 activations kept, quantized-activations.ts drops these Clips again (QuantizeLinear saturates the same way).
import { makeNode } from '../onnx-file.ts';
import { tensorValues } from '../tensors.ts';
import type { OpContext } from './op-context.ts';
import type { TfliteOperator, TfliteTensor } from './reader.ts';

const UINT8 = 3;
const INT8 = 9;

/** Ops whose outputs lie within the range of their (activation) inputs: a copy, a selection, a convex combination. */
const WITHIN_INPUTS = new Set([
  'MAX_POOL_2D', 'AVERAGE_POOL_2D', 'RESIZE_BILINEAR', 'TILE', 'RESHAPE', 'SQUEEZE', 'CONCATENATION', 'QUANTIZE',
  'DEQUANTIZE', 'MEAN',
]); // prettier-ignore
/**
 * Ops bounded by their own function, to the range their quantization holds up to a step (softmax and logistic to
 * [0, 1), as 1/256 steps from 0): left as they are, the classifier head the importer looks for ends in them.
 */
const SELF_BOUNDED = new Set(['SOFTMAX', 'LOGISTIC', 'TANH']);

/** The float range a quantized tensor holds, undefined for float tensors and per-channel activations. */
function quantizedRange(t: TfliteTensor): [number, number] | undefined {
  const q = t.quantization;
  if ((t.type !== UINT8 && t.type !== INT8) || q?.scale.length !== 1 || !(q.scale[0] > 0)) return undefined;
  const [qmin, qmax] = t.type === UINT8 ? [0, 255] : [-128, 127];
  return [q.scale[0] * (qmin - q.zeroPoint[0]), q.scale[0] * (qmax - q.zeroPoint[0])];
}

/** Adds the clamps; returns how many tensors got one (for the card's rewrites). */
export function clampToQuantizedRanges(ctx: OpContext, operators: TfliteOperator[]): number {
  const { model, onnx } = ctx;
  const nodes = onnx.nodes;
  const initializers = new Map(onnx.initializers.map((t) => [t.name, t]));
  const rangeOf = (id: number) => quantizedRange(model.tensors[id]);
  let clamped = 0;
  for (const op of operators) {
    const id = op.outputs[0];
    const range = rangeOf(id);
    const value = ctx.values.get(id);
    if (!range || !value || SELF_BOUNDED.has(op.op)) continue;
    const inputs = op.inputs.filter((i) => i >= 0 && ctx.values.has(i));
    // an op converted to no node of its own (its output is its input's value) leaves the input to its producer
    if (inputs.some((i) => ctx.values.get(i) === value)) continue;
    const slack = 1e-6 * (range[1] - range[0]);
    const within = (r: [number, number] | undefined) => r && r[0] >= range[0] - slack && r[1] <= range[1] + slack;
    if (WITHIN_INPUTS.has(op.op) && inputs.length && inputs.every((i) => within(rangeOf(i)))) continue;
    const at = nodes.findIndex((node) => node.output.includes(value.name));
    if (at < 0) continue;
    const producer = nodes[at];
    const bound = (lo: number, hi: number) => [
      onnx.constant(`${value.name}_min`, [], Float32Array.of(lo)),
      onnx.constant(`${value.name}_max`, [], Float32Array.of(hi)),
    ];
    if (producer.opType === 'Relu' || producer.opType === 'Clip') {
      // a fused activation: one Clip to both ranges
      const old = (k: number, fallback: number) => {
        const t = producer.input[k] ? initializers.get(producer.input[k]) : undefined;
        return t ? tensorValues(t)[0] : fallback;
      };
      const [lo, hi] = producer.opType === 'Relu' ? [0, Infinity] : [old(1, -Infinity), old(2, Infinity)];
      if (lo >= range[0] && hi <= range[1]) continue;
      const bounds = bound(Math.max(lo, range[0]), Math.min(hi, range[1]));
      nodes[at] = makeNode('Clip', producer.name, [producer.input[0], ...bounds], [value.name]);
      // the old Clip's own bound constants, read by nothing else
      for (const name of producer.input.slice(1)) {
        const i = onnx.initializers.findIndex((t) => t.name === name);
        if (i >= 0 && !nodes.some((node) => node.input.includes(name))) onnx.initializers.splice(i, 1);
      }
    } else {
      const raw = onnx.name(`${value.name}_unsaturated`);
      producer.output = producer.output.map((name) => (name === value.name ? raw : name));
      const clip = makeNode('Clip', `${value.name}_saturate`, [raw, ...bound(range[0], range[1])], [value.name]);
      nodes.splice(at + 1, 0, clip);
    }
    clamped++;
  }
  return clamped;
}
