// A tiny TFLite flatbuffer written with the flatbuffers Builder, for reader and error tests: one subgraph of
// float tensors [1, 8, 8, 3] chained through single-input ops with the given builtin codes.
import { Builder } from 'flatbuffers';

/** deprecated: write the code only in the old int8 field (as files before TF 2.4 do). */
export interface OpSpec {
  code: number;
  deprecated?: boolean;
}

const vector = (b: Builder, values: number[], add: (v: number) => void, size = 4) => {
  b.startVector(size, values.length, size);
  for (const value of [...values].reverse()) add(value);
  return b.endVector();
};
const offsets = (b: Builder, values: number[]) => vector(b, values, (v) => b.addOffset(v));
const ints = (b: Builder, values: number[]) => vector(b, values, (v) => b.addInt32(v));

export function tinyTflite(ops: OpSpec[]): Uint8Array {
  const b = new Builder(1024);
  const codes = ops.map(({ code, deprecated }) => {
    b.startObject(4);
    b.addFieldInt8(0, deprecated ? code : Math.min(code, 127), 0);
    if (!deprecated) b.addFieldInt32(3, code, 0);
    return b.endObject();
  });
  const tensors = ops.concat([{ code: 0 }]).map((_, i) => {
    const name = b.createString(`t${i}`);
    const shape = ints(b, [1, 8, 8, 3]);
    b.startObject(5);
    b.addFieldOffset(0, shape, 0);
    b.addFieldInt8(1, 0, 0);
    b.addFieldInt32(2, 0, 0);
    b.addFieldOffset(3, name, 0);
    return b.endObject();
  });
  const operators = ops.map((_, i) => {
    const inputs = ints(b, [i]);
    const outputs = ints(b, [i + 1]);
    b.startObject(5);
    b.addFieldInt32(0, i, 0);
    b.addFieldOffset(1, inputs, 0);
    b.addFieldOffset(2, outputs, 0);
    return b.endObject();
  });
  const tensorVector = offsets(b, tensors);
  const inputs = ints(b, [0]);
  const outputs = ints(b, [ops.length]);
  const operatorVector = offsets(b, operators);
  b.startObject(5);
  b.addFieldOffset(0, tensorVector, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  b.addFieldOffset(3, operatorVector, 0);
  const subgraph = b.endObject();
  b.startObject(0);
  const emptyBuffer = b.endObject();
  const codeVector = offsets(b, codes);
  const subgraphs = offsets(b, [subgraph]);
  const buffers = offsets(b, [emptyBuffer]);
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, codeVector, 0);
  b.addFieldOffset(2, subgraphs, 0);
  b.addFieldOffset(4, buffers, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array();
}
