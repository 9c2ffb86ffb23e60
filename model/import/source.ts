// The source file of an import as a float32 ONNX model: ONNX as it is, a TFLite flatbuffer (identifier "TFL3" at
// byte 4) converted. Also what the file tells about its input convention and the integers behind its weights.
import { decodeModel, encodeModel, type Model } from './onnx-file.ts';
import { convertTflite, type Activations, type InputDefaults } from './tflite/convert.ts';
import { isTflite, readTflite } from './tflite/reader.ts';
import type { QuantizedWeight } from './tflite/weights.ts';

export interface SourceModel {
  format: 'onnx' | 'tflite';
  model: Model;
  /** one line per change made to read the file, for the card */
  rewrites: string[];
  /** input scaling read from the file (a quantized input tensor); flags override it */
  inputDefaults?: InputDefaults;
  /** weights that were 8-bit integers in the file, by initializer name */
  quantized: Map<string, QuantizedWeight>;
  /** activations that were 8-bit in the file, by tensor name */
  activations: Activations;
  /** what the file is: a classifier ('tag') or a segmenter whose ARG_MAX tail was cut ('parse') */
  task: 'tag' | 'parse';
}

export function loadSourceModel(bytes: Uint8Array, file: string): SourceModel {
  if (!isTflite(bytes))
    return {
      format: 'onnx',
      model: decodeModel(bytes, file),
      rewrites: [],
      quantized: new Map(),
      activations: new Map(),
      task: 'tag',
    };
  const converted = convertTflite(readTflite(bytes, file), file);
  return {
    format: 'tflite',
    // encoded and decoded once, so that the model has every field a decoded file has (the rewrites expect them)
    model: decodeModel(encodeModel(converted.model), file),
    rewrites: converted.rewrites,
    inputDefaults: converted.inputDefaults,
    quantized: converted.quantized,
    activations: converted.activations,
    task: converted.task,
  };
}
