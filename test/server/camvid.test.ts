// The bundled CamVid model over HTTP on held-out CamVid test images: label PNGs scored against the ground
// truth (void ignored), street scenes tagged road plus building or sky, and `npm run measure-parse` doing the
// scoring from outside against the listening server; and measure-parse with a class mapping, the bundled VOC
// model on MSRC-21 photos (MSRC-21's layout, scripts/measure-parse/voc-msrc21.json).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARED, bodyBytes, startServer, type TestServer } from './server.ts';

const CAMVID = path.join(SHARED, 'data/camvid');
/** Five test images spread over the split's sequences (the lead scores all 233). */
const SAMPLE = ['0001TP_008550', '0001TP_009420', '0001TP_009870', 'Seq05VD_f01710', 'Seq05VD_f04110'];
const classes: { labels: Array<{ id: number; name: string }>; ignore: number } = JSON.parse(
  readFileSync(path.join(CAMVID, 'classes.json'), 'utf8'),
);
const MSRC21 = path.join(SHARED, 'data/msrc21');
/** Three MSRC-21 test photos: cows, a face and body, an aeroplane. */
const MSRC_SAMPLE = ['5_17_s', '6_8_s', '4_7_s'];
const ROOT = path.resolve(import.meta.dirname, '../..');
let server: TestServer;
let msrcDir: string;

beforeAll(async () => {
  server = await startServer(['camvid', 'voc']);
  // MSRC-21's layout with a test split of the three photos (the images and labels are the shared ones)
  msrcDir = mkdtempSync(path.join(tmpdir(), 'measure-parse-msrc21-'));
  writeFileSync(path.join(msrcDir, 'classes.json'), readFileSync(path.join(MSRC21, 'classes.json')));
  writeFileSync(path.join(msrcDir, 'splits.json'), JSON.stringify({ test: MSRC_SAMPLE }));
  symlinkSync(path.join(MSRC21, 'images'), path.join(msrcDir, 'images'));
  symlinkSync(path.join(MSRC21, 'labels'), path.join(msrcDir, 'labels'));
});
afterAll(async () => {
  await server?.close();
  if (msrcDir) rmSync(msrcDir, { recursive: true, force: true });
});

const measureParse = (args: string[]) =>
  promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/measure-parse.ts', ...args], { cwd: ROOT });

const grey = async (png: Buffer) => await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });

async function parsePng(image: Buffer): Promise<Buffer> {
  const res = await request(server.app)
    .post('/v1/parse?model=camvid&format=png')
    .attach('image', image, 'street.jpg')
    .buffer(true)
    .parse(bodyBytes)
    .expect(200);
  return res.body as Buffer;
}

describe('camvid over HTTP', () => {
  it('scores a mean global pixel accuracy of at least 0.75 on five CamVid test images (void ignored)', async () => {
    // the model's ids mapped to the data set's ids by name, so that no ordering is assumed
    const datasetId = new Map(classes.labels.map((l) => [l.name, l.id]));
    const toDataset = server.tagmap.card('camvid').labels.map((l) => datasetId.get(l.name) ?? -1);
    const accuracies: number[] = [];
    for (const name of SAMPLE) {
      const predicted = await grey(await parsePng(readFileSync(path.join(CAMVID, 'test/images', `${name}.jpg`))));
      const truth = await grey(readFileSync(path.join(CAMVID, 'test/labels', `${name}.png`)));
      expect([predicted.info.width, predicted.info.height]).toEqual([truth.info.width, truth.info.height]);
      let right = 0;
      let counted = 0;
      for (let i = 0; i < truth.data.length; i++) {
        if (truth.data[i] === classes.ignore) continue;
        counted++;
        if (toDataset[predicted.data[i]] === truth.data[i]) right++;
      }
      accuracies.push(right / counted);
    }
    const mean = accuracies.reduce((a, b) => a + b, 0) / accuracies.length;
    console.info(
      `camvid global accuracy on ${SAMPLE.length} test images: mean ${mean.toFixed(3)} (${accuracies.map((a) => a.toFixed(3)).join(', ')})`,
    );
    expect(mean).toBeGreaterThanOrEqual(0.75);
  });

  it('tags street scenes road plus building or sky, each tag with a score, a box and a peak', async () => {
    for (const name of SAMPLE.slice(0, 3)) {
      const res = await request(server.app)
        .post('/v1/tags?model=camvid&topK=5')
        .attach('image', readFileSync(path.join(CAMVID, 'test/images', `${name}.jpg`)), `${name}.jpg`)
        .expect(200);
      const labels = res.body.tags.map((t: { label: string }) => t.label);
      expect(labels, name).toContain('road');
      expect(labels.includes('building') || labels.includes('sky'), `${name}: ${labels.join(', ')}`).toBe(true);
      for (const tag of res.body.tags) {
        expect(tag.score).toBeGreaterThan(0);
        expect(tag.box.width * tag.box.height).toBeGreaterThan(0);
        expect(tag.peak.x).toBeGreaterThanOrEqual(tag.box.x);
        expect(tag.peak.y).toBeGreaterThanOrEqual(tag.box.y);
        expect(tag.peak.x).toBeLessThanOrEqual(tag.box.x + tag.box.width);
        expect(tag.peak.y).toBeLessThanOrEqual(tag.box.y + tag.box.height);
      }
    }
  });

  it('npm run measure-parse scores the split over HTTP as the test does, next to the card, and refuses an unknown model', async () => {
    const run = (model: string) =>
      measureParse(['--server', server.url, '--model', model, '--data', CAMVID, '--limit', '3']);
    const { stdout, stderr } = await run('camvid');
    const report = JSON.parse(stdout);
    expect(report.images).toBe(3);
    expect(stderr).toContain('3/3 images');
    expect(report.measured.globalAccuracy).toBeGreaterThan(0.75);
    expect(report.measured.meanIoU).toBeLessThan(report.measured.globalAccuracy);
    expect(report.card.test.globalAccuracy).toBe(server.tagmap.card('camvid').metrics!.test.globalAccuracy);
    // without --map: by name, every data-set class scored
    expect(report.mapping).toMatchObject({ file: null, unmappedModelClasses: [], unscoredDatasetClasses: [] });
    expect(report.mapping.scored).toEqual(classes.labels.map((l) => l.name));
    const unknown = await run('nope').catch((error: { code: number; stderr: string }) => error);
    expect(unknown).toMatchObject({ code: 1 });
    expect((unknown as { stderr: string }).stderr).toContain('does not serve model nope: 404');
  });
});

describe('npm run measure-parse with a class mapping (voc on MSRC-21)', () => {
  const MAP = 'scripts/measure-parse/voc-msrc21.json';

  it('scores the classes the mapping reaches, person as face plus body, background a wrong prediction', async () => {
    const { stdout, stderr } = await measureParse([
      ...['--server', server.url, '--model', 'voc', '--data', msrcDir, '--split', 'test', '--map', MAP],
    ]);
    const report = JSON.parse(stdout);
    expect(report.images).toBe(3);
    expect(stderr).toContain('3/3 images');
    expect(report.mapping.file).toBe(MAP);
    expect(report.mapping.scored).toEqual([
      'cow',
      'horse',
      'sheep',
      'aeroplane',
      'person',
      'car',
      'bicycle',
      'bird',
      'chair',
      'cat',
      'dog',
      'boat',
    ]);
    expect(report.mapping.merged).toEqual({ person: ['face', 'body'] });
    expect(report.mapping.unscoredDatasetClasses).toContain('grass');
    expect(report.mapping.unmappedModelClasses).toEqual(expect.arrayContaining(['background', 'sofa']));
    expect(report.mapping.unmapped).toMatch(/^wrong/);
    // only the classes present in the three photos are averaged
    expect(Object.keys(report.perClass).sort()).toEqual(['aeroplane', 'cow', 'person']);

    // the same figures from the label maps, scored here: truth face and body are person, the rest unscored
    const msrcNames = JSON.parse(readFileSync(path.join(MSRC21, 'classes.json'), 'utf8')).labels.map(
      (l: { name: string }) => l.name,
    );
    const vocNames = server.tagmap.card('voc').labels.map((l) => l.name);
    const mapping: Record<string, string | null> = JSON.parse(readFileSync(path.join(ROOT, MAP), 'utf8')).classes;
    let right = 0;
    let scored = 0;
    let unmapped = 0;
    for (const name of MSRC_SAMPLE) {
      const res = await request(server.app)
        .post('/v1/parse?model=voc&format=png')
        .attach('image', readFileSync(path.join(MSRC21, 'images', `${name}.jpg`)), `${name}.jpg`)
        .buffer(true)
        .parse(bodyBytes)
        .expect(200);
      const predicted = await grey(res.body as Buffer);
      const truth = await grey(readFileSync(path.join(MSRC21, 'labels', `${name}.png`)));
      for (let i = 0; i < truth.data.length; i++) {
        const t = msrcNames[truth.data[i]];
        const want = t === 'face' || t === 'body' ? 'person' : t;
        if (!report.mapping.scored.includes(want)) continue; // void or unreached
        scored++;
        const got = mapping[vocNames[predicted.data[i]]];
        if (got === null) unmapped++;
        if (got === want) right++;
      }
    }
    expect(report.mapping.pixels.scored).toBe(scored);
    expect(report.mapping.pixels.predictedUnmapped).toBe(unmapped);
    expect(report.measured.globalAccuracy).toBeCloseTo(right / scored, 10);
    console.info(`voc on ${MSRC_SAMPLE.length} MSRC-21 test photos: ${JSON.stringify(report.measured)}`);
    expect(report.measured.globalAccuracy).toBeGreaterThan(0.6);
    for (const c of ['aeroplane', 'cow', 'person']) expect(report.perClass[c].recall, c).toBeGreaterThan(0.5);
  });

  it('refuses a mapping naming a class the model lacks, and a split splits.json lacks', async () => {
    const bad = path.join(msrcDir, 'bad-map.json');
    writeFileSync(bad, JSON.stringify({ classes: { persn: 'body' } }));
    const args = ['--server', server.url, '--model', 'voc', '--data', msrcDir];
    const wrongMap = await measureParse([...args, '--map', bad]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(wrongMap).toMatchObject({ code: 1 });
    expect((wrongMap as { stderr: string }).stderr).toContain('"persn" not a class of the model');
    const wrongSplit = await measureParse([...args, '--split', 'val']).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(wrongSplit).toMatchObject({ code: 1 });
    expect((wrongSplit as { stderr: string }).stderr).toContain('no split "val"');
  });
});
