// One TFLite operator -> ONNX nodes (float32, NCHW). Layout notes: 4-D activations are NCHW in ONNX, so TFLite's
// NHWC axes map 0->0, 1->2, 2->3, 3->1; kernels are re-laid out in weights.ts; spatial ops in convert-spatial.ts.
import { ImportError } from '../import-error.ts';
import { resize } from './convert-resize.ts';
import { conv, mean, pool } from './convert-spatial.ts';
import { intAttr } from './onnx-builder.ts';
import {
  activate,
  input,
  NHWC_TO_NCHW_AXIS,
  tensor,
  weightAndBias,
  where,
  withActivation,
  type OpContext,
} from './op-context.ts';
import { readOptions } from './options.ts';
import type { TfliteOperator } from './reader.ts';

export type { OpContext } from './op-context.ts';

export const SUPPORTED_OPS = new Set([
  'CONV_2D', 'DEPTHWISE_CONV_2D', 'AVERAGE_POOL_2D', 'MAX_POOL_2D', 'ADD', 'CONCATENATION', 'MEAN', 'RESHAPE',
  'SQUEEZE', 'FULLY_CONNECTED', 'SOFTMAX', 'QUANTIZE', 'DEQUANTIZE', 'RELU', 'RELU6', 'LOGISTIC', 'TANH',
  'RESIZE_BILINEAR', 'TILE',
]); // prettier-ignore

function flatten(ctx: OpContext, op: TfliteOperator): void {
  const x = input(ctx, op, 0);
  const from = tensor(ctx, op.inputs[0]).shape;
  const to = tensor(ctx, op.outputs[0]).shape;
  if (to.length !== 2 || (x.rank === 4 && (from[1] !== 1 || from[2] !== 1)))
    throw new ImportError(`${where(op)}: only [N, 1, 1, C] -> [N, C] is supported, got [${from}] -> [${to}]`);
  if (x.rank === 2) ctx.values.set(op.outputs[0], x);
  else
    ctx.values.set(op.outputs[0], {
      name: ctx.onnx.node('Flatten', [x.name], ctx.onnx.name(tensor(ctx, op.outputs[0]).name)),
      rank: 2,
    });
}

function fullyConnected(ctx: OpContext, op: TfliteOperator): void {
  const o = readOptions(op);
  let x = input(ctx, op, 0);
  const shape = tensor(ctx, op.inputs[0]).shape;
  if (x.rank === 4) {
    if (shape[1] !== 1 || shape[2] !== 1)
      throw new ImportError(`${where(op)}: input [${shape}] must be [N, 1, 1, C] (NHWC flattening is not supported)`);
    x = { name: ctx.onnx.node('Flatten', [x.name], ctx.onnx.name(`${x.name}_flatten`)), rank: 2 };
  }
  const names = weightAndBias(ctx, op, undefined);
  const out = withActivation(ctx, op, o.activation, (name) =>
    ctx.onnx.node('Gemm', [x.name, ...names], name, [intAttr('transB', 1)]),
  );
  ctx.values.set(op.outputs[0], { name: out, rank: 2 });
}

function binary(ctx: OpContext, op: TfliteOperator): void {
  const [a, b] = [input(ctx, op, 0), input(ctx, op, 1)];
  const out = withActivation(ctx, op, readOptions(op).activation, (name) =>
    ctx.onnx.node('Add', [a.name, b.name], name),
  );
  ctx.values.set(op.outputs[0], { name: out, rank: a.rank });
}

function concat(ctx: OpContext, op: TfliteOperator): void {
  const o = readOptions(op);
  const inputs = op.inputs.map((_, i) => input(ctx, op, i));
  const rank = inputs[0].rank;
  const axis = o.axis < 0 ? o.axis + rank : o.axis;
  const onnxAxis = rank === 4 ? NHWC_TO_NCHW_AXIS[axis] : axis;
  const out = withActivation(ctx, op, o.activation, (name) =>
    ctx.onnx.node(
      'Concat',
      inputs.map((v) => v.name),
      name,
      [intAttr('axis', onnxAxis)],
    ),
  );
  ctx.values.set(op.outputs[0], { name: out, rank });
}

/**
 * QUANTIZE of a quantized tensor changes its scale (a requantization, e.g. before a concatenation whose inputs must
 * share one). In float it is the identity, but as its own tensor (an Identity node) the output gets its own
 * QuantizeLinear/DequantizeLinear pair with the new scale when activations stay int8, as in the file.
 */
function requantize(ctx: OpContext, op: TfliteOperator): void {
  const x = input(ctx, op, 0);
  const from = tensor(ctx, op.inputs[0]).quantization;
  const to = tensor(ctx, op.outputs[0]).quantization;
  const same = from?.scale[0] === to?.scale[0] && from?.zeroPoint[0] === to?.zeroPoint[0];
  if (!from || !to || same) {
    ctx.values.set(op.outputs[0], x);
    return;
  }
  const out = ctx.onnx.node('Identity', [x.name], ctx.onnx.name(tensor(ctx, op.outputs[0]).name));
  ctx.values.set(op.outputs[0], { name: out, rank: x.rank });
}

function unary(ctx: OpContext, op: TfliteOperator): void {
  const x = input(ctx, op, 0);
  const out = ctx.onnx.name(tensor(ctx, op.outputs[0]).name);
  if (op.op === 'SOFTMAX') {
    if (readOptions(op).beta !== 1)
      throw new ImportError(`${where(op)}: beta ${readOptions(op).beta} is not supported`);
    ctx.onnx.node('Softmax', [x.name], out, [intAttr('axis', x.rank === 4 ? 1 : -1)]);
  } else if (op.op === 'LOGISTIC') ctx.onnx.node('Sigmoid', [x.name], out);
  else activate(ctx, op, x.name, op.op === 'RELU' ? 'RELU' : op.op === 'RELU6' ? 'RELU6' : 'TANH', out);
  ctx.values.set(op.outputs[0], { name: out, rank: x.rank });
}

export function convertOperator(ctx: OpContext, op: TfliteOperator): void {
  switch (op.op) {
    case 'CONV_2D':
    case 'DEPTHWISE_CONV_2D':
      conv(ctx, op, op.op === 'DEPTHWISE_CONV_2D');
      return;
    case 'AVERAGE_POOL_2D':
    case 'MAX_POOL_2D':
      return pool(ctx, op);
    case 'MEAN':
      return mean(ctx, op);
    case 'RESHAPE':
    case 'SQUEEZE':
      return flatten(ctx, op);
    case 'FULLY_CONNECTED':
      return fullyConnected(ctx, op);
    case 'ADD':
      return binary(ctx, op);
    case 'CONCATENATION':
      return concat(ctx, op);
    case 'QUANTIZE':
      return requantize(ctx, op);
    case 'DEQUANTIZE':
      // the ONNX graph is float: dequantizing is the identity on values
      ctx.values.set(op.outputs[0], input(ctx, op, 0));
      return;
    case 'RESIZE_BILINEAR':
    case 'TILE':
      return resize(ctx, op);
    default:
      return unary(ctx, op);
  }
}
