// What converting one TFLite operator needs: the model, the ONNX graph being built, the ONNX value of every tensor
// computed so far, and the helpers all ops share (inputs, fused activations, weights).
import { ImportError } from '../import-error.ts';
import { stringAttr, type OnnxBuilder } from './onnx-builder.ts';
import type { TfliteModel, TfliteOperator, TfliteTensor } from './reader.ts';
import type { Activation, Padding } from './schema.ts';
import { readWeight } from './weights.ts';

export const NHWC_TO_NCHW_AXIS = [0, 2, 3, 1];

export interface Value {
  name: string;
  /** 4: [N, C, H, W]; 2: [N, K] */
  rank: number;
}

export interface OpContext {
  model: TfliteModel;
  onnx: OnnxBuilder;
  values: Map<number, Value>;
  /** how many operators read each tensor, and which ops they are */
  consumers: Map<number, TfliteOperator[]>;
  rewrites: string[];
  /** converting a segmenter (an ARG_MAX tail was cut): pools over the whole map become global pools */
  segmenter: boolean;
}

export const where = (op: TfliteOperator) => `${op.op} at operator ${op.index}`;
/** TF SAME pads (total = max((ceil(in/s) - 1) * s + k - in, 0), the extra pixel at the end) is ONNX SAME_UPPER. */
export const padding = (p: Padding) => (p === 'SAME' ? [stringAttr('auto_pad', 'SAME_UPPER')] : []);

export function input(ctx: OpContext, op: TfliteOperator, i: number): Value {
  const value = ctx.values.get(op.inputs[i]);
  if (!value)
    throw new ImportError(`${where(op)}: input ${i} ('${ctx.model.tensors[op.inputs[i]].name}') is not computed`);
  return value;
}
export const tensor = (ctx: OpContext, id: number): TfliteTensor => ctx.model.tensors[id];

export function activate(
  ctx: OpContext,
  op: TfliteOperator,
  value: string,
  activation: Activation,
  out: string,
): string {
  const o = ctx.onnx;
  switch (activation) {
    case 'NONE':
      return o.node('Identity', [value], out);
    case 'RELU':
      return o.node('Relu', [value], out);
    case 'RELU6':
    case 'RELU_N1_TO_1': {
      const [lo, hi] = activation === 'RELU6' ? [0, 6] : [-1, 1];
      const min = o.constant(`${out}_min`, [], Float32Array.of(lo));
      const max = o.constant(`${out}_max`, [], Float32Array.of(hi));
      return o.node('Clip', [value, min, max], out);
    }
    case 'TANH':
      return o.node('Tanh', [value], out);
    default:
      throw new ImportError(`${where(op)}: unsupported fused activation ${activation}`);
  }
}

/** Emits op's main node into a temporary name, then its fused activation into the output tensor. */
export function withActivation(
  ctx: OpContext,
  op: TfliteOperator,
  activation: Activation,
  emit: (out: string) => string,
) {
  const out = ctx.onnx.name(tensor(ctx, op.outputs[0]).name);
  if (activation === 'NONE') return emit(out);
  return activate(ctx, op, emit(ctx.onnx.name(`${out}_linear`)), activation, out);
}

export function weightAndBias(ctx: OpContext, op: TfliteOperator, perm: number[] | undefined, asMatrix = false) {
  const w = readWeight(ctx.model, tensor(ctx, op.inputs[1]), perm, where(op));
  // OIHW flattened row by row is [O, C*H*W], the order Flatten gives an NCHW map
  const dims = asMatrix ? [w.dims[0], w.values.length / w.dims[0]] : w.dims;
  const quantized = w.quantized && { ...w.quantized, dims };
  const names = [ctx.onnx.constant(tensor(ctx, op.inputs[1]).name, dims, w.values, quantized)];
  if (op.inputs.length > 2 && op.inputs[2] >= 0) {
    const b = readWeight(ctx.model, tensor(ctx, op.inputs[2]), undefined, where(op));
    names.push(ctx.onnx.constant(tensor(ctx, op.inputs[2]).name, b.dims, b.values, b.quantized));
  }
  return names;
}
