// The source file of an import as a float32 ONNX model: ONNX as it is, a TFLite flatbuffer (identifier "TFL3" at
// byte 4) converted. Also what the file tells about its input convention and the integers behind its weights.
import { decodeModel, encodeModel } from './onnx-file.ts';
import { convertTflite, type Converted } from './tflite/convert.ts';
import { isTflite, readTflite } from './tflite/reader.ts';

/** What the file holds (see Converted), and which format it came in. */
export type SourceModel = Converted & { format: 'onnx' | 'tflite' };

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
    ...converted,
    // encoded and decoded once, so that the model has every field a decoded file has (the rewrites expect them)
    model: decodeModel(encodeModel(converted.model), file),
  };
}
