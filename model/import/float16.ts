// float16 -> float32 for a whole model: weights, constants, Cast targets and the declared types of inputs and
// outputs. Every half is exactly representable in float32, so the weights do not change.
import { graphOf, onnx, type Graph, type Model, type Tensor } from './onnx-file.ts';
import { floatTensor, tensorDims, tensorValues } from './tensors.ts';

const { FLOAT, FLOAT16 } = onnx.TensorProto.DataType;

interface Counts {
  tensors: number;
  casts: number;
  types: number;
}

function widen(tensor: Tensor): Tensor {
  return floatTensor(tensor.name, tensorDims(tensor), tensorValues(tensor));
}

function convertGraph(graph: Graph, counts: Counts): void {
  graph.initializer = graph.initializer.map((tensor) => {
    if (tensor.dataType !== FLOAT16) return tensor;
    counts.tensors++;
    return widen(tensor);
  });
  for (const node of graph.node) {
    for (const attribute of node.attribute) {
      if (attribute.t && attribute.t.dataType === FLOAT16) {
        attribute.t = widen(attribute.t as Tensor);
        counts.tensors++;
      }
      if (node.opType === 'Cast' && attribute.name === 'to' && Number(attribute.i) === FLOAT16) {
        attribute.i = FLOAT;
        counts.casts++;
      }
      if (attribute.g) convertGraph(attribute.g as Graph, counts);
    }
  }
  for (const info of [...graph.input, ...graph.output, ...graph.valueInfo]) {
    const tensorType = info.type?.tensorType;
    if (tensorType && tensorType.elemType === FLOAT16) {
      tensorType.elemType = FLOAT;
      counts.types++;
    }
  }
}

/** Converts in place; returns a line for the card's rewrites, or nothing when the model had no float16. */
export function convertFloat16(model: Model): string | undefined {
  const counts: Counts = { tensors: 0, casts: 0, types: 0 };
  convertGraph(graphOf(model), counts);
  if (counts.tensors + counts.casts + counts.types === 0) return undefined;
  return (
    `float16 -> float32: ${counts.tensors} weight/constant tensors, ${counts.casts} Cast nodes, ` +
    `${counts.types} declared input/output/value types`
  );
}
