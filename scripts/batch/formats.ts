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

/** Joins a tag's categories and raw class labels in one CSV field (no label or category has a `|`). */
const LIST_SEPARATOR = '|';

const jsonl: RowFormat = { format: (row) => `${JSON.stringify(row)}\n` };

type Cell = string | number | boolean | undefined;
// RFC 4180: CRLF line ends; fields with a comma, quote or line break quoted, quotes doubled
const csvText = (records: Cell[][]) => stringify(records, { record_delimiter: 'windows', cast: { boolean: String } });

// New columns only ever go at the end, so readers that pick columns by position (or by name) keep working.
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
  // photo labels (--vocabulary photo): the tag's categories, its raw classes' labels, its finer label
  'categories',
  'classes',
  'finer',
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

/** The CSV header fields of a task's output, in order. */
export const csvColumns = (task: Task): readonly string[] => (task === 'tag' ? TAG_COLUMNS : PARSE_COLUMNS);

const joined = (list: string[] | undefined) => list?.join(LIST_SEPARATOR);

/** One record per tag (or legend entry); an input with none still gets one record, with empty tag fields. */
function csvRecords(row: Row, task: Task): Cell[][] {
  const width = csvColumns(task).length;
  if (!row.ok) {
    const record: Cell[] = [row.input, false, ...new Array(width - 2).fill(undefined)];
    record[csvColumns(task).indexOf('error_code')] = row.error.code;
    record[csvColumns(task).indexOf('error_message')] = row.error.message;
    return [record];
  }
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
    joined(t?.categories),
    joined(t?.classes?.map((c) => c.label)),
    t?.finer,
  ]);
}

/**
 * A CSV output already begun (--resume) goes on in the layout of its header: the current columns, or the
 * columns of an earlier tagmap (a leading part of them, e.g. without the photo-label columns), whose records
 * are then written without the newer columns. Returns how many columns to write, or throws naming the
 * difference.
 */
export function resumedColumns(found: readonly string[], task: Task): number {
  const columns = csvColumns(task);
  const prefix = found.length > 0 && found.length <= columns.length && found.every((name, i) => name === columns[i]);
  // an earlier layout still has every column up to error_message
  if (prefix && found.length >= columns.indexOf('error_message') + 1) return found.length;
  const missing = columns.filter((name) => !found.includes(name));
  const unexpected = found.filter((name) => !columns.includes(name));
  const differences = [
    missing.length > 0 ? `missing ${missing.join(', ')}` : '',
    unexpected.length > 0 ? `unexpected ${unexpected.join(', ')}` : '',
  ].filter(Boolean);
  throw new Error(
    `its header (${found.join(',')}) is not that of --task ${task} (${columns.join(',')}): ` +
      `${differences.length > 0 ? differences.join('; ') : 'the columns are in another order'}`,
  );
}

/** `columns`: CSV only, write just the first that many columns (an output begun by an earlier tagmap). */
export function rowFormat(name: FormatName, task: Task, columns = csvColumns(task).length): RowFormat {
  if (name === 'jsonl') return jsonl;
  return {
    header: csvText([csvColumns(task).slice(0, columns)]),
    format: (row) => csvText(csvRecords(row, task).map((record) => record.slice(0, columns))),
  };
}
