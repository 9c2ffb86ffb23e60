// The ONNX graph the TFLite converter writes: nodes, float32 initializers and attributes, with tensor names kept
// unique, and the quantized integers of every weight remembered by initializer name.
import { makeNode, onnx, type Attribute, type Graph, type Model, type Node } from '../onnx-file.ts';
import { floatTensor } from '../tensors.ts';
import type { QuantizedWeight } from './weights.ts';

const { AttributeType } = onnx.AttributeProto;

export const intAttr = (name: string, i: number): Attribute =>
  onnx.AttributeProto.create({ name, type: AttributeType.INT, i }) as unknown as Attribute;
export const intsAttr = (name: string, ints: number[]): Attribute =>
  onnx.AttributeProto.create({ name, type: AttributeType.INTS, ints }) as unknown as Attribute;
export const stringAttr = (name: string, value: string): Attribute =>
  onnx.AttributeProto.create({
    name,
    type: AttributeType.STRING,
    s: new TextEncoder().encode(value),
  }) as unknown as Attribute;

export class OnnxBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: ReturnType<typeof floatTensor>[] = [];
  readonly quantized = new Map<string, QuantizedWeight>();
  private readonly used = new Set<string>();

  /** A fresh tensor name: the base (TFLite's first name segment) or the base with a suffix. */
  name(base: string): string {
    const clean = base.split(';')[0] || 'tensor';
    let name = clean;
    for (let i = 1; this.used.has(name); i++) name = `${clean}_${i}`;
    this.used.add(name);
    return name;
  }

  node(opType: string, inputs: string[], output: string, attributes: Attribute[] = []): string {
    this.nodes.push(makeNode(opType, output, inputs, [output], attributes));
    return output;
  }

  constant(base: string, dims: number[], values: Float32Array, quantized?: QuantizedWeight): string {
    const name = this.name(base);
    this.initializers.push(floatTensor(name, dims, values));
    if (quantized) this.quantized.set(name, quantized);
    return name;
  }

  model(input: { name: string; dims: number[] }, output: { name: string; dims: number[] }): Model {
    const info = (name: string, dims: number[]) => ({
      name,
      type: {
        tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } },
      },
    });
    const graph: Partial<Graph> & { name: string } = {
      name: 'tflite',
      node: this.nodes,
      initializer: this.initializers,
      input: [onnx.ValueInfoProto.create(info(input.name, input.dims))],
      output: [onnx.ValueInfoProto.create(info(output.name, output.dims))],
    };
    return onnx.ModelProto.create({
      irVersion: 7,
      producerName: 'tagmap tflite import',
      opsetImport: [{ domain: '', version: 13 }],
      graph: graph as never,
    });
  }
}
