// What the runner needs from a back end: one outcome per input (thrown errors become error rows) and a
// clean close. Two back ends: in-process (local.ts) and a running tagmap server (remote.ts).
import type { TagOptions } from '../../model/index.ts';
import type { Task } from './formats.ts';
import type { Outcome } from './rows.ts';

export interface Tagger {
  run(input: string, signal: AbortSignal): Promise<Outcome>;
  close(): Promise<void>;
}

/** What every back end is asked to do for each input. */
export interface Job {
  task: Task;
  /** tag options; parse uses the run options among them (model, scales, maxSide, density) */
  options: TagOptions;
  /** folder for label PNGs (task parse) */
  masksDir?: string;
}
