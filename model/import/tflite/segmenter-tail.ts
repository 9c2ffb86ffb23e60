// A TFLite segmenter (DeepLab and the like) ends in ARG_MAX over its logits, often after resizes back to the input
// size. tagmap wants the logits themselves at their own, low resolution: its parse path upsamples them bilinearly
// and takes the argmax per pixel, and the resizes name a fixed output size that would pin the input size. So the
// tail is cut back to the logits, and the converter never sees it.
import { ImportError } from '../import-error.ts';
import { where } from './op-context.ts';
import type { TfliteModel, TfliteOperator } from './reader.ts';
import { intConstant } from './weights.ts';

/** Ops a segmenter may have between its logits and the ARG_MAX: resizes only change the resolution. */
const RESIZE_OPS = new Set(['RESIZE_BILINEAR', 'RESIZE_NEAREST_NEIGHBOR']);

export interface SegmenterTail {
  /** operator indices left out of the conversion */
  cut: Set<number>;
  /** the tensor that becomes the output: NHWC logits [1, h, w, K] */
  logits: number;
  /** one line per cut op, for the card's rewrites */
  rewrites: string[];
}

const hw = (shape: number[]) => `${shape[1]}x${shape[2]}`;

/** The ARG_MAX tail of the graph, or undefined when the output is not an ARG_MAX (a classifier). */
export function findSegmenterTail(model: TfliteModel): SegmenterTail | undefined {
  const producer = new Map<number, TfliteOperator>();
  for (const op of model.operators) for (const id of op.outputs) producer.set(id, op);
  const readers = (id: number) => model.operators.filter((op) => op.inputs.includes(id));
  const argmax = model.outputs.length === 1 ? producer.get(model.outputs[0]) : undefined;
  if (argmax?.op !== 'ARG_MAX') return undefined;

  const shape = (id: number) => model.tensors[id].shape;
  let logits = argmax.inputs[0];
  const rank = shape(logits).length;
  const [axis] = intConstant(model, model.tensors[argmax.inputs[1]], where(argmax));
  if (rank !== 4 || (axis !== 3 && axis !== -1))
    throw new ImportError(
      `${where(argmax)}: a segmenter's ARG_MAX must run over the channels of an NHWC map, ` +
        `got axis ${axis} of [${shape(logits)}]`,
    );
  const cut = new Set([argmax.index]);
  const rewrites = [
    `${where(argmax)} cut: the output is the logits, tagmap takes the argmax per pixel itself (task parse)`,
  ];
  for (let op = producer.get(logits); op && RESIZE_OPS.has(op.op); op = producer.get(logits)) {
    // a resize that something else also reads is part of the net, not of the tail
    if (readers(op.outputs[0]).length !== 1) break;
    const from = op.inputs[0];
    rewrites.push(
      `${where(op)} (${hw(shape(from))} -> ${hw(shape(op.outputs[0]))}) cut: ` +
        'tagmap upsamples the logits to the image bilinearly itself',
    );
    cut.add(op.index);
    logits = from;
  }
  rewrites.push(
    `output: the logits '${model.tensors[logits].name.split(';')[0]}' [${shape(logits)}] (NHWC) at the file's size`,
  );
  return { cut, logits, rewrites };
}
