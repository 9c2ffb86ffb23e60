// A TFLite classifier or segmenter as a float32 NCHW ONNX model (opset 13): the image input [1, C, H, W] at the
// file's size, the weights dequantized, each op converted by convert-ops.ts; a segmenter's ARG_MAX tail cut off
// (segmenter-tail.ts), so that its output is the logits [1, K, h, w]. The input tensor's quantization gives the
// card's input convention: uint8 value = scale * (q - zero_point), with q the pixel.
import { ImportError } from '../import-error.ts';
import type { Model } from '../onnx-file.ts';
import { convertOperator, SUPPORTED_OPS, type OpContext } from './convert-ops.ts';
import { OnnxBuilder } from './onnx-builder.ts';
import type { TfliteModel, TfliteOperator } from './reader.ts';
import { tensorTypeName } from './schema.ts';
import { clampToQuantizedRanges } from './saturate.ts';
import { findSegmenterTail } from './segmenter-tail.ts';
import type { QuantizedWeight } from './weights.ts';

interface InputDefaults {
  scale: number;
  mean: number[];
  std: number[];
}

export interface Converted {
  model: Model;
  rewrites: string[];
  /** the input convention read from the input tensor's quantization (undefined for float inputs) */
  inputDefaults?: InputDefaults;
  /** every weight that was quantized in the file, by ONNX initializer name */
  quantized: Map<string, QuantizedWeight>;
  /** quantization of every activation tensor, by ONNX tensor name (for a quantized-activation variant) */
  activations: Activations;
  /** 'parse' when the file is a segmenter (its ARG_MAX tail was cut back to the logits), else 'tag' */
  task: 'tag' | 'parse';
}

export type Activations = Map<string, { scale: number; zeroPoint: number; type: 'uint8' | 'int8' }>;

const UINT8 = 3;
const INT8 = 9;

function inputConvention(model: TfliteModel, id: number, file: string): InputDefaults | undefined {
  const t = model.tensors[id];
  if (t.type !== UINT8 && t.type !== INT8) return undefined;
  const q = t.quantization;
  if (!q || q.scale.length !== 1 || !(q.scale[0] > 0))
    throw new ImportError(`${file}: input '${t.name}' is ${tensorTypeName(t.type)} without a per-tensor scale`);
  // int8 inputs carry pixel - 128
  const zero = q.zeroPoint[0] + (t.type === INT8 ? 128 : 0);
  const channels = t.shape[3];
  return { scale: 1, mean: Array(channels).fill(zero), std: Array(channels).fill(1 / q.scale[0]) };
}

export function convertTflite(model: TfliteModel, file: string): Converted {
  const tail = findSegmenterTail(model);
  const operators = model.operators.filter((op) => !tail?.cut.has(op.index));
  const unsupported = operators.find((op) => !SUPPORTED_OPS.has(op.op));
  if (unsupported)
    throw new ImportError(
      `unsupported TFLite op ${unsupported.op} at operator ${unsupported.index} ` +
        `(tagmap converts ${[...SUPPORTED_OPS].join(', ')})`,
    );
  if (model.inputs.length !== 1 || model.outputs.length !== 1)
    throw new ImportError(
      `${file}: expected one input and one output, found ${model.inputs.length} and ${model.outputs.length}`,
    );
  const inputTensor = model.tensors[model.inputs[0]];
  const [n, h, w, c] = inputTensor.shape;
  if (inputTensor.shape.length !== 4 || ![1, 3].includes(c))
    throw new ImportError(
      `${file}: input '${inputTensor.name}' must be [N, H, W, C] with C = 1 or 3, got [${inputTensor.shape}]`,
    );

  const onnx = new OnnxBuilder();
  const consumers = new Map<number, TfliteOperator[]>();
  for (const op of operators) for (const id of op.inputs) consumers.set(id, [...(consumers.get(id) ?? []), op]);
  const ctx: OpContext = { model, onnx, values: new Map(), consumers, rewrites: [], segmenter: tail !== undefined };
  const inputName = onnx.name(inputTensor.name);
  ctx.values.set(model.inputs[0], { name: inputName, rank: 4 });
  for (const op of operators) convertOperator(ctx, op);
  const clamped = clampToQuantizedRanges(ctx, operators);

  const outputId = tail?.logits ?? model.outputs[0];
  const output = ctx.values.get(outputId);
  if (!output) throw new ImportError(`${file}: the output '${model.tensors[outputId].name}' is never computed`);
  const nhwc = model.tensors[outputId].shape;
  const outputShape = nhwc.length === 4 ? [nhwc[0], nhwc[3], nhwc[1], nhwc[2]] : nhwc;
  const activations: Activations = new Map();
  for (const [id, value] of ctx.values) {
    const t = model.tensors[id];
    const q = t.quantization;
    if ((t.type === UINT8 || t.type === INT8) && q?.scale.length === 1)
      activations.set(value.name, {
        scale: q.scale[0],
        zeroPoint: q.zeroPoint[0],
        type: t.type === UINT8 ? 'uint8' : 'int8',
      });
  }
  const rewrites = [
    ...(tail
      ? [`segmenter: the graph ends in ARG_MAX (operator ${Math.max(...tail.cut)}), imported for task parse`]
      : []),
    ...(tail?.rewrites ?? []),
    `TFLite ${operators.length}${tail ? ` of ${model.operators.length}` : ''} operators -> ONNX ${onnx.nodes.length} nodes (float32, NCHW, ` +
      `${onnx.quantized.size} weights and biases dequantized)`,
    ...ctx.rewrites,
    ...(clamped
      ? [
          `${clamped} activations clamped to the float range of their uint8/int8 quantization (the file saturates there)`,
        ]
      : []),
  ];
  return {
    model: onnx.model({ name: inputName, dims: [n, c, h, w] }, { name: output.name, dims: outputShape }),
    rewrites,
    inputDefaults: inputConvention(model, model.inputs[0], file),
    quantized: onnx.quantized,
    activations,
    task: tail ? 'parse' : 'tag',
  };
}
