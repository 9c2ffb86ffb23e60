// What model/ hands the server and the batch script: the Tagmap. Its options, results and settings are the
// zod contract in model/contract/.
import type { Card } from './contract/card.ts';
import type { RunOptions, ParseOptions, TagOptions } from './contract/options.ts';
import type { ClassMapResult, ModelSummary, ParseResult, TagResult } from './contract/results.ts';

export interface Tagmap {
  /** resolves when the preload set (settings.preload; default: every model) is loaded and warmed */
  ready(): Promise<void>;
  isReady(): boolean;
  provider(): string;
  /** the models of the folder, each saying whether it is loaded now */
  models(): ModelSummary[];
  /**
   * Reads the models folder again; the new set replaces the old once its cards pass and its preload set is warm.
   * Rejects (naming the file) and keeps the old set when anything is wrong.
   */
  reload(): Promise<ModelSummary[]>;
  /** the models a tag request without `model` combines, the tagger first */
  tagModels(): string[];
  card(name: string): Card & { sha256: string };
  tag(image: Buffer, options?: TagOptions): Promise<TagResult>;
  parse(image: Buffer, options?: ParseOptions): Promise<ParseResult>;
  classMap(image: Buffer, options?: RunOptions): Promise<ClassMapResult>;
  /** current pool queue depth, for metrics */
  queueDepth(): number;
  /** stop taking work, let running work finish, reject queued work, release sessions */
  close(): Promise<void>;
}
