// Reads a TFLite flatbuffer (schema.fbs, file identifier "TFL3") into plain objects: the one subgraph's tensors
// with their quantization, the operators with their resolved builtin codes and raw option tables, the buffers.
import { ImportError } from '../import-error.ts';
import { FlatTable } from './flatbuffer-table.ts';
import { builtinName, FIELDS, PLACEHOLDER_FOR_GREATER_OP_CODES } from './schema.ts';

interface Quantization {
  scale: number[];
  zeroPoint: number[];
  /** the axis that per-channel scales run along */
  quantizedDimension: number;
}

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  /** TensorType code */
  type: number;
  buffer: number;
  quantization?: Quantization;
}

export interface TfliteOperator {
  index: number;
  /** BuiltinOperator code */
  code: number;
  op: string;
  inputs: number[];
  outputs: number[];
  options?: FlatTable;
}

export interface TfliteModel {
  version: number;
  description?: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
  /** the bytes of each buffer (empty for activations) */
  buffers: Uint8Array[];
}

const TFLITE_IDENTIFIER = 'TFL3';

/** True when the bytes carry TFLite's file identifier at offset 4. */
export const isTflite = (bytes: Uint8Array): boolean =>
  bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(4, 8)) === TFLITE_IDENTIFIER;

/** The op code of an OperatorCode: builtin_code (int32) in new files, deprecated_builtin_code (int8) in old ones. */
function operatorCode(table: FlatTable): number {
  const f = FIELDS.operatorCode;
  const deprecated = table.int8(f.deprecatedBuiltinCode);
  const code = table.int32(f.builtinCode);
  return deprecated === PLACEHOLDER_FOR_GREATER_OP_CODES ? code : Math.max(deprecated, code);
}

function readQuantization(table: FlatTable | undefined): Quantization | undefined {
  const f = FIELDS.quantization;
  const scale = table?.float32s(f.scale) ?? [];
  if (!table || scale.length === 0) return undefined;
  const zeroPoint = table.int64s(f.zeroPoint);
  return {
    scale,
    zeroPoint: zeroPoint.length ? zeroPoint : scale.map(() => 0),
    quantizedDimension: table.int32(f.quantizedDimension),
  };
}

function readBuffer(table: FlatTable, bytes: Uint8Array, file: string): Uint8Array {
  const f = FIELDS.buffer;
  const data = table.bytes(f.data);
  if (data?.length) return data;
  // Files over 2 GB keep buffers after the flatbuffer: offset and size from the file's start.
  const offset = table.uint64(f.offset);
  const size = table.uint64(f.size);
  if (offset <= 1) return new Uint8Array(0);
  if (offset + size > bytes.length) throw new ImportError(`${file} is truncated: a buffer ends past the file's end`);
  return bytes.subarray(offset, offset + size);
}

export function readTflite(bytes: Uint8Array, file: string): TfliteModel {
  if (!isTflite(bytes)) throw new ImportError(`${file} is not a TFLite model (no "${TFLITE_IDENTIFIER}" identifier)`);
  const root = FlatTable.root(bytes, file);
  const m = FIELDS.model;
  const codes = root.tables(m.operatorCodes).map(operatorCode);
  const subgraphs = root.tables(m.subgraphs);
  if (subgraphs.length !== 1)
    throw new ImportError(`${file} has ${subgraphs.length} subgraphs; tagmap imports single-graph classifiers`);
  const graph = subgraphs[0];
  const g = FIELDS.subGraph;
  const t = FIELDS.tensor;
  const tensors = graph.tables(g.tensors).map((table, index) => ({
    index,
    name: table.string(t.name) ?? `tensor_${index}`,
    shape: table.int32s(t.shape),
    type: table.int8(t.type),
    buffer: table.uint32(t.buffer),
    quantization: readQuantization(table.table(t.quantization)),
  }));
  const o = FIELDS.operator;
  const operators = graph.tables(g.operators).map((table, index): TfliteOperator => {
    const opcodeIndex = table.uint32(o.opcodeIndex);
    if (opcodeIndex >= codes.length)
      throw new ImportError(`${file}: operator ${index} names operator code ${opcodeIndex} of ${codes.length}`);
    const code = codes[opcodeIndex];
    return {
      index,
      code,
      op: builtinName(code),
      inputs: table.int32s(o.inputs),
      outputs: table.int32s(o.outputs),
      options: table.table(o.builtinOptions),
    };
  });
  for (const op of operators)
    for (const id of [...op.inputs, ...op.outputs])
      if (id >= tensors.length)
        throw new ImportError(`${file}: operator ${op.index} (${op.op}) uses tensor ${id} of ${tensors.length}`);
  return {
    version: root.uint32(m.version),
    description: root.string(m.description),
    tensors,
    inputs: graph.int32s(g.inputs),
    outputs: graph.int32s(g.outputs),
    operators,
    buffers: root.tables(m.buffers).map((table) => readBuffer(table, bytes, file)),
  };
}
