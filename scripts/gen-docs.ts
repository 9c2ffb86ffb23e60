// npm run docs [-- --check]: rewrites the generated reference tables in docs/*.md from the code they describe,
// so that the docs, the OpenAPI document and the validation say the same thing. A table sits between
// `<!-- generated:NAME -->` and `<!-- /generated:NAME -->`; the text outside the markers is left alone.
//   settings: the environment variables, from envSchema in server/config.ts
//   errors:   the problem codes, from PROBLEMS in server/errors.ts
//   options:  the request options of each POST route, from the OpenAPI document (server/openapi.ts)
//   limits:   the settings that bound size, work and time, and the fixed timeouts of server/timeouts.ts
//   refusals: the same problem codes by status, with their Retry-After (docs/reliability.md)
// --check writes nothing and exits 1 when a page is stale (npm test runs it).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { envSchema } from '../server/config.ts';
import { PROBLEMS } from '../server/errors.ts';
import { FIXED_TIMEOUTS } from '../server/timeouts.ts';
import { openApiDocument } from '../server/openapi.ts';

export const DOCS_DIR = fileURLToPath(new URL('../docs', import.meta.url));

/** The parts of JSON Schema (as zod and zod-to-openapi write it) that the tables show. */
interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  title?: string;
  examples?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  required?: string[];
}

interface Parameter {
  $ref?: string;
  name: string;
  in: string;
  description?: string;
  required?: boolean;
  style?: string;
  explode?: boolean;
  schema?: JsonSchema;
}

// ---- cells ----

const code = (value: unknown) => `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;

/** One table cell: no line breaks, and a `|` that does not end the cell. */
const cell = (text: string) =>
  text
    .replace(/\s*\n\s*/g, ' ')
    .replace(/\|/g, '\\|')
    .trim();

/** A Markdown table; a column that is empty in every row is left out. */
function table(header: string[], rows: string[][]): string {
  const kept = header.map((_, i) => rows.some((row) => row[i] !== ''));
  const line = (cells: string[]) =>
    `| ${cells
      .filter((_, i) => kept[i])
      .map(cell)
      .join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const BYTE_UNITS = [
  ['GiB', 2 ** 30],
  ['MiB', 2 ** 20],
  ['KiB', 2 ** 10],
] as const;

/** 20971520 -> "20971520 (20 MiB)" for byte counts that are whole KiB, MiB or GiB. */
function withUnit(value: number, bytes: boolean): string {
  const unit = bytes && value >= 1024 ? BYTE_UNITS.find(([, size]) => value % size === 0) : undefined;
  return unit ? `${value} (${value / unit[1]} ${unit[0]})` : String(value);
}

/** "1 to 4", "at least 1", "at most 4", or '' when neither bound is known. */
function span(low: string | undefined, high: string | undefined): string {
  if (low !== undefined && high !== undefined) return `${low} to ${high}`;
  if (low !== undefined) return `at least ${low}`;
  if (high !== undefined) return `at most ${high}`;
  return '';
}

function range(s: JsonSchema, bytes = false): string {
  const bound = (value: number | undefined, exclusive: boolean) =>
    value === undefined ? undefined : `${withUnit(value, bytes)}${exclusive ? ' (excluded)' : ''}`;
  return span(
    bound(s.minimum ?? s.exclusiveMinimum, s.minimum === undefined && s.exclusiveMinimum !== undefined),
    bound(s.maximum ?? s.exclusiveMaximum, s.maximum === undefined && s.exclusiveMaximum !== undefined),
  );
}

function textLimits(s: JsonSchema): string {
  const length =
    s.minLength === 1 && s.maxLength === undefined
      ? 'non-empty'
      : span(
          s.minLength === undefined ? undefined : String(s.minLength),
          s.maxLength === undefined ? undefined : String(s.maxLength),
        );
  const parts = [
    length && length !== 'non-empty' ? `${length} characters` : length,
    s.format && `format ${s.format}`,
    s.pattern && `matching ${code(s.pattern)}`,
  ];
  return parts.filter(Boolean).join(', ');
}

const ITEM_NOUNS: Record<string, string> = { integer: 'whole numbers', number: 'numbers', string: 'strings' };

/** What values a schema allows, in words: `a`, `b`; whole number, 1 to 64; 1 to 4 numbers, each 0.25 to 4 */
function allowed(s: JsonSchema, bytes = false): string {
  if (s.enum) return s.enum.map(code).join(', ');
  if (s.const !== undefined) return code(s.const);
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives)
    return alternatives
      .map((a) => allowed(a, bytes))
      .filter(Boolean)
      .join('; or ');
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  const limits = (words: string, detail: string) => (detail ? `${words}, ${detail}` : words);
  switch (type) {
    case 'integer':
      return limits('whole number', range(s, bytes));
    case 'number':
      return limits('number', range(s, bytes));
    case 'boolean':
      return '`true`, `false`';
    case 'string': {
      const detail = textLimits(s);
      return detail === 'non-empty' ? 'non-empty text' : limits('text', detail);
    }
    case 'array': {
      const count =
        span(
          s.minItems === undefined ? undefined : String(s.minItems),
          s.maxItems === undefined ? undefined : String(s.maxItems),
        ) || 'any number of';
      const item = s.items ?? {};
      if (item.enum) return `${count} of ${allowed(item, bytes)}`;
      const numeric = item.type === 'integer' || item.type === 'number';
      const detail = numeric ? range(item, bytes) : item.type === 'string' ? textLimits(item) : allowed(item, bytes);
      return `${count} ${ITEM_NOUNS[String(item.type)] ?? 'items'}${detail ? `, each ${detail}` : ''}`;
    }
    case 'object': {
      // a record (z.record): values by name
      const value = s.additionalProperties;
      return typeof value === 'object' ? `values by name, each ${allowed(value, bytes)}` : '';
    }
    default:
      return '';
  }
}

function defaultText(value: unknown, bytes = false): string {
  if (value === undefined) return '';
  if (value === '') return 'empty';
  if (typeof value === 'number') return withUnit(value, bytes);
  return code(value);
}

/** description, else title; examples after it. */
function meaning(s: JsonSchema, fallback = ''): string {
  const text = s.description ?? s.title ?? fallback;
  const examples = s.examples?.length ? `e.g. ${s.examples.map(code).join(', ')}` : '';
  return [text, examples].filter(Boolean).join('; ');
}

// ---- sections ----

/** Environment variables whose schema has no description (the report of `npm run docs` names them). */
const undescribedSettings: string[] = [];

/** A row per environment variable (those whose name `keep` accepts): name, default, allowed, what. */
function settingRows(keep: (name: string) => boolean = () => true): string[][] {
  const schema = z.toJSONSchema(envSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const required = new Set(schema.required ?? []);
  return Object.entries(schema.properties ?? {})
    .filter(([name]) => keep(name))
    .map(([name, s]) => {
      if (!s.description && !s.title && !undescribedSettings.includes(name)) undescribedSettings.push(name);
      const bytes = /BYTES$/.test(name);
      const dflt = s.default !== undefined ? defaultText(s.default, bytes) : required.has(name) ? 'required' : 'unset';
      return [code(name), dflt, allowed(s, bytes), meaning(s)];
    });
}

function settingsSection(): string {
  undescribedSettings.length = 0;
  return table(['variable', 'default', 'allowed', 'what'], settingRows());
}

/** Every answer that is not a success, by status: what a client must expect and whether to retry. */
function refusalsSection(): string {
  const rows = Object.entries(PROBLEMS)
    .sort(([a, p], [b, q]) => p.status - q.status || (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, p]) => [String(p.status), code(name), p.retryAfter === undefined ? '' : `${p.retryAfter} s`, p.when]);
  return table(['status', 'code', 'Retry-After', 'when'], rows);
}

/** The settings that bound work, size or time, then the server's fixed timeouts. */
const LIMIT_SETTING = /MAX_|TIMEOUT|QUEUE|WORKERS|THREADS|RATE_|TTL/;

function limitsSection(): string {
  const fixed = Object.entries(FIXED_TIMEOUTS).map(([name, t]) => [`${code(name)} (fixed)`, `${t.ms} ms`, '', t.what]);
  return table(
    ['setting', 'default', 'allowed', 'what'],
    [...settingRows((name) => LIMIT_SETTING.test(name)), ...fixed],
  );
}

function errorsSection(): string {
  const rows = Object.entries(PROBLEMS)
    .sort(([a, p], [b, q]) => p.status - q.status || (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, p]) => {
      const retry = p.retryAfter === undefined ? '' : ` (with \`Retry-After: ${p.retryAfter}\`)`;
      return [code(name), String(p.status), p.title, `${p.when}${retry}`];
    });
  return table(['code', 'status', 'title', 'when'], rows);
}

function optionsSection(): string {
  const doc = openApiDocument() as unknown as {
    paths?: Record<string, Record<string, { parameters?: Parameter[]; summary?: string }>>;
    components?: Record<string, Record<string, unknown>>;
  };
  const resolve = <T>(item: T & { $ref?: string }): T => {
    if (!item.$ref) return item;
    const [, , kind, name] = item.$ref.split('/'); // #/components/KIND/NAME
    const target = doc.components?.[kind]?.[name];
    if (!target) throw new Error(`openapi: cannot resolve ${item.$ref}`);
    return resolve(target as T & { $ref?: string });
  };
  const blocks: string[] = [];
  for (const [route, operations] of Object.entries(doc.paths ?? {})) {
    const query = (operations.post?.parameters ?? []).map(resolve).filter((p) => p.in === 'query');
    if (query.length === 0) continue;
    const rows = query.map((p) => {
      const s = resolve(p.schema ?? {});
      const items = s.items && resolve(s.items);
      const values = allowed({ ...s, items });
      const list = s.type === 'array' && p.explode === false ? '; comma-separated in a query string' : '';
      return [
        code(p.name),
        `${values}${list}`,
        defaultText(s.default),
        meaning({ ...s, description: p.description ?? s.description }),
      ];
    });
    blocks.push(`#### \`POST ${route}\`\n\n${table(['option', 'values', 'default', 'what'], rows)}`);
  }
  if (blocks.length === 0) throw new Error('openapi: no POST route with query parameters');
  return blocks.join('\n\n');
}

const SECTIONS: Record<string, { source: string; render: () => string }> = {
  settings: { source: 'envSchema in server/config.ts', render: settingsSection },
  errors: { source: 'PROBLEMS in server/errors.ts', render: errorsSection },
  limits: { source: 'envSchema in server/config.ts and server/timeouts.ts', render: limitsSection },
  refusals: { source: 'PROBLEMS in server/errors.ts', render: refusalsSection },
  options: { source: 'the OpenAPI document, server/openapi.ts', render: optionsSection },
};

// ---- pages ----

const MARKED = /<!-- generated:([\w-]+) -->\n[\s\S]*?<!-- \/generated:\1 -->/g;
const OPENING = /<!-- generated:([\w-]+) -->/g;

/** The page with every generated section rewritten; `found` collects the names of the sections it holds. */
function rewritePage(text: string, rendered: Record<string, string>, found = new Set<string>()): string {
  const opened = [...text.matchAll(OPENING)].map((m) => m[1]);
  const closed = [...text.matchAll(MARKED)].map((m) => m[1]);
  if (opened.length !== closed.length) {
    const unclosed = opened.filter((name) => !closed.includes(name));
    throw new Error(
      `a generated section has no closing marker: ${unclosed.map((n) => `<!-- /generated:${n} -->`).join(', ')}`,
    );
  }
  return text.replace(MARKED, (_whole, name: string) => {
    const section = SECTIONS[name];
    if (!section) throw new Error(`unknown generated section "${name}"; known: ${Object.keys(SECTIONS).join(', ')}`);
    found.add(name);
    const note = `<!-- made by npm run docs from ${section.source}; edit the code, not this table -->`;
    return `<!-- generated:${name} -->\n${note}\n\n${rendered[name]}\n\n<!-- /generated:${name} -->`;
  });
}

export interface DocsReport {
  /** pages (relative to the docs folder) whose generated sections differ from the code */
  stale: string[];
  /** sections that no page holds */
  missing: string[];
}

/** Rewrites the pages of `dir` (or, with check, only compares them). */
export function generateDocs(options: { dir?: string; check?: boolean } = {}): DocsReport {
  const dir = options.dir ?? DOCS_DIR;
  const rendered = Object.fromEntries(Object.entries(SECTIONS).map(([name, s]) => [name, s.render()]));
  const found = new Set<string>();
  const stale: string[] = [];
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()) {
    const page = path.join(dir, file);
    const before = readFileSync(page, 'utf8');
    let after;
    try {
      after = rewritePage(before, rendered, found);
    } catch (error) {
      throw new Error(`${path.relative(process.cwd(), page)}: ${(error as Error).message}`, { cause: error });
    }
    if (after === before) continue;
    stale.push(file);
    if (!options.check) writeFileSync(page, after);
  }
  const missing = Object.keys(SECTIONS).filter((name) => !found.has(name));
  return { stale, missing };
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const unknown = argv.filter((a) => a !== '--check');
  if (unknown.length > 0) {
    process.stderr.write(`gen-docs: unknown argument ${unknown.join(' ')}\nusage: npm run docs [-- --check]\n`);
    return 2;
  }
  const { stale, missing } = generateDocs({ check });
  const shown = (files: string[]) => files.map((f) => path.join('docs', f)).join(', ');
  if (missing.length > 0) {
    process.stderr.write(
      `gen-docs: no page holds the generated section(s) ${missing.join(', ')}: ` +
        `add <!-- generated:NAME --> and <!-- /generated:NAME --> to a page in docs/\n`,
    );
  }
  if (undescribedSettings.length > 0) {
    process.stderr.write(`gen-docs: note: no .describe() in envSchema for ${undescribedSettings.join(', ')}\n`);
  }
  if (check) {
    if (stale.length > 0) process.stderr.write(`gen-docs: stale generated docs: ${shown(stale)}; run npm run docs\n`);
    else if (missing.length === 0) process.stdout.write('gen-docs: docs/ is up to date\n');
    return stale.length > 0 || missing.length > 0 ? 1 : 0;
  }
  process.stdout.write(stale.length > 0 ? `gen-docs: rewrote ${shown(stale)}\n` : 'gen-docs: docs/ was up to date\n');
  return missing.length > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
