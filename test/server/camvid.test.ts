// The bundled CamVid model over HTTP on held-out CamVid test images: label PNGs scored against the ground
// truth (void ignored), street scenes tagged road plus building or sky, and `npm run measure-parse` doing the
// scoring from outside against the listening server.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
let server: TestServer;

beforeAll(async () => {
  server = await startServer(['camvid']);
});
afterAll(async () => {
  await server?.close();
});

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
      promisify(execFile)(
        process.execPath,
        [
          '--import',
          'tsx',
          'scripts/measure-parse.ts',
          '--server',
          server.url,
          '--model',
          model,
          '--data',
          CAMVID,
          '--limit',
          '3',
        ],
        { cwd: path.resolve(import.meta.dirname, '../..') },
      );
    const { stdout, stderr } = await run('camvid');
    const report = JSON.parse(stdout);
    expect(report.images).toBe(3);
    expect(stderr).toContain('3/3 images');
    expect(report.measured.globalAccuracy).toBeGreaterThan(0.75);
    expect(report.measured.meanIoU).toBeLessThan(report.measured.globalAccuracy);
    expect(report.card.test.globalAccuracy).toBe(server.tagmap.card('camvid').metrics!.test.globalAccuracy);
    const unknown = await run('nope').catch((error: { code: number; stderr: string }) => error);
    expect(unknown).toMatchObject({ code: 1 });
    expect((unknown as { stderr: string }).stderr).toContain('does not serve model nope: 404');
  });
});
