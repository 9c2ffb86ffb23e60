// The spatial TFLite ops -> ONNX: CONV_2D (or, as a kernel over the whole map, a fully-connected layer),
// DEPTHWISE_CONV_2D (grouped Conv), both with dilations, AVERAGE_POOL_2D / MAX_POOL_2D (a segmenter's pool over
// the whole map as a global pool), and MEAN over H and W.
import { ImportError } from '../import-error.ts';
import { intAttr, intsAttr } from './onnx-builder.ts';
import { input, padding, tensor, weightAndBias, where, withActivation, type OpContext } from './op-context.ts';
import { readOptions } from './options.ts';
import type { TfliteOperator } from './reader.ts';
import { IHWO_TO_OIHW, OHWI_TO_OIHW, intConstant } from './weights.ts';

export function conv(ctx: OpContext, op: TfliteOperator, depthwise: boolean): number {
  const o = readOptions(op);
  const x = input(ctx, op, 0);
  const kernel = tensor(ctx, op.inputs[1]).shape;
  const [, kh, kw] = kernel;
  const [, h, w, channels] = tensor(ctx, op.inputs[0]).shape;
  const fullyConnected =
    !depthwise &&
    (o.padding === 'VALID' || kh * kw === 1) &&
    kh === h &&
    kw === w &&
    (ctx.consumers.get(op.outputs[0]) ?? []).every((next) => next.op === 'RESHAPE' || next.op === 'SQUEEZE');
  const names = weightAndBias(ctx, op, depthwise ? IHWO_TO_OIHW : OHWI_TO_OIHW, fullyConnected);
  if (fullyConnected) {
    // A kernel over the whole map (a 1x1 conv after a global pool) is a fully-connected layer: as Flatten + Gemm
    // the importer's head walk finds and rewrites it like any other classifier head.
    const flat = ctx.onnx.node('Flatten', [x.name], ctx.onnx.name(`${names[0]}_flatten`));
    ctx.rewrites.push(`${where(op)}: ${kh}x${kw} kernel over the whole ${h}x${w} map -> Flatten + Gemm`);
    const out = withActivation(ctx, op, o.activation, (name) =>
      ctx.onnx.node('Gemm', [flat, ...names], name, [intAttr('transB', 1)]),
    );
    ctx.values.set(op.outputs[0], { name: out, rank: 2 });
    return op.outputs[0];
  }
  const attributes = [
    intsAttr('kernel_shape', [kh, kw]),
    intsAttr('strides', [o.strideH, o.strideW]),
    intsAttr('dilations', [o.dilationH, o.dilationW]),
    ...dilatedPadding(op, o, kh, kw),
    ...(depthwise ? [intAttr('group', channels)] : []),
  ];
  if (depthwise && kernel[3] !== channels * o.depthMultiplier)
    throw new ImportError(
      `${where(op)}: ${kernel[3]} output channels for ${channels} x depth_multiplier ${o.depthMultiplier}`,
    );
  const out = withActivation(ctx, op, o.activation, (name) =>
    ctx.onnx.node('Conv', [x.name, ...names], name, attributes),
  );
  ctx.values.set(op.outputs[0], { name: out, rank: 4 });
  return op.outputs[0];
}

/**
 * Atrous (dilated) convolutions, as DeepLab has: TF's SAME pads the dilated kernel, (k - 1) * d + 1 taps wide. At
 * stride 1 (TF allows no other stride with dilation) that is (k - 1) * d pixels in all, the smaller half first,
 * whatever the input size: written as explicit pads, so no runtime's reading of auto_pad with dilations matters.
 */
function dilatedPadding(op: TfliteOperator, o: ReturnType<typeof readOptions>, kh: number, kw: number) {
  if (o.dilationH === 1 && o.dilationW === 1) return padding(o.padding);
  if (o.strideH !== 1 || o.strideW !== 1)
    throw new ImportError(`${where(op)}: dilation ${o.dilationH}x${o.dilationW} with stride ${o.strideH}x${o.strideW}`);
  if (o.padding === 'VALID') return [];
  const [th, tw] = [(kh - 1) * o.dilationH, (kw - 1) * o.dilationW];
  return [intsAttr('pads', [Math.floor(th / 2), Math.floor(tw / 2), th - Math.floor(th / 2), tw - Math.floor(tw / 2)])];
}

export function pool(ctx: OpContext, op: TfliteOperator): void {
  const o = readOptions(op);
  const x = input(ctx, op, 0);
  const type = op.op === 'MAX_POOL_2D' ? 'MaxPool' : 'AveragePool';
  const [, h, w] = tensor(ctx, op.inputs[0]).shape;
  const [, oh, ow] = tensor(ctx, op.outputs[0]).shape;
  if (ctx.segmenter && o.filterH === h && o.filterW === w && oh === 1 && ow === 1) {
    // A segmenter's image-pooling branch: the filter is the whole map at the file's size, i.e. a global pool; as
    // GlobalAveragePool it stays one over the whole map at any size (a classifier keeps its window-sized pool)
    const out = withActivation(ctx, op, o.activation, (name) => ctx.onnx.node(`Global${type}`, [x.name], name));
    ctx.rewrites.push(`${where(op)} ${h}x${w} over the whole ${h}x${w} map -> Global${type}`);
    ctx.values.set(op.outputs[0], { name: out, rank: 4 });
    return;
  }
  const attributes = [
    intsAttr('kernel_shape', [o.filterH, o.filterW]),
    intsAttr('strides', [o.strideH, o.strideW]),
    ...padding(o.padding),
  ];
  const out = withActivation(ctx, op, o.activation, (name) => ctx.onnx.node(type, [x.name], name, attributes));
  ctx.values.set(op.outputs[0], { name: out, rank: 4 });
}

export function mean(ctx: OpContext, op: TfliteOperator): void {
  const x = input(ctx, op, 0);
  const axes = intConstant(ctx.model, tensor(ctx, op.inputs[1]), where(op))
    .map((a) => (a < 0 ? a + 4 : a))
    .sort();
  if (x.rank !== 4 || axes.join() !== '1,2')
    throw new ImportError(`${where(op)}: only a mean over H and W is supported`);
  const [, h, w] = tensor(ctx, op.inputs[0]).shape;
  const out = ctx.onnx.name(tensor(ctx, op.outputs[0]).name);
  if (readOptions(op).keepDims) {
    // keep_dims: an average pool over the whole map at the file's size, so larger inputs give a map of windows
    ctx.onnx.node('AveragePool', [x.name], out, [intsAttr('kernel_shape', [h, w]), intsAttr('strides', [1, 1])]);
    ctx.rewrites.push(`${where(op)} over H, W (keep_dims) -> AveragePool ${h}x${w}`);
    ctx.values.set(op.outputs[0], { name: out, rank: 4 });
  } else {
    ctx.onnx.node('ReduceMean', [x.name], out, [intsAttr('axes', [2, 3]), intAttr('keepdims', 0)]);
    ctx.values.set(op.outputs[0], { name: out, rank: 2 });
  }
}
