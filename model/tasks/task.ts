// A task turns one inference result into its answer. createTagmap() runs every task the same way (pick the
// model, resolve the options, admit, decode, plan, run on the pool), so a new task is a new file like these.
import type { Card } from '../contract/card.ts';
import type { CardTask } from '../runtime/catalog.ts';
import type { ResolvedRun } from '../runtime/options.ts';
import type { ResolveContext } from '../runtime/vocabulary-options.ts';
import type { Ran } from '../runtime/run.ts';

interface TaskContext {
  maxPixels: number;
}

export interface Task<Options, Resolved extends ResolvedRun, Result> {
  /** the card task a model must be meant for; undefined: any model */
  cardTask?: CardTask;
  /** also compute the per-pixel label map in the worker */
  labelMap: boolean;
  resolve(options: Options, card: Card, maxSideLimit: number, context: ResolveContext): Resolved;
  answer(ran: Ran, request: Resolved, context: TaskContext): Result | Promise<Result>;
}
