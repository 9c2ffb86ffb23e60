// What one input becomes in the output: one row, success or error, never both.
import type { LegendEntry, Tag } from '../../model/index.ts';

interface TagOutcome {
  tags: Tag[];
  width: number;
  height: number;
}

export interface ParseOutcome {
  /** path of the label PNG written under --masks */
  mask: string;
  legend: Array<Pick<LegendEntry, 'id' | 'name' | 'share'>>;
  width: number;
  height: number;
}

export type Outcome = TagOutcome | ParseOutcome;

export interface RowError {
  code: string;
  message: string;
}

export type Row =
  ({ input: string; ok: true } & Outcome & { ms: number }) | { input: string; ok: false; error: RowError };

export const isParseOutcome = (outcome: Outcome): outcome is ParseOutcome => 'mask' in outcome;
