// Reading and writing ONNX files with onnx-proto (protobufjs), plus the small attribute helpers the rewrites need.
import onnxProto from 'onnx-proto';
import { ImportError } from './import-error.ts';

export const { onnx } = onnxProto;
export type Model = onnxProto.onnx.ModelProto;
export type Tensor = onnxProto.onnx.TensorProto;
type ValueInfo = onnxProto.onnx.ValueInfoProto;
type Int64 = number | { toNumber(): number };

// protobufjs types nested messages as all-optional interfaces; decoded messages always carry their repeated fields
// and scalar defaults, so the rewrites work on these views of them.
export interface Attribute {
  name: string;
  type: number;
  i: Int64;
  f: number;
  s: Uint8Array;
  ints: Int64[];
  t?: Tensor | null;
  g?: Graph | null;
}
export interface Node {
  name: string;
  opType: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: Attribute[];
}
export interface Graph {
  node: Node[];
  initializer: Tensor[];
  input: ValueInfo[];
  output: ValueInfo[];
  valueInfo: ValueInfo[];
}

export const graphOf = (model: Model): Graph => model.graph as unknown as Graph;

export const makeNode = (
  opType: string,
  name: string,
  input: string[],
  output: string[],
  attribute: Attribute[] = [],
): Node => onnx.NodeProto.create({ opType, name, input, output, attribute }) as unknown as Node;

/** Decodes an ONNX file; anything that is not a model with a graph is a clear error. */
export function decodeModel(bytes: Uint8Array, file: string): Model {
  let model: Model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    throw new ImportError(`${file} is not an ONNX model (protobuf decoding failed: ${(error as Error).message})`);
  }
  if (!model.graph?.node?.length) throw new ImportError(`${file} is not an ONNX model: it has no graph nodes`);
  return model;
}

export const encodeModel = (model: Model): Uint8Array => onnx.ModelProto.encode(model).finish();

/** A deep copy, so the original and the rewritten model never share messages. */
export const cloneModel = (model: Model): Model => onnx.ModelProto.decode(encodeModel(model));

/** int64 fields decode as Long objects when the long package is present. */
export const toNumber = (value: Int64): number => (typeof value === 'number' ? value : value.toNumber());

const findAttribute = (node: Node, name: string): Attribute | undefined => node.attribute.find((a) => a.name === name);
export const intAttribute = (node: Node, name: string, fallback: number): number => {
  const attribute = findAttribute(node, name);
  return attribute ? toNumber(attribute.i) : fallback;
};
export const intsAttribute = (node: Node, name: string): number[] | undefined =>
  findAttribute(node, name)?.ints.map(toNumber);
export const floatAttribute = (node: Node, name: string, fallback: number): number =>
  findAttribute(node, name)?.f ?? fallback;
export const stringAttribute = (node: Node, name: string, fallback: string): string => {
  const attribute = findAttribute(node, name);
  return attribute ? new TextDecoder().decode(attribute.s) : fallback;
};

export const intsAttr = (name: string, ints: number[]): Attribute =>
  onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.INTS, ints }) as unknown as Attribute;

/** How a node is named in messages: op type plus its name, or its first output when unnamed. */
export const describeNode = (node: Node): string => `${node.opType} node '${node.name || node.output[0]}'`;
