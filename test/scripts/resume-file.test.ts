// --resume's reading of an earlier output, in-process: the inputs that have rows, in both formats, with
// quoted CSV names and a torn last line cut off.
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rowFormat } from '../../scripts/batch/formats.ts';
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
const rows: Row[] = [
  {
    input: 'photos/a, "quoted".jpg',
    ok: true,
    tags: [tag, { ...tag, label: 'tiger cat', id: 282 }],
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
      const { done, tornBytes } = await readFinished(file, format);
      expect([...done].sort()).toEqual(rows.map((r) => r.input).sort());
      expect(tornBytes).toBe(0);
    });

    it(`cuts a torn last line off a ${format} output and leaves its input to be done again`, async () => {
      const file = written(`torn.${format}`, format);
      const whole = readFileSync(file, 'utf8');
      appendFileSync(file, format === 'jsonl' ? '{"input":"photos/next.jpg","ok":tr' : '"photos/next.jpg",true,tab');
      const { done, tornBytes } = await readFinished(file, format);
      expect(tornBytes).toBeGreaterThan(0);
      expect(done.has('photos/next.jpg')).toBe(false);
      expect(done.size).toBe(rows.length);
      expect(readFileSync(file, 'utf8')).toBe(whole);
    });
  }

  it('starts from nothing when the output does not exist yet', async () => {
    expect((await readFinished(path.join(dir, 'none.jsonl'), 'jsonl')).done.size).toBe(0);
  });

  it('refuses a file that is not tagmap JSONL, naming the line', async () => {
    const file = path.join(dir, 'other.jsonl');
    writeFileSync(file, '{"input":"a.jpg","ok":true}\nnot json\n');
    await expect(readFinished(file, 'jsonl')).rejects.toThrow(`${file}:2 is not a tagmap JSONL row`);
  });
});
