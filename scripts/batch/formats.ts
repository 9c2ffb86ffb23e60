// Output formats. Each input's text (one JSONL line, or all of its CSV records) is made whole here and
// written with one write, so a killed run never leaves half an input behind.
import { stringify } from 'csv-stringify/sync';
import type { CardTask } from '../../model/index.ts';
import { isParseOutcome, type Row } from './rows.ts';

export const FORMAT_NAMES = ['jsonl', 'csv'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];
/** --task: the batch script runs what a model card may be meant for */
export type Task = CardTask;

export interface RowFormat {
  /** written first into a new or empty output */
  header?: string;
  format(row: Row): string;
}

const jsonl: RowFormat = { format: (row) => `${JSON.stringify(row)}\n` };

type Cell = string | number | boolean | undefined;
// RFC 4180: CRLF line ends; fields with a comma, quote or line break quoted, quotes doubled
const csvText = (records: Cell[][]) => stringify(records, { record_delimiter: 'windows', cast: { boolean: String } });

const TAG_COLUMNS = [
  'input',
  'ok',
  'label',
  'id',
  'score',
  'coverage',
  'peak_x',
  'peak_y',
  'box_x',
  'box_y',
  'box_width',
  'box_height',
  'width',
  'height',
  'ms',
  'error_code',
  'error_message',
];
const PARSE_COLUMNS = [
  'input',
  'ok',
  'mask',
  'label',
  'id',
  'share',
  'width',
  'height',
  'ms',
  'error_code',
  'error_message',
];

/** One record per tag (or legend entry); an input with none still gets one record, with empty tag fields. */
function csvRecords(row: Row, task: Task): Cell[][] {
  const width = task === 'tag' ? TAG_COLUMNS.length : PARSE_COLUMNS.length;
  if (!row.ok) return [[row.input, false, ...new Array(width - 4).fill(undefined), row.error.code, row.error.message]];
  const size = [row.width, row.height, Math.round(row.ms)];
  if (isParseOutcome(row)) {
    const entries = row.legend.length > 0 ? row.legend : [undefined];
    return entries.map((l) => [row.input, true, row.mask, l?.name, l?.id, l?.share, ...size, undefined, undefined]);
  }
  const tags = row.tags.length > 0 ? row.tags : [undefined];
  return tags.map((t) => [
    row.input,
    true,
    t?.label,
    t?.id,
    t?.score,
    t?.coverage,
    t?.peak.x,
    t?.peak.y,
    t?.box.x,
    t?.box.y,
    t?.box.width,
    t?.box.height,
    ...size,
    undefined,
    undefined,
  ]);
}

export function rowFormat(name: FormatName, task: Task): RowFormat {
  if (name === 'jsonl') return jsonl;
  return {
    header: csvText([task === 'tag' ? TAG_COLUMNS : PARSE_COLUMNS]),
    format: (row) => csvText(csvRecords(row, task)),
  };
}
