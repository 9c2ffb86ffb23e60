// Constant tensors of a TFLite file as ONNX initializers: dequantized to float32 (value = scale * (q - zero_point),
// per tensor or per channel) and re-laid out from TFLite's OHWI / 1HWO kernels to ONNX's OIHW. The integers are kept
// beside the floats, so that a later pass can store them as they were (quantized-weights.ts).
import { ImportError } from '../import-error.ts';
import type { TfliteModel, TfliteTensor } from './reader.ts';
import { tensorTypeName } from './schema.ts';

const TYPE = { FLOAT32: 0, INT32: 2, UINT8: 3, INT64: 4, INT8: 9 } as const;

export interface QuantizedWeight {
  /** integers in the ONNX layout (int32 for biases, whose scale is input scale x weight scale) */
  data: Uint8Array | Int8Array | Int32Array;
  dims: number[];
  scale: number[];
  zeroPoint: number[];
  /** ONNX axis the scales run along (per-channel only) */
  axis: number;
}

export interface Weight {
  dims: number[];
  values: Float32Array;
  quantized?: QuantizedWeight;
}

export const OHWI_TO_OIHW: number[] = [0, 3, 1, 2];
/** depthwise kernels are [1, H, W, C*M]; ONNX wants [C*M, 1, H, W] */
export const IHWO_TO_OIHW: number[] = [3, 0, 1, 2];

function rawValues(model: TfliteModel, tensor: TfliteTensor, where: string): Float64Array | Int32Array {
  const bytes = model.buffers[tensor.buffer];
  const count = tensor.shape.reduce((a, b) => a * b, 1);
  const width = { [TYPE.FLOAT32]: 4, [TYPE.INT32]: 4, [TYPE.UINT8]: 1, [TYPE.INT8]: 1, [TYPE.INT64]: 8 }[tensor.type];
  if (!width) throw new ImportError(`${where}: constant '${tensor.name}' has type ${tensorTypeName(tensor.type)}`);
  if (!bytes || bytes.length !== count * width)
    throw new ImportError(
      `${where}: constant '${tensor.name}' [${tensor.shape}] needs ${count * width} bytes, its buffer has ` +
        `${bytes?.length ?? 0}`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = {
    [TYPE.FLOAT32]: (i: number) => view.getFloat32(4 * i, true),
    [TYPE.INT32]: (i: number) => view.getInt32(4 * i, true),
    [TYPE.UINT8]: (i: number) => view.getUint8(i),
    [TYPE.INT8]: (i: number) => view.getInt8(i),
    [TYPE.INT64]: (i: number) => Number(view.getBigInt64(8 * i, true)),
  }[tensor.type]!;
  const out = tensor.type === TYPE.FLOAT32 ? new Float64Array(count) : new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = read(i);
  return out;
}

/** An int32 constant (axes, shapes) as numbers. */
export function intConstant(model: TfliteModel, tensor: TfliteTensor, where: string): number[] {
  if (tensor.type !== TYPE.INT32 && tensor.type !== TYPE.INT64)
    throw new ImportError(`${where}: '${tensor.name}' must be an int32 constant`);
  return [...rawValues(model, tensor, where)];
}

/** Reorders a row-major tensor by perm (ONNX axis i = source axis perm[i]). */
function permute<T extends { [i: number]: number }>(
  src: ArrayLike<number>,
  shape: number[],
  perm: number[],
  out: T,
): T {
  const dims = perm.map((p) => shape[p]);
  const srcStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const strides = perm.map((p) => srcStrides[p]);
  const index = new Array(dims.length).fill(0);
  for (let o = 0; o < src.length; o++) {
    let at = 0;
    for (let k = 0; k < dims.length; k++) at += index[k] * strides[k];
    out[o] = src[at];
    for (let k = dims.length - 1; k >= 0 && ++index[k] === dims[k]; k--) index[k] = 0;
  }
  return out;
}

/** A weight or bias as float32 in the ONNX layout; quantized integers kept for uint8/int8 sources. */
export function readWeight(
  model: TfliteModel,
  tensor: TfliteTensor,
  perm: number[] | undefined,
  where: string,
): Weight {
  const raw = rawValues(model, tensor, where);
  const q = tensor.quantization;
  const order = perm ?? tensor.shape.map((_, i) => i);
  const dims = order.map((p) => tensor.shape[p]);
  const quantizedType = tensor.type === TYPE.UINT8 || tensor.type === TYPE.INT8 || tensor.type === TYPE.INT32;
  if (quantizedType && !q)
    throw new ImportError(`${where}: ${tensorTypeName(tensor.type)} constant '${tensor.name}' has no quantization`);
  const ints = q ? permute(raw, tensor.shape, order, new Int32Array(raw.length)) : undefined;
  const values = new Float32Array(raw.length);
  if (!q || !ints) {
    permute(raw, tensor.shape, order, values);
    return { dims, values };
  }
  const perChannel = q.scale.length > 1;
  const axis = perChannel ? order.indexOf(q.quantizedDimension) : 0;
  if (perChannel && (axis < 0 || dims[axis] !== q.scale.length || q.zeroPoint.length !== q.scale.length))
    throw new ImportError(
      `${where}: '${tensor.name}' has ${q.scale.length} scales along axis ${q.quantizedDimension} of [${tensor.shape}]`,
    );
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const scales = Float32Array.from(q.scale);
  for (let i = 0; i < ints.length; i++) {
    const c = perChannel ? Math.floor(i / inner) % dims[axis] : 0;
    values[i] = (ints[i] - q.zeroPoint[c]) * scales[c];
  }
  const data =
    tensor.type === TYPE.INT32 ? ints : tensor.type === TYPE.UINT8 ? Uint8Array.from(ints) : Int8Array.from(ints);
  return { dims, values, quantized: { data, dims, scale: [...scales], zeroPoint: q.zeroPoint, axis } };
}
