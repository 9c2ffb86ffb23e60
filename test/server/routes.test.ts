// Every route of the HTTP API over real HTTP, on the bundled models and real photos.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zooModelDir } from '../model/zoo.ts';
import { bodyBytes, photo, shared, startServer, type TestServer } from './server.ts';

let server: TestServer;
const street = () => shared('data/camvid/test/images/0001TP_008550.jpg');
/** POST /v1/parse on the CamVid street photo, the answer kept as bytes */
const parseStreet = (format: 'png' | 'overlay') =>
  request(server.app)
    .post(`/v1/parse?model=camvid&format=${format}`)
    .attach('image', street(), 'street.jpg')
    .buffer(true)
    .parse(bodyBytes)
    .expect(200);

beforeAll(async () => {
  server = await startServer(['imagenet', 'camvid', 'fashion']);
});
afterAll(async () => {
  await server?.close();
});

const sha256Of = (model: string) =>
  createHash('sha256')
    .update(readFileSync(path.join(zooModelDir(model), 'model.onnx')))
    .digest('hex');

function expectResultHeaders(headers: Record<string, string>, model: string) {
  expect(headers['x-tagmap-model']).toBe(model);
  expect(headers['x-tagmap-model-sha256']).toBe(sha256Of(model));
  expect(headers['x-tagmap-model-version']).toBe(server.tagmap.card(model).version);
  expect(JSON.parse(headers['x-tagmap-plan'])).toMatchObject({ provider: 'cpu' });
  expect(JSON.parse(headers['x-tagmap-timings']).totalMs).toBeGreaterThan(0);
}

describe('health, readiness, models, metrics, OpenAPI', () => {
  it('GET /healthz says ok', async () => {
    const res = await request(server.app).get('/healthz').expect(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('GET /readyz is 200 with the provider once the models are warmed, and 503 with Retry-After while draining', async () => {
    const ready = await request(server.app).get('/readyz').expect(200);
    expect(ready.body).toEqual({
      status: 'ready',
      provider: 'cpu',
      models: expect.arrayContaining(['imagenet', 'camvid', 'fashion']),
      loaded: ready.body.models,
    });
    server.lifecycle.draining = true;
    try {
      const draining = await request(server.app).get('/readyz').expect(503);
      expect(draining.body.status).toBe('draining');
      expect(draining.headers['retry-after']).toBe('5');
      const refused = await request(server.app)
        .post('/v1/tags')
        .attach('image', photo('chelsea.png'), 'chelsea.png')
        .expect(503);
      expect(refused.body.code).toBe('shutting_down');
    } finally {
      server.lifecycle.draining = false;
    }
  });

  it('GET /v1/models lists every model with the sha256 of its model.onnx', async () => {
    const res = await request(server.app).get('/v1/models').expect(200);
    const byName = Object.fromEntries(res.body.models.map((m: { name: string }) => [m.name, m]));
    for (const name of ['imagenet', 'camvid', 'fashion']) expect(byName[name].sha256).toBe(sha256Of(name));
    expect(byName.camvid.tasks).toContain('parse');
    expect(res.body.models.filter((m: { default: boolean }) => m.default)).toHaveLength(1);
    // every model is preloaded by default
    expect(res.body.models.every((m: { loaded: boolean }) => m.loaded)).toBe(true);
  });

  it('GET /v1/models/:name returns the full card; an unknown name is a 404 unknown_model naming the models', async () => {
    const card = await request(server.app).get('/v1/models/camvid').expect(200);
    expect(card.body).toMatchObject({
      name: 'camvid',
      sha256: sha256Of('camvid'),
      geometry: { window: expect.any(Number) },
    });
    expect(card.body.labels.map((l: { name: string }) => l.name)).toEqual(
      expect.arrayContaining(['road', 'sky', 'building']),
    );
    const missing = await request(server.app).get('/v1/models/nope').expect(404);
    expect(missing.body).toMatchObject({ code: 'unknown_model', status: 404 });
    expect(missing.body.detail).toMatch(/no model "nope"; available: .*camvid/);
  });

  it('GET /openapi.json is OpenAPI 3.1 generated from the request schemas', async () => {
    const res = await request(server.app).get('/openapi.json').expect(200);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/models',
        '/v1/models/{name}',
        '/v1/tags',
        '/v1/parse',
        '/v1/classmap',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    );
    const topK = res.body.paths['/v1/tags'].post.parameters.find((p: { name: string }) => p.name === 'topK');
    expect(topK).toMatchObject({ in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } });
    const format = res.body.paths['/v1/parse'].post.parameters.find((p: { name: string }) => p.name === 'format');
    expect(format.schema.enum).toEqual(['json', 'png', 'overlay']);
    expect(res.body.paths['/v1/classmap'].post.responses['200'].content).toHaveProperty('application/octet-stream');
  });

  it('GET /metrics counts requests by route and status, inference time by model, queue depth and provider', async () => {
    await request(server.app)
      .post('/v1/tags?model=fashion')
      .attach('image', photo('coffee.png'), 'coffee.png')
      .expect(200);
    const res = await request(server.app).get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(
      /tagmap_http_requests_total\{method="POST",route="\/v1\/tags",status="200",key="anonymous"\} [1-9]/,
    );
    expect(res.text).toMatch(/tagmap_inference_seconds_count\{model="fashion"\} [1-9]/);
    expect(res.text).toMatch(
      /tagmap_http_request_duration_seconds_bucket\{le="\+Inf",method="POST",route="\/v1\/tags"\} [1-9]/,
    );
    expect(res.text).toMatch(/tagmap_queue_depth 0/);
    expect(res.text).toMatch(/tagmap_provider_info\{provider="cpu"\} 1/);
  });

  it('keeps a sane X-Request-Id from the caller and makes one up otherwise', async () => {
    const given = await request(server.app).get('/v1/models/nope').set('X-Request-Id', 'trace-42.a').expect(404);
    expect(given.headers['x-request-id']).toBe('trace-42.a');
    expect(given.body.requestId).toBe('trace-42.a');
    const odd = await request(server.app).get('/v1/models/nope').set('X-Request-Id', 'has spaces <script>').expect(404);
    expect(odd.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(odd.body.requestId).toBe(odd.headers['x-request-id']);
  });
});

describe('POST /v1/tags', () => {
  it('tags an upload: at most topK tags, each with score, coverage, peak, box, parents, categories and classes, plus model, plan and timings', async () => {
    const res = await request(server.app)
      .post('/v1/tags?model=imagenet&topK=3&minScore=0.01')
      .attach('image', photo('chelsea.png'), 'chelsea.png')
      .expect(200);
    expectResultHeaders(res.headers, 'imagenet');
    expect(res.body.model).toEqual({
      name: 'imagenet',
      version: server.tagmap.card('imagenet').version,
      sha256: sha256Of('imagenet'),
    });
    // scales: the imagenet card's defaults.scales
    expect(res.body.plan).toMatchObject({ image: { width: 451, height: 300 }, scales: [1, 2], provider: 'cpu' });
    expect(Object.keys(res.body.timings).sort()).toEqual([
      'decodeMs',
      'inferMs',
      'loadMs',
      'postMs',
      'queueMs',
      'totalMs',
    ]);
    expect(res.body.timings.loadMs).toBe(0);
    expect(res.body.tags.length).toBeGreaterThan(0);
    expect(res.body.tags.length).toBeLessThanOrEqual(3);
    for (const tag of res.body.tags) {
      expect(tag).toEqual({
        label: expect.any(String),
        id: expect.any(Number),
        score: expect.any(Number),
        coverage: expect.any(Number),
        peak: { x: expect.any(Number), y: expect.any(Number) },
        box: { x: expect.any(Number), y: expect.any(Number), width: expect.any(Number), height: expect.any(Number) },
        parents: expect.any(Array),
        categories: expect.any(Array),
        classes: expect.any(Array),
        ...(tag.finer !== undefined && { finer: tag.classes[0].label }),
      });
      expect(tag.score).toBeGreaterThanOrEqual(0.01);
      expect(tag.box.x + tag.box.width).toBeLessThanOrEqual(451);
      expect(tag.box.y + tag.box.height).toBeLessThanOrEqual(300);
    }
  });

  it('takes the image as base64 JSON (data: URL prefix allowed) with options as JSON fields, and gives the same tags as an upload', async () => {
    const bytes = shared('photos/rocket.jpg');
    const uploaded = await request(server.app)
      .post('/v1/tags?model=imagenet&topK=4')
      .attach('image', bytes, 'rocket.jpg')
      .expect(200);
    const json = await request(server.app)
      .post('/v1/tags')
      .send({ imageBase64: `data:image/jpeg;base64,${bytes.toString('base64')}`, model: 'imagenet', topK: 4 })
      .expect(200);
    expect(json.body.tags).toEqual(uploaded.body.tags);
    expect(json.body.model).toEqual(uploaded.body.model);
  });

  it('reads options from multipart form fields as well as the query string, and honours include and exclude lists', async () => {
    const labels = server.tagmap.card('imagenet').labels.map((l) => l.name);
    const chosen = [labels[281], labels[282], labels[285]];
    const res = await request(server.app)
      .post(`/v1/tags?vocabulary=raw&include=${encodeURIComponent(chosen.join(','))}`)
      .field('model', 'imagenet')
      .field('minScore', '0')
      .field('topK', '5')
      .attach('image', photo('chelsea.png'), 'chelsea.png')
      .expect(200);
    expect(res.body.tags.map((t: { label: string }) => t.label).sort()).toEqual([...chosen].sort());
    const without = await request(server.app)
      .post(
        `/v1/tags?model=imagenet&vocabulary=raw&minScore=0&topK=3&exclude=${encodeURIComponent(res.body.tags[0].label)}`,
      )
      .attach('image', photo('chelsea.png'), 'chelsea.png')
      .expect(200);
    expect(without.body.tags.map((t: { label: string }) => t.label)).not.toContain(res.body.tags[0].label);
  });

  it('runs a two-scale pyramid when asked for scales as a comma list', async () => {
    const res = await request(server.app)
      .post('/v1/tags?model=imagenet&scales=0.5,1')
      .attach('image', photo('astronaut.png'), 'a.png')
      .expect(200);
    expect(res.body.plan.scales).toEqual([0.5, 1]);
    expect(res.body.plan.inputs).toHaveLength(2);
  });
});

describe('POST /v1/parse', () => {
  it('format=json gives the legend with pixel shares and one RLE mask per present label covering every pixel', async () => {
    const res = await request(server.app)
      .post('/v1/parse?model=camvid')
      .attach('image', street(), 'street.jpg')
      .expect(200);
    expectResultHeaders(res.headers, 'camvid');
    expect(res.body).toMatchObject({ width: 480, height: 360, model: { name: 'camvid' } });
    const shares = res.body.legend.reduce((sum: number, l: { share: number }) => sum + l.share, 0);
    expect(shares).toBeCloseTo(1, 3);
    let pixels = 0;
    for (const mask of res.body.masks) {
      expect(mask.rle.size).toEqual([360, 480]);
      pixels += mask.rle.counts
        .filter((_: number, n: number) => n % 2 === 1)
        .reduce((a: number, b: number) => a + b, 0);
    }
    expect(pixels).toBe(480 * 360);
    expect(res.body).not.toHaveProperty('labels');
  });

  it('format=png is a grey label PNG the size of the image whose values are label ids', async () => {
    const res = await parseStreet('png');
    expect(res.headers['content-type']).toBe('image/png');
    expectResultHeaders(res.headers, 'camvid');
    expect(await sharp(res.body as Buffer).metadata()).toMatchObject({
      format: 'png',
      width: 480,
      height: 360,
      channels: 1,
      depth: 'uchar',
    });
    // sharp hands out raw pixels as sRGB unless told to keep the one grey channel
    const data = await sharp(res.body as Buffer)
      .extractChannel(0)
      .raw()
      .toBuffer();
    const classes = server.tagmap.card('camvid').labels.length;
    expect(Math.max(...new Set(data))).toBeLessThan(classes);
  });

  it('format=overlay is a colour PNG the size of the image', async () => {
    const res = await parseStreet('overlay');
    const meta = await sharp(res.body as Buffer).metadata();
    expect(meta).toMatchObject({ format: 'png', width: 480, height: 360, channels: 3 });
  });

  it('refuses a model that is not meant for parsing with a 400 naming the models that are', async () => {
    const res = await request(server.app)
      .post('/v1/parse?model=imagenet')
      .attach('image', street(), 'street.jpg')
      .expect(400);
    expect(res.body.code).toBe('bad_options');
    expect(res.body.detail).toMatch(/not meant for parse.*camvid/);
  });
});

describe('POST /v1/classmap', () => {
  it('JSON carries base64 float32 data matching the shape, the geometry and the grid', async () => {
    const res = await request(server.app)
      .post('/v1/classmap?model=fashion')
      .attach('image', photo('coffee.png'), 'coffee.png')
      .expect(200);
    const card = server.tagmap.card('fashion');
    const [classes, rows, cols] = res.body.shape;
    expect(classes).toBe(card.labels.length);
    expect([rows, cols]).toEqual([res.body.plan.grid.rows, res.body.plan.grid.cols]);
    const values = new Float32Array(new Uint8Array(Buffer.from(res.body.data, 'base64')).buffer);
    expect(values.length).toBe(classes * rows * cols);
    expect(values.every(Number.isFinite)).toBe(true);
    expect(res.body).toMatchObject({
      dtype: 'float32',
      byteOrder: 'little',
      kind: card.output.kind,
      geometry: card.geometry,
      labels: card.labels.map((l) => l.name),
    });
  });

  it('with Accept: application/octet-stream sends the same floats as bare bytes, shape and geometry in headers', async () => {
    const json = await request(server.app)
      .post('/v1/classmap?model=fashion')
      .attach('image', photo('coffee.png'), 'coffee.png')
      .expect(200);
    const bin = await request(server.app)
      .post('/v1/classmap?model=fashion')
      .set('Accept', 'application/octet-stream')
      .attach('image', photo('coffee.png'), 'coffee.png')
      .buffer(true)
      .parse(bodyBytes)
      .expect(200);
    expect(bin.headers['content-type']).toBe('application/octet-stream');
    expect(bin.headers['x-tagmap-shape']).toBe(json.body.shape.join(','));
    expect(JSON.parse(bin.headers['x-tagmap-geometry'])).toEqual(json.body.geometry);
    expect((bin.body as Buffer).equals(Buffer.from(json.body.data, 'base64'))).toBe(true);
  });
});
