// RESIZE_BILINEAR and TILE, made size-free. A DeepLab graph uses them in two ways only: a resize to the size it
// already has (a no-op at the file's size, and at every size), and the image-pooling branch, where a 1x1 map (the
// global average of the features) is spread over the feature map's size to be concatenated with it. A constant
// target size (33x33 at 513 px) would pin the input to 513 px; spreading the 1x1 map to the runtime shape of the map
// it is concatenated with (Expand to Shape(sibling)) runs at any size and is the same at the file's size. Any other
// resize is a real change of resolution at a fixed size, which tagmap does not convert.
import { ImportError } from '../import-error.ts';
import { onnx } from '../onnx-file.ts';
import { intAttr } from './onnx-builder.ts';
import { input, tensor, where, type OpContext } from './op-context.ts';
import type { TfliteOperator } from './reader.ts';
import { intConstant } from './weights.ts';

/** Ops between a broadcast and the concatenation that reads it: they do not change the shape. */
const PASS_OPS = new Set(['QUANTIZE', 'DEQUANTIZE']);

function int64Constant(ctx: OpContext, base: string, values: number[]): string {
  const name = ctx.onnx.name(base);
  ctx.onnx.initializers.push(
    onnx.TensorProto.create({
      name,
      dims: [values.length],
      dataType: onnx.TensorProto.DataType.INT64,
      rawData: new Uint8Array(BigInt64Array.from(values, BigInt).buffer),
    }),
  );
  return name;
}

/** The tensor this op's output is concatenated with (through requantizations), of the output's height and width. */
function concatSibling(ctx: OpContext, op: TfliteOperator): number | undefined {
  const shape = tensor(ctx, op.outputs[0]).shape;
  let id = op.outputs[0];
  for (;;) {
    const readers = ctx.consumers.get(id) ?? [];
    if (readers.length !== 1) return undefined;
    const [next] = readers;
    if (PASS_OPS.has(next.op)) {
      id = next.outputs[0];
      continue;
    }
    if (next.op !== 'CONCATENATION') return undefined;
    return next.inputs.find((other) => {
      const s = tensor(ctx, other).shape;
      return other !== id && s.length === 4 && s[1] === shape[1] && s[2] === shape[2];
    });
  }
}

/** The target [H, W] of a RESIZE_BILINEAR (its size constant) or a TILE (its multiples times the input's size). */
function target(ctx: OpContext, op: TfliteOperator): number[] {
  const values = intConstant(ctx.model, tensor(ctx, op.inputs[1]), where(op));
  if (op.op === 'TILE') {
    const [, h, w] = tensor(ctx, op.inputs[0]).shape;
    if (values.length !== 4 || values[0] !== 1 || values[3] !== 1)
      throw new ImportError(`${where(op)}: only tiling over H and W is supported, got multiples [${values}]`);
    return [h * values[1], w * values[2]];
  }
  return values;
}

export function resize(ctx: OpContext, op: TfliteOperator): void {
  const x = input(ctx, op, 0);
  const from = tensor(ctx, op.inputs[0]).shape;
  const to = tensor(ctx, op.outputs[0]).shape;
  const [h, w] = target(ctx, op);
  const sizes = `[${from}] -> [${to}]`;
  if (x.rank !== 4 || h !== to[1] || w !== to[2])
    throw new ImportError(`${where(op)}: ${sizes} does not match its target size ${h}x${w}`);
  if (from[1] === h && from[2] === w) {
    ctx.values.set(op.outputs[0], x);
    ctx.rewrites.push(`${where(op)} ${from[1]}x${from[2]} -> ${h}x${w} removed: a resize to the same size`);
    return;
  }
  const sibling = from[1] === 1 && from[2] === 1 ? concatSibling(ctx, op) : undefined;
  const siblingValue = sibling !== undefined ? ctx.values.get(sibling) : undefined;
  if (!siblingValue)
    throw new ImportError(
      `${where(op)}: ${sizes} is a resize to the fixed size ${h}x${w}; tagmap converts only a resize to the same ` +
        'size and the spreading of a 1x1 map over the map it is concatenated with (any input size must run)',
    );
  // Expand broadcasts [N, C, 1, 1] against [1, 1, H, W]: H and W taken from the sibling at run time
  const o = ctx.onnx;
  const out = o.name(tensor(ctx, op.outputs[0]).name);
  const shape = o.node('Shape', [siblingValue.name], o.name(`${out}_sibling_shape`));
  const spatial = o.node(
    'Slice',
    [shape, int64Constant(ctx, `${out}_hw_start`, [2]), int64Constant(ctx, `${out}_hw_end`, [4])],
    o.name(`${out}_sibling_hw`),
  );
  const ones = int64Constant(ctx, `${out}_ones`, [1, 1]);
  const full = o.node('Concat', [ones, spatial], o.name(`${out}_expand_shape`), [intAttr('axis', 0)]);
  o.node('Expand', [x.name, full], out);
  ctx.values.set(op.outputs[0], { name: out, rank: 4 });
  ctx.rewrites.push(
    `${where(op)} ${sizes} -> Expand of the 1x1 map to the runtime height and width of ` +
      `'${tensor(ctx, sibling!).name.split(';')[0]}', the map it is concatenated with (no fixed ${h}x${w})`,
  );
}
