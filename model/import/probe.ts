// Runs a model through onnxruntime with every intermediate tensor fetched: the shapes each layer has at the window
// size, and the values of computed constants (e.g. a weight that the file reshapes at run time).
import { openSession, runSession, type NamedTensor } from '../runtime/ort.ts';
import { cloneModel, encodeModel, graphOf, onnx, type Model } from './onnx-file.ts';

export type Tensors = Map<string, NamedTensor>;

/** Runs one float32 input; returns the named tensors (all first outputs of nodes when names is omitted). */
export async function runModel(
  model: Model,
  inputName: string,
  input: NamedTensor,
  names?: string[],
): Promise<Tensors> {
  const probed = cloneModel(model);
  const graph = graphOf(probed);
  const wanted = names ?? graph.node.map((node) => node.output[0]).filter(Boolean);
  const declared = new Set(graph.output.map((info) => info.name));
  for (const name of wanted) if (!declared.has(name)) graph.output.push(onnx.ValueInfoProto.create({ name }));
  const { session } = await openSession(encodeModel(probed), { device: 'cpu', intraOpThreads: 1 });
  try {
    const results = await runSession(session, inputName, input, [...new Set(wanted)]);
    return new Map(Object.entries(results));
  } finally {
    await session.release();
  }
}
