// TensorProto <-> Float32Array for the element types classifier weights come in (float32, float16, float64).
import { ImportError } from './import-error.ts';
import { onnx, toNumber, type Tensor } from './onnx-file.ts';

const { DataType } = onnx.TensorProto;

/** IEEE 754 half-precision bits to a number (exact: every half is a float32). */
function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const littleEndian = (raw: Uint8Array) => new DataView(raw.buffer, raw.byteOffset, raw.byteLength);

export const tensorDims = (tensor: Tensor): number[] => tensor.dims.map(toNumber);

/** The values of a float tensor as float32, whatever its storage. */
export function tensorValues(tensor: Tensor): Float32Array {
  const count = tensorDims(tensor).reduce((a, b) => a * b, 1);
  const raw = tensor.rawData?.length ? littleEndian(tensor.rawData) : undefined;
  const out = new Float32Array(count);
  switch (tensor.dataType) {
    case DataType.FLOAT:
      for (let i = 0; i < count; i++) out[i] = raw ? raw.getFloat32(4 * i, true) : tensor.floatData[i];
      return out;
    case DataType.FLOAT16:
      for (let i = 0; i < count; i++) out[i] = halfToFloat(raw ? raw.getUint16(2 * i, true) : tensor.int32Data[i]);
      return out;
    case DataType.DOUBLE:
      for (let i = 0; i < count; i++) out[i] = raw ? raw.getFloat64(8 * i, true) : tensor.doubleData[i];
      return out;
    default:
      throw new ImportError(
        `tensor '${tensor.name}' has element type ${DataType[tensor.dataType] ?? tensor.dataType}; ` +
          'only float tensors can be read',
      );
  }
}

/** A float32 initializer stored as raw little-endian bytes. */
export function floatTensor(name: string, dims: number[], values: Float32Array): Tensor {
  const rawData = new Uint8Array(values.length * 4);
  const view = littleEndian(rawData);
  values.forEach((value, i) => view.setFloat32(4 * i, value, true));
  return onnx.TensorProto.create({ name, dims, dataType: DataType.FLOAT, rawData });
}
