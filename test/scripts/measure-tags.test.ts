// npm run measure-tags: average precision on hand-made rankings, the mapping file's errors, and real runs on a
// few MSRC-21 photos, in-process and through a real server (the same scores both ways), with their exit codes.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { averagePrecision, meanOf } from '../../scripts/measure-tags/average-precision.ts';
import { MappingError, parseMapping, readMapping, selectClasses } from '../../scripts/measure-tags/mapping.ts';
import type { Report } from '../../scripts/measure-tags/report.ts';
import { SHARED, startServer, type TestServer } from '../server/server.ts';
import { modelsFolder } from './helpers.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const MSRC = path.join(SHARED, 'data/msrc21');
const CLASSES = ['cow', 'sheep', 'dog', 'cat'];
/** eight test photos of MSRC-21, two each of its folders 10 to 13 (flowers, signs, birds, books) */
const PHOTOS = ['10_12_s', '10_13_s', '11_14_s', '11_1_s', '12_11_s', '12_15_s', '13_13_s', '13_23_s'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
async function measureTags(args: string[]): Promise<Run> {
  const script = path.join(REPO, 'scripts/measure-tags.ts');
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script, ...args], {
      cwd: REPO,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('average precision', () => {
  it('averages the precision at each positive of the ranking', () => {
    // ranked: + - + - +  -> (1/1 + 2/3 + 3/5) / 3
    expect(averagePrecision([0.9, 0.8, 0.7, 0.6, 0.5], [true, false, true, false, true])).toBeCloseTo(
      (1 + 2 / 3 + 3 / 5) / 3,
      12,
    );
  });

  it('ranks by score, not by the order given', () => {
    expect(averagePrecision([0.1, 0.9, 0.5], [true, false, false])).toBeCloseTo(1 / 3, 12);
  });

  it('is 1 when every positive ranks first', () => {
    expect(averagePrecision([0.2, 0.9, 0.8, 0.1], [false, true, true, false])).toBe(1);
  });

  it('counts a tied block as one step, whatever the order inside it', () => {
    expect(averagePrecision([0.5, 0.5, 0.5, 0.1], [false, true, false, true])).toBeCloseTo((1 / 3 + 2 / 4) / 2, 12);
    expect(averagePrecision([0.5, 0.5], [true, false])).toBe(averagePrecision([0.5, 0.5], [false, true]));
  });

  it('is null without positives, and mAP leaves such classes out', () => {
    expect(averagePrecision([0.3, 0.2], [false, false])).toBeNull();
    expect(meanOf([0.5, null, 1])).toBe(0.75);
    expect(meanOf([null])).toBeNull();
  });
});

describe('the mapping file', () => {
  const parse = (value: unknown) => () => parseMapping(JSON.stringify(value), 'map.json', CLASSES);

  it('reads classes, options and the labels named, each once', () => {
    const mapping = parse({ model: 'imagenet', options: { vocabulary: 'raw' }, classes: { cow: ['ox', 'ox'] } })();
    expect(mapping).toMatchObject({ model: 'imagenet', options: { vocabulary: 'raw' }, labels: ['ox'] });
    expect([...mapping.classes]).toEqual([['cow', ['ox']]]);
  });

  it.each([
    ['text that is not JSON', '{classes', /^map\.json: not JSON/],
    ['a key the format lacks', { classes: { cow: ['ox'] }, colour: 1 }, /Unrecognized key: "colour"/],
    ['no classes', { classes: {} }, /classes: map at least one class/],
    ['a class with no labels', { classes: { cow: [] } }, /classes\.cow: name at least one label/],
    ['labels that are not a list', { classes: { cow: 'ox' } }, /classes\.cow: /],
    ['an empty label name', { classes: { cow: [''] } }, /classes\.cow\.0: a label name is needed/],
  ])('names the problem: %s', (_what, value, message) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    expect(() => parseMapping(text, 'map.json', CLASSES)).toThrow(MappingError);
    expect(() => parseMapping(text, 'map.json', CLASSES)).toThrow(message);
  });

  it('names a class the data set lacks, and the classes it has', () => {
    expect(parse({ classes: { cow: ['ox'], unicorn: ['ox'] } })).toThrow(
      'map.json: "unicorn" not a class of the data set (its classes: cow, sheep, dog, cat)',
    );
  });

  it('refuses more labels than one request can score', () => {
    const labels = Array.from({ length: 1001 }, (_, n) => `label ${n}`);
    expect(parse({ classes: { cow: labels } })).toThrow('names 1001 labels, at most 1000 can be scored');
  });

  it('keeps only the classes asked for, with their labels, and names a class it does not map', () => {
    const mapping = parse({ classes: { cow: ['ox'], dog: ['beagle', 'pug'], cat: ['tabby'] } })();
    const kept = selectClasses(mapping, ['dog', 'cow']);
    expect([...kept.classes.keys()]).toEqual(['dog', 'cow']);
    expect(kept.labels).toEqual(['beagle', 'pug', 'ox']);
    expect(() => selectClasses(mapping, ['sheep'])).toThrow('map.json does not map "sheep" (it maps cow, dog, cat)');
  });

  it('says when the file cannot be read', () => {
    expect(() => readMapping('/nonexistent/map.json', CLASSES)).toThrow(/cannot read the mapping file/);
  });
});

describe('npm run measure-tags on MSRC-21 photos', () => {
  let server: TestServer;
  let models: ReturnType<typeof modelsFolder>;
  let work: string;
  let data: string;
  const jsonOf = (name: string) => JSON.parse(readFileSync(path.join(work, name), 'utf8')) as Report;

  beforeAll(async () => {
    server = await startServer(['imagenet']);
    models = modelsFolder(['imagenet']);
    work = mkdtempSync(path.join(tmpdir(), 'tagmap-measure-tags-'));
    // the shared images and labels, with a split of eight photos and one that is not an image
    data = path.join(work, 'msrc');
    for (const folder of ['images', 'labels']) mkdirSync(path.join(data, folder), { recursive: true });
    writeFileSync(path.join(data, 'classes.json'), readFileSync(path.join(MSRC, 'classes.json')));
    for (const name of PHOTOS) {
      symlinkSync(path.join(MSRC, 'images', `${name}.jpg`), path.join(data, 'images', `${name}.jpg`));
      symlinkSync(path.join(MSRC, 'labels', `${name}.png`), path.join(data, 'labels', `${name}.png`));
    }
    writeFileSync(path.join(data, 'images', 'broken.jpg'), 'not a JPEG');
    symlinkSync(path.join(MSRC, 'labels', `${PHOTOS[0]}.png`), path.join(data, 'labels', 'broken.png'));
    writeFileSync(path.join(data, 'splits.json'), JSON.stringify({ test: PHOTOS, bad: [PHOTOS[0], 'broken'] }));
  });
  afterAll(async () => {
    await server?.close();
    models?.remove();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const common = () => ['--data', data, '--split', 'test', '--concurrency', '1'];

  it('prints a table and writes the JSON report, in-process', async () => {
    const run = await measureTags([...common(), '--models', models.dir, '--json', path.join(work, 'local.json')]);
    expect(run.stderr).toContain('8/8 images');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^model imagenet \S+ sha256 [0-9a-f]{64} \(in-process/);
    // the imagenet card's settings: zero padding, defaults pool topk and scales [1, 2]
    expect(lines[2]).toBe('options: pad zero, short side 224, pool topk, scales 1,2');
    expect(lines.slice(4, 6)).toEqual(['| class | AP | images with it |', '|---|---|---|']);
    expect(lines).toHaveLength(6 + 14 + 1);
    expect(lines.at(-1)).toMatch(/^\| \*\*mAP\*\* \| \*\*(0\.\d{3}|1\.000)\*\* \| \d+ classes \|$/);

    const report = jsonOf('local.json');
    expect(report.model).toEqual({ name: 'imagenet', version: expect.any(String), sha256: expect.any(String) });
    expect(report.data).toMatchObject({ splits: ['test'], images: 8, minShare: 0.01 });
    expect(report.mapping).toMatchObject({ classes: 14 });
    expect(report.options.requested).toMatchObject({ model: 'imagenet', minScore: 0, vocabulary: 'raw' });
    expect(report.classes).toHaveLength(14);
    for (const name of ['flower', 'sign', 'bird', 'book']) {
      const found = report.classes.find((c) => c.name === name)!;
      expect(found.positives, name).toBe(2);
      expect(found.ap, name).toBeGreaterThan(0);
    }
    expect(report.classes.find((c) => c.name === 'dog')).toEqual({ name: 'dog', ap: null, positives: 0 });
    expect(report.mAP).toBeCloseTo(
      report.classes.filter((c) => c.ap !== null).reduce((sum, c) => sum + c.ap!, 0) / 4,
      12,
    );
    expect(report.images).toHaveLength(8);
    expect(report.images[0]).toMatchObject({ name: '10_12_s', present: ['flower'] });
    expect(Object.keys(report.images[0].scores)).toHaveLength(14);
  });

  it('gives the same scores over HTTP as in-process', async () => {
    const run = await measureTags([...common(), '--server', server.url, '--json', path.join(work, 'http.json')]);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toContain(`(${server.url})`);
    const [http, local] = [jsonOf('http.json'), jsonOf('local.json')];
    expect(http.model).toEqual(local.model);
    expect(http.mAP).toBeCloseTo(local.mAP!, 6);
    http.images.forEach((row, n) => {
      for (const [name, score] of Object.entries(row.scores))
        expect(score).toBeCloseTo(local.images[n].scores[name], 5);
    });
  });

  it('exits 1 naming an image that fails', async () => {
    const run = await measureTags([...common().slice(0, 2), '--split', 'bad', '--server', server.url]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/measure-tags: broken: .*not an image/i);
  });

  it.each([
    ['an unknown split', ['--split', 'nope'], /no split "nope" in .*splits\.json \(it has test,bad\)/],
    ['a share out of range', ['--min-share', '2'], /--min-share.*expected a number from 0 to 1/],
    ['an unknown pooling', ['--pool', 'median'], /Allowed choices are max, mean, topk, logit-mean/],
  ])('exits 2 on bad usage: %s', async (_what, args, message) => {
    const run = await measureTags([...common(), '--server', server.url, ...args]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage: measure-tags');
  });

  it('exits 2 when the mapping names a label the model lacks', async () => {
    const map = path.join(work, 'unicorn.json');
    writeFileSync(map, JSON.stringify({ options: { vocabulary: 'raw' }, classes: { horse: ['unicorn'] } }));
    const run = await measureTags([...common(), '--server', server.url, '--map', map]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown_label: .*"unicorn"/);
  });
});
