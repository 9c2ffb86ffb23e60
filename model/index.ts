// model/'s public face for the server and the CLIs: createTagmap(), its settings, the contract, and the few
// building blocks the command-line tools reuse. Everything else in model/ is internal (a lint rule keeps
// server/, scripts/ and web/ to this file, model/contract/index.ts and model/import/index.ts).
export * from './contract/index.ts';
export type { Tagmap } from './tagmap-api.ts';
export { createTagmap } from './tagmap.ts';
export { BUNDLED_MODELS, defaultConfig } from './settings.ts';
export { ModelLoadError, loadRegistry, type ModelEntry } from './runtime/registry.ts';
export { ACCEPTED_FORMATS, decodeImage, decodeLabelPng, encodeLabelPng, readHeader } from './io/image.ts';
export { createUrlFetcher, type UrlFetcher, type UrlFetchOptions } from './io/fetch-url.ts';
export { decodeMask } from './tasks/rle.ts';
// for the benchmarks, which time one onnxruntime pass against sliding windows outside the worker pool
export { openSession, ortVersion, runSession } from './runtime/ort.ts';
export { layoutScales } from './runtime/layout.ts';
export { buildTensor } from './runtime/tensor.ts';
// for measure-tag-models, which replays the combination's gates over recorded scores
export { maskVerdict } from './tasks/combined-tags.ts';
