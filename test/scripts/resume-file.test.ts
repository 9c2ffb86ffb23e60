// --resume's reading of an earlier output, in-process: the inputs that have rows, in both formats, with
// quoted CSV names and a torn last line cut off; a CSV header of an earlier tagmap (without the photo-label
// columns) goes on in that layout, any other header is refused naming the difference. And the CSV records of
// photo-label tags.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { csvColumns, rowFormat } from '../../scripts/batch/formats.ts';
import { readFinished } from '../../scripts/batch/resume.ts';
import type { Row } from '../../scripts/batch/rows.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-batch-resume-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tag = {
  label: 'tabby',
  id: 281,
  score: 0.5,
  coverage: 0.25,
  peak: { x: 1, y: 2 },
  box: { x: 0, y: 0, width: 4, height: 3 },
  parents: ['cat'],
};
/** a photo label, as --vocabulary photo gives it */
const photoTag = {
  ...tag,
  label: 'cat',
  categories: ['animal' as const],
  classes: [
    { label: 'tabby', id: 281, score: 0.5 },
    { label: 'tiger cat', id: 282, score: 0.25 },
  ],
  finer: 'tabby',
};
const rows: Row[] = [
  {
    input: 'photos/a, "quoted".jpg',
    ok: true,
    tags: [tag, { ...tag, label: 'tiger cat', id: 282 }, photoTag],
    width: 4,
    height: 3,
    ms: 12,
  },
  { input: 'photos/line\nbreak.jpg', ok: true, tags: [], width: 4, height: 3, ms: 9 },
  { input: 'photos/broken.jpg', ok: false, error: { code: 'undecodable_image', message: 'truncated, "really"' } },
];

function written(name: string, format: 'jsonl' | 'csv'): string {
  const file = path.join(dir, name);
  const f = rowFormat(format, 'tag');
  writeFileSync(file, (f.header ?? '') + rows.map((r) => f.format(r)).join(''));
  return file;
}

describe('readFinished', () => {
  for (const format of ['jsonl', 'csv'] as const) {
    it(`finds every input of a ${format} output, quotes and line breaks in names included`, async () => {
      const file = written(`whole.${format}`, format);
      const { done, tornBytes } = await readFinished(file, format, 'tag');
      expect([...done].sort()).toEqual(rows.map((r) => r.input).sort());
      expect(tornBytes).toBe(0);
    });

    it(`cuts a torn last line off a ${format} output and leaves its input to be done again`, async () => {
      const file = written(`torn.${format}`, format);
      const whole = readFileSync(file, 'utf8');
      appendFileSync(file, format === 'jsonl' ? '{"input":"photos/next.jpg","ok":tr' : '"photos/next.jpg",true,tab');
      const { done, tornBytes } = await readFinished(file, format, 'tag');
      expect(tornBytes).toBeGreaterThan(0);
      expect(done.has('photos/next.jpg')).toBe(false);
      expect(done.size).toBe(rows.length);
      expect(readFileSync(file, 'utf8')).toBe(whole);
    });
  }

  it('starts from nothing when the output does not exist yet', async () => {
    expect((await readFinished(path.join(dir, 'none.jsonl'), 'jsonl', 'tag')).done.size).toBe(0);
  });

  it('refuses a file that is not tagmap JSONL, naming the line', async () => {
    const file = path.join(dir, 'other.jsonl');
    writeFileSync(file, '{"input":"a.jpg","ok":true}\nnot json\n');
    await expect(readFinished(file, 'jsonl', 'tag')).rejects.toThrow(`${file}:2 is not a tagmap JSONL row`);
  });

  it('goes on in the layout of a CSV header of an earlier tagmap, without the photo-label columns', async () => {
    const old = csvColumns('tag').slice(0, csvColumns('tag').indexOf('error_message') + 1);
    expect(old.at(-1)).toBe('error_message');
    const file = path.join(dir, 'old.csv');
    const f = rowFormat('csv', 'tag', old.length);
    expect(f.header).toBe(`${old.join(',')}\r\n`);
    writeFileSync(file, f.header + rows.map((r) => f.format(r)).join(''));
    const { done, columns } = await readFinished(file, 'csv', 'tag');
    expect([...done].sort()).toEqual(rows.map((r) => r.input).sort());
    expect(columns).toBe(old.length);
    // every record of that layout has the old header's fields, no more
    const records = parse(readFileSync(file, 'utf8')) as string[][];
    expect(records.every((r) => r.length === old.length)).toBe(true);
    // a header of this tagmap's needs no other layout
    expect((await readFinished(written('new.csv', 'csv'), 'csv', 'tag')).columns).toBeUndefined();
  });

  it("refuses a CSV whose header is not the task's, naming the columns that differ", async () => {
    const file = path.join(dir, 'parse.csv');
    writeFileSync(file, rowFormat('csv', 'parse').header!);
    const refusal = readFinished(file, 'csv', 'tag');
    await expect(refusal).rejects.toThrow(`its header (${csvColumns('parse').join(',')}) is not that of --task tag`);
    await expect(refusal).rejects.toThrow(/missing score, coverage, .*, finer; unexpected mask, share$/);
    const shuffled = path.join(dir, 'shuffled.csv');
    const [input, ok, ...rest] = csvColumns('tag');
    writeFileSync(shuffled, `${[ok, input, ...rest].join(',')}\r\n`);
    await expect(readFinished(shuffled, 'csv', 'tag')).rejects.toThrow(/: the columns are in another order$/);
  });
});

describe('CSV records', () => {
  it("carry a photo label's categories, raw classes (joined with |) and finer label in the last columns", () => {
    const f = rowFormat('csv', 'tag');
    const records = parse(f.header! + f.format(rows[0]) + f.format(rows[2]), { columns: true }) as Array<
      Record<string, string>
    >;
    expect(Object.keys(records[0]).slice(-5)).toEqual([
      'error_code',
      'error_message',
      'categories',
      'classes',
      'finer',
    ]);
    expect(records[2]).toMatchObject({
      label: 'cat',
      categories: 'animal',
      classes: 'tabby|tiger cat',
      finer: 'tabby',
    });
    // raw classes have none of them
    expect(records[0]).toMatchObject({ label: 'tabby', categories: '', classes: '', finer: '' });
    // an error record has its code and message in their columns, the photo-label columns empty
    expect(records[3]).toMatchObject({
      ok: 'false',
      error_code: 'undecodable_image',
      error_message: 'truncated, "really"',
      categories: '',
      finer: '',
    });
  });
});
