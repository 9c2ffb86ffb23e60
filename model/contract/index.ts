// The contract of tagmap in zod: request options, results, settings, model cards, error codes and response
// headers. Pure (no Node or browser APIs), so the server, the CLIs and the web page all import it.
export * from './card.ts';
export * from './errors.ts';
export * from './headers.ts';
export * from './options.ts';
export * from './results.ts';
export * from './settings.ts';
export * from './vocabulary.ts';
