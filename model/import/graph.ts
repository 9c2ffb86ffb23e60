// Lookups over an ONNX graph: who produces and who consumes a tensor, which tensors are constants, which input
// carries the image; and pruning of whatever no output needs any more.
import { ImportError } from './import-error.ts';
import { describeNode, type Graph, type Node, type Tensor } from './onnx-file.ts';

export class GraphIndex {
  readonly producers = new Map<string, Node>();
  readonly initializers = new Map<string, Tensor>();
  private readonly constants = new Map<string, boolean>();

  constructor(readonly graph: Graph) {
    for (const node of graph.node) for (const output of node.output) if (output) this.producers.set(output, node);
    for (const tensor of graph.initializer) this.initializers.set(tensor.name, tensor as Tensor);
  }

  /** True for initializers and for tensors computed from constants only (Constant nodes, reshaped weights). */
  isConstant(name: string): boolean {
    const known = this.constants.get(name);
    if (known !== undefined) return known;
    const producer = this.producers.get(name);
    const constant =
      this.initializers.has(name) ||
      (producer !== undefined && producer.input.every((input) => !input || this.isConstant(input)));
    this.constants.set(name, constant);
    return constant;
  }

  /** The one non-constant input of a node (the data path through a head). */
  dataInput(node: Node): string {
    const data = node.input.filter((input) => input && !this.isConstant(input));
    if (data.length !== 1) {
      throw new ImportError(
        `unsupported head: ${describeNode(node)} has ${data.length} non-constant inputs (${data.join(', ')}); ` +
          'a classifier head must be a single chain of layers',
      );
    }
    return data[0];
  }

  /** The input that carries the image: the graph input that is not an initializer. */
  imageInput(): string {
    const inputs = this.graph.input.map((info) => info.name).filter((name) => !this.initializers.has(name));
    if (inputs.length !== 1)
      throw new ImportError(`expected one image input, found ${inputs.length}: ${inputs.join(', ') || 'none'}`);
    return inputs[0];
  }
}

/** Drops nodes that no graph output depends on, then initializers (and their IR<4 input entries) nobody reads. */
export function pruneUnused(graph: Graph): void {
  const needed = new Set(graph.output.map((info) => info.name));
  const kept: Node[] = [];
  for (const node of [...graph.node].reverse()) {
    if (!node.output.some((output) => needed.has(output))) continue;
    kept.push(node as Node);
    for (const input of node.input) if (input) needed.add(input);
  }
  graph.node = kept.reverse();
  graph.initializer = graph.initializer.filter((tensor) => needed.has(tensor.name));
  graph.input = graph.input.filter((info) => needed.has(info.name));
}
