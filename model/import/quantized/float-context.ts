// What the conversion of a quantized graph to float shares between its steps: the constants (initializers, old and
// new), the nodes emitted so far, and the quantized tensors whose float value now flows under another name.
import {
  graphOf,
  makeNode,
  onnx,
  toNumber,
  type Attribute,
  type Graph,
  type Model,
  type Node,
  type Tensor,
} from '../onnx-file.ts';
import { floatTensor } from '../tensors.ts';
import { floatRange, type Quantization } from './quant-params.ts';

export class FloatContext {
  readonly graph: Graph;
  readonly constants = new Map<string, Tensor>();
  readonly nodes: Node[] = [];
  /** dequantized tensor name -> the float tensor that now carries its value */
  private readonly aliases = new Map<string, string>();
  private readonly opset: number;

  constructor(model: Model) {
    this.graph = graphOf(model);
    for (const tensor of this.graph.initializer) this.constants.set(tensor.name, tensor as Tensor);
    const own = model.opsetImport?.find((entry) => !entry.domain || entry.domain === 'ai.onnx');
    this.opset = own?.version ? toNumber(own.version) : 1;
  }

  addConstant(name: string, dims: number[], values: Float32Array): string {
    const tensor = floatTensor(name, dims, values);
    this.graph.initializer.push(tensor);
    this.constants.set(name, tensor);
    return name;
  }

  alias(name: string, carriedBy: string): void {
    this.aliases.set(name, this.resolve(carriedBy));
  }

  resolve(name: string): string {
    return this.aliases.get(name) ?? name;
  }

  emit(opType: string, name: string, inputs: string[], output: string, attribute: Attribute[] = []): void {
    this.nodes.push(
      makeNode(
        opType,
        name,
        inputs.map((input) => input && this.resolve(input)),
        [output],
        attribute,
      ),
    );
  }

  /** Clip to what the int8 tensor can hold: the saturation that carries fused ReLUs and ReLU6s. */
  emitClip(name: string, input: string, output: string, q: Quantization): void {
    const [low, high] = floatRange(q);
    if (this.opset >= 11) {
      const bounds = [this.addConstant(`${name}_min`, [], Float32Array.of(low))];
      bounds.push(this.addConstant(`${name}_max`, [], Float32Array.of(high)));
      this.emit('Clip', name, [input, ...bounds], output);
      return;
    }
    const float = (attr: string, f: number) =>
      onnx.AttributeProto.create({
        name: attr,
        type: onnx.AttributeProto.AttributeType.FLOAT,
        f,
      }) as unknown as Attribute;
    this.emit('Clip', name, [input], output, [float('min', low), float('max', high)]);
  }

  /** Graph outputs keep their names: the float tensor that carries an aliased output is renamed to it. */
  finish(): void {
    for (const info of this.graph.output) {
      const carrier = this.resolve(info.name);
      if (carrier === info.name) continue;
      for (const node of this.nodes) {
        node.input = node.input.map((input) => (input === carrier ? info.name : input));
        node.output = node.output.map((output) => (output === carrier ? info.name : output));
      }
    }
    this.graph.node = this.nodes;
    this.graph.valueInfo = [];
  }
}
