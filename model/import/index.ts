// The importer's public face for the command lines: turn a third-party ONNX classifier into a tagmap model
// folder, verify one, and run an original for reference. Offline work; the server never loads this.
export { ImportError } from './import-error.ts';
export { importModel } from './importer.ts';
export { decodeModel, encodeModel } from './onnx-file.ts';
export { dequantizeModel, isQuantized } from './quantized/dequantize-graph.ts';
export { originalReference } from './original-reference.ts';
export { pinModelFolder } from './pin.ts';
export { formatChecks, ModelRunner, verifyModel } from './verify.ts';
