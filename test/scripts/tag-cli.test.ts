// `npm run tag` end to end in-process on the bundled ImageNet model and real photos: one row per input,
// error rows with codes, exit codes, lists on stdin and in files, CSV quoting and photo-label columns, --resume
// on a CSV of an earlier tagmap, usage errors.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEAN, PHOTOS, byInput, jsonRows, modelsFolder, photoFolder, runTag, type PhotoFolder } from './helpers.ts';

let models: ReturnType<typeof modelsFolder>;
let photos: PhotoFolder;
let local: string[];

beforeAll(() => {
  models = modelsFolder(['imagenet']);
  photos = photoFolder();
  local = ['--models', models.dir, ...LEAN];
});
afterAll(() => {
  models?.remove();
  photos?.remove();
});

describe('a folder with good, broken and non-image files', () => {
  it('writes one row per image file, error rows with codes for the broken ones, and exits 1', async () => {
    // minScore 0.01: MobileNetV2 gives astronaut.png no tag above the card's 0.05
    const run = await runTag([photos.dir, '--topK', '3', '--minScore', '0.01', ...local]);
    expect(run.code, run.stderr).toBe(1);
    const rows = byInput(jsonRows(run.stdout));
    expect([...rows.keys()].sort()).toEqual([...photos.good, photos.truncated, photos.fake].sort());
    expect(rows.has(photos.notes)).toBe(false);

    expect(rows.get(photos.truncated)).toMatchObject({ ok: false, error: { code: 'undecodable_image' } });
    expect(rows.get(photos.truncated)!.error!.message).toMatch(/truncated or corrupt/);
    expect(rows.get(photos.fake)).toMatchObject({ ok: false, error: { code: 'unsupported_media' } });
    expect(rows.get(photos.fake)!.error!.message).toMatch(/accepted formats: jpeg, png/);

    for (const file of photos.good) {
      const row = rows.get(file)!;
      expect(row.ok, file).toBe(true);
      expect(row.tags!.length).toBeGreaterThan(0);
      expect(row.tags!.length).toBeLessThanOrEqual(3);
      expect(row.ms).toBeGreaterThan(0);
    }
    expect(rows.get(photos.good[0])).toMatchObject({ width: 451, height: 300 });
    // the cat photo is tagged as some cat, the coffee photo as some coffee
    expect([rows.get(photos.good[0])!.tags![0].label, ...rows.get(photos.good[0])!.tags![0].parents]).toContain('cat');
    // JSONL passes the photo-label fields through as they are
    expect(rows.get(photos.good[0])!.tags![0]).toMatchObject({ label: 'cat', categories: ['animal'] });
    expect(rows.get(photos.good[0])!.tags![0].classes![0]).toMatchObject({ label: expect.stringMatching(/cat|tabby/) });
    expect(rows.get(photos.good[1])!.tags!.some((t) => t.label === 'coffee' || t.parents.includes('coffee'))).toBe(
      true,
    );
    expect(run.stderr).toMatch(/tag: 4 done, 2 failed, 0 skipped in [\d.]+ s \([\d.]+ images\/s\)/);
  });

  it('expands globs to the image files they match, and exits 0 when every input succeeds', async () => {
    const run = await runTag([path.join(photos.dir, '*.png'), ...local]);
    expect(run.code, run.stderr).toBe(0);
    expect(
      jsonRows(run.stdout)
        .map((r) => r.input)
        .sort(),
    ).toEqual(photos.good.filter((f) => f.endsWith('.png')).sort());
  });
});

describe('lists of inputs', () => {
  it('reads lists from stdin (-) and @list.txt; a listed file is taken whatever its name, a missing one is input_not_found', async () => {
    const listFile = path.join(photos.dir, 'list.txt');
    const missing = path.join(photos.dir, 'gone.jpg');
    writeFileSync(listFile, `${photos.good[2]}\n\n${photos.notes}\r\n${missing}\n`);
    const run = await runTag(['-', `@${listFile}`, ...local], `${photos.good[0]}\n${photos.good[1]}\n`);
    expect(run.code).toBe(1);
    const rows = byInput(jsonRows(run.stdout));
    expect([...rows.keys()].sort()).toEqual(
      [photos.good[0], photos.good[1], photos.good[2], photos.notes, missing].sort(),
    );
    expect(photos.good.slice(0, 3).every((f) => rows.get(f)!.ok)).toBe(true);
    expect(rows.get(photos.notes)).toMatchObject({ ok: false, error: { code: 'unsupported_media' } });
    expect(rows.get(missing)).toMatchObject({
      ok: false,
      error: { code: 'input_not_found', message: `no such file: ${missing}` },
    });
  });
});

describe('CSV output', () => {
  it('writes one record per input and tag, quoting a file name with a comma and a quote (RFC 4180)', async () => {
    const odd = path.join(photos.dir, 'cat, "Chelsea".png');
    copyFileSync(path.join(PHOTOS, 'chelsea.png'), odd);
    const out = path.join(photos.dir, 'out.csv');
    const run = await runTag([odd, photos.truncated, '--topK', '2', '--vocabulary', 'raw', '--out', out, ...local]);
    expect(run.code, run.stderr).toBe(1);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('"' + odd.replace(/"/g, '""') + '",true,');
    expect(text.split('\r\n')[0]).toBe(
      'input,ok,label,id,score,coverage,peak_x,peak_y,box_x,box_y,box_width,box_height,width,height,ms,error_code,error_message,categories,classes,finer',
    );
    const records = parse(text, { columns: true }) as Array<Record<string, string>>;
    const cat = records.filter((r) => r.input === odd);
    expect(cat).toHaveLength(2);
    expect(
      cat.every(
        (r) => r.ok === 'true' && r.width === '451' && r.height === '300' && r.label !== '' && Number(r.score) > 0,
      ),
    ).toBe(true);
    const broken = records.filter((r) => r.input === photos.truncated);
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatchObject({ ok: 'false', label: '', error_code: 'undecodable_image' });
    expect(broken[0].error_message).toMatch(/truncated or corrupt/);
    // raw classes: no photo-label fields
    expect(records.every((r) => r.categories === '' && r.classes === '' && r.finer === '')).toBe(true);
  });

  it("fills the photo-label columns from the model's vocabulary: the cat photo is a cat, category animal", async () => {
    const out = path.join(photos.dir, 'photo.csv');
    const run = await runTag([photos.good[0], photos.good[1], '--topK', '1', '--out', out, ...local]);
    expect(run.code, run.stderr).toBe(0);
    const records = parse(readFileSync(out, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    const cat = records.find((r) => r.input === photos.good[0])!;
    expect(cat).toMatchObject({ ok: 'true', label: 'cat', categories: 'animal' });
    // the raw classes behind it are cats, best first; the finer label is the best of them
    const classes = cat.classes.split('|');
    expect(classes.length).toBeGreaterThan(0);
    expect(classes.every((c) => /cat|tabby/.test(c))).toBe(true);
    expect(cat.finer).toBe(classes[0]);
    const coffee = records.find((r) => r.input === photos.good[1])!;
    expect(coffee).toMatchObject({ ok: 'true', label: 'coffee', categories: 'drink' });
    expect(coffee.classes.split('|')).toContain('espresso');
  });
});

describe('--resume on a CSV output', () => {
  const OLD_HEADER =
    'input,ok,label,id,score,coverage,peak_x,peak_y,box_x,box_y,box_width,box_height,width,height,ms,error_code,error_message';

  it('goes on in the layout of an earlier tagmap, without the photo-label columns, and says so', async () => {
    const out = path.join(photos.dir, 'old.csv');
    writeFileSync(out, `${OLD_HEADER}\r\n${photos.good[0]},true,Egyptian cat,285,0.7,0.8,1,2,0,0,4,3,451,300,98,,\r\n`);
    const run = await runTag([photos.good[0], photos.good[1], '--topK', '1', '--out', out, '--resume', ...local]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(
      `tag: ${out} has the CSV header of an earlier tagmap, without the columns categories, classes, finer;`,
    );
    expect(run.stderr).toMatch(/1 done, 0 failed, 1 skipped/);
    const text = readFileSync(out, 'utf8');
    expect(text.split('\r\n')[0]).toBe(OLD_HEADER);
    // a strict reader takes the whole file: every record has the header's fields
    const records = parse(text, { columns: true }) as Array<Record<string, string>>;
    expect(records.map((r) => r.input)).toEqual([photos.good[0], photos.good[1]]);
    expect(records[1]).toMatchObject({ ok: 'true', label: 'coffee' });
    expect(records[1]).not.toHaveProperty('categories');
  });

  it('exits 2 naming the difference when the header is not a tag output of any tagmap', async () => {
    const out = path.join(photos.dir, 'parse.csv');
    writeFileSync(out, 'input,ok,mask,label,id,share,width,height,ms,error_code,error_message\r\n');
    const run = await runTag([photos.good[0], '--out', out, '--resume', ...local]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: --resume cannot read ${out} as csv: its header (input,ok,mask,`);
    expect(run.stderr).toMatch(/is not that of --task tag \(.*\): missing score, .*; unexpected mask, share\n/);
  });
});

describe('bad usage', () => {
  it('exits 2 with the usage when no inputs are given', async () => {
    const run = await runTag([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: no inputs given/);
    expect(run.stderr).toContain('Usage: npm run tag -- [options] [inputs...]');
  });

  it('exits 2 without writing rows when the model is unknown', async () => {
    const model = await runTag([photos.dir, '--model', 'nonesuch', ...local]);
    expect(model.code).toBe(2);
    expect(model.stdout).toBe('');
    expect(model.stderr).toMatch(/error: unknown_model: no model "nonesuch"; available: imagenet/);
  });
});
