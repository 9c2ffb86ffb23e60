// A node's quantization parameters (scale and zero point), checked the way onnxruntime would read them, and the
// arithmetic between int8 and float: dequantizing constants, the float range an int8 tensor can hold.
import { ImportError } from '../import-error.ts';
import { describeNode, onnx, toNumber, type Node, type Tensor } from '../onnx-file.ts';
import { tensorValues } from '../tensors.ts';
import { elementTypeName, intValues } from './int-tensors.ts';

const { DataType } = onnx.TensorProto;
const LIMITS: Partial<Record<number, [number, number]>> = {
  [DataType.UINT8]: [0, 255],
  [DataType.INT8]: [-128, 127],
  [DataType.INT32]: [-(2 ** 31), 2 ** 31 - 1],
};

export interface Quantization {
  /** one value (per tensor) or one per slice along `axis` */
  scale: Float32Array;
  zeroPoint: number[];
  /** element type of the quantized values: that of the zero point (uint8 when there is none) */
  type: number;
}

export interface ReadOptions {
  /** the size of the axis a per-axis scale runs along (undefined: per-tensor only) */
  axisSize?: number;
  /** biases are int32 */
  allowInt32?: boolean;
}

/** Reads inputs `scaleAt` and `scaleAt + 1` of a node as scale and zero point. */
export function readQuantization(
  node: Node,
  scaleAt: number,
  constants: Map<string, Tensor>,
  options: ReadOptions = {},
): Quantization {
  const where = describeNode(node);
  const scaleName = node.input[scaleAt];
  const scaleTensor = constants.get(scaleName);
  if (!scaleTensor) throw new ImportError(`${where}: scale '${scaleName}' is not a constant initializer`);
  if (scaleTensor.dataType !== DataType.FLOAT && scaleTensor.dataType !== DataType.FLOAT16)
    throw new ImportError(
      `${where}: scale '${scaleName}' has element type ${elementTypeName(scaleTensor.dataType)}, expected float`,
    );
  const scale = tensorValues(scaleTensor);
  if (!scale.every((s) => Number.isFinite(s) && s > 0))
    throw new ImportError(`${where}: scale '${scaleName}' holds a value that is not a positive number`);
  if (scale.length === 0 || (scale.length > 1 && scale.length !== options.axisSize))
    throw new ImportError(
      `${where}: scale '${scaleName}' has ${scale.length} values; expected 1` +
        (options.axisSize ? ` or ${options.axisSize} (one per slice of the quantized axis)` : ' (per-tensor)'),
    );

  const zeroName = node.input[scaleAt + 1];
  if (!zeroName) return { scale, zeroPoint: Array(scale.length).fill(0), type: DataType.UINT8 };
  const zeroTensor = constants.get(zeroName);
  if (!zeroTensor) throw new ImportError(`${where}: zero point '${zeroName}' is not a constant initializer`);
  const allowed = [DataType.UINT8, DataType.INT8, ...(options.allowInt32 ? [DataType.INT32] : [])];
  if (!allowed.includes(zeroTensor.dataType))
    throw new ImportError(
      `${where}: zero point '${zeroName}' has element type ${elementTypeName(zeroTensor.dataType)}, ` +
        `expected ${allowed.map(elementTypeName).join(' or ')}`,
    );
  const zeroPoint = intValues(zeroTensor);
  if (zeroPoint.length !== scale.length)
    throw new ImportError(
      `${where}: zero point '${zeroName}' has ${zeroPoint.length} values for ${scale.length} scales`,
    );
  return { scale, zeroPoint, type: zeroTensor.dataType };
}

/** The float interval a quantized tensor can represent (per-tensor): what a Quantize/Dequantize pair clamps to. */
export function floatRange(q: Quantization): [number, number] {
  const [low, high] = LIMITS[q.type]!;
  return [(low - q.zeroPoint[0]) * q.scale[0], (high - q.zeroPoint[0]) * q.scale[0]];
}

/** Index along `axis` of flat element i of a tensor of `dims`. */
const sliceOf = (dims: number[], axis: number) => {
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  return (i: number) => Math.floor(i / inner) % dims[axis];
};

/** (q - zero point) * scale for an integer constant, per tensor or per slice along `axis`. */
export function dequantizeConstant(tensor: Tensor, q: Quantization, axis: number, node: Node): Float32Array {
  const dims = tensor.dims.map(toNumber);
  const rank = dims.length;
  const along = axis < 0 ? axis + rank : axis;
  if (q.scale.length > 1 && dims[along] !== q.scale.length)
    throw new ImportError(
      `${describeNode(node)}: ${q.scale.length} scales for axis ${axis} of '${tensor.name}', ` +
        `which has ${dims[along] ?? 'no such axis'} slices`,
    );
  if (tensor.dataType !== q.type)
    throw new ImportError(
      `${describeNode(node)}: '${tensor.name}' is ${elementTypeName(tensor.dataType)} but its zero point is ` +
        elementTypeName(q.type),
    );
  const values = intValues(tensor);
  const slice = q.scale.length > 1 ? sliceOf(dims, along) : () => 0;
  return Float32Array.from(values, (v, i) => (v - q.zeroPoint[slice(i)]) * q.scale[slice(i)]);
}

/** Quantize then dequantize a float constant (round half to even, saturate), as a Q -> DQ pair computes it. */
export function fakeQuantize(values: Float32Array, dims: number[], q: Quantization, axis: number): Float32Array {
  const [low, high] = LIMITS[q.type]!;
  const slice = q.scale.length > 1 ? sliceOf(dims, axis < 0 ? axis + dims.length : axis) : () => 0;
  return values.map((v, i) => {
    const s = q.scale[slice(i)];
    const z = q.zeroPoint[slice(i)];
    const scaled = v / s;
    const rounded = Math.abs(scaled % 1) === 0.5 ? 2 * Math.round(scaled / 2) : Math.round(scaled);
    return (Math.min(high, Math.max(low, rounded + z)) - z) * s;
  });
}
