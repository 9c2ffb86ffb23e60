// Integer TensorProtos (int8, uint8, int32, int64 ...) as plain numbers: the quantized weights, zero points and
// biases of int8 models. Float tensors are read by ../tensors.ts.
import { ImportError } from '../import-error.ts';
import { onnx, toNumber, type Tensor } from '../onnx-file.ts';

const { DataType } = onnx.TensorProto;

/** Bytes per element and the DataView reader for each integer type stored in raw_data. */
const RAW: Partial<Record<number, [number, (view: DataView, offset: number) => number]>> = {
  [DataType.INT8]: [1, (v, o) => v.getInt8(o)],
  [DataType.UINT8]: [1, (v, o) => v.getUint8(o)],
  [DataType.INT16]: [2, (v, o) => v.getInt16(o, true)],
  [DataType.UINT16]: [2, (v, o) => v.getUint16(o, true)],
  [DataType.INT32]: [4, (v, o) => v.getInt32(o, true)],
  [DataType.INT64]: [8, (v, o) => Number(v.getBigInt64(o, true))],
};

export const elementTypeName = (type: number): string => (DataType[type] ?? `type ${type}`).toLowerCase();

export function intValues(tensor: Tensor): number[] {
  const count = tensor.dims.map(toNumber).reduce((a, b) => a * b, 1);
  const reader = RAW[tensor.dataType];
  if (!reader)
    throw new ImportError(
      `tensor '${tensor.name}' has element type ${elementTypeName(tensor.dataType)}, not an integer`,
    );
  if (tensor.rawData?.length) {
    const [size, read] = reader;
    const view = new DataView(tensor.rawData.buffer, tensor.rawData.byteOffset, tensor.rawData.byteLength);
    if (tensor.rawData.byteLength !== count * size)
      throw new ImportError(`tensor '${tensor.name}' holds ${tensor.rawData.byteLength} bytes for ${count} values`);
    return Array.from({ length: count }, (_, i) => read(view, i * size));
  }
  const stored = tensor.dataType === DataType.INT64 ? tensor.int64Data.map(toNumber) : tensor.int32Data;
  if (stored.length !== count)
    throw new ImportError(`tensor '${tensor.name}' holds ${stored.length} of ${count} values`);
  return [...stored];
}
