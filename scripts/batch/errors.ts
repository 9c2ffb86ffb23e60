// Errors of the batch script. A failed input becomes an error row with a code; a few codes mean the
// command itself is wrong (the same for every input, exit code 2) or that the server cannot be used now
// (exit code 1): both stop the run without writing rows for them.
import { isTagmapError } from '../../model/index.ts';
import type { RowError } from './rows.ts';

/** Codes of the batch script itself, next to model/'s TagmapErrorCode and the server's problem codes. */
type BatchErrorCode =
  | 'input_not_found' // a named file does not exist
  | 'input_unreadable' // exists but cannot be read (permissions, a folder, I/O error)
  | 'server_unreachable' // --server: no answer after every retry
  | 'server_error'; // --server: an answer that is not a tagmap response

export class BatchError extends Error {
  /** one of the batch codes, or the code a server's problem answer carried */
  constructor(
    readonly code: BatchErrorCode | (string & {}),
    message: string,
  ) {
    super(message);
    this.name = 'BatchError';
  }
}

/** Thrown for an input given up because the run is stopping; such inputs get no row, so --resume redoes them. */
export class Abandoned extends Error {
  constructor() {
    super('abandoned: the run is stopping');
    this.name = 'Abandoned';
  }
}

/** Wrong options (or API key) rather than bad inputs: every other input would fail the same way. */
export const USAGE_CODES = new Set(['bad_options', 'unknown_model', 'unknown_label', 'unauthorized']);

/**
 * The server is gone or refuses all work even after the retries: the run stops without writing rows for
 * these inputs, so that --resume sends them again later.
 */
export const STOP_CODES = new Set(['server_unreachable', 'overloaded', 'shutting_down', 'not_ready', 'rate_limited']);

export function rowError(error: unknown): RowError {
  if (error instanceof BatchError || isTagmapError(error)) return { code: error.code, message: error.message };
  return { code: 'internal', message: error instanceof Error ? error.message : String(error) };
}
