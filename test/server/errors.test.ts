// Bad input gets a clear 4xx RFC 9457 problem with a code and the request id, never a stack trace, and costs
// nothing else: the server keeps answering.
import sharp from 'sharp';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { photo, shared, startServer, type TestServer } from './server.ts';

let server: TestServer;
const MAX_UPLOAD = 300_000;

beforeAll(async () => {
  // small limits so that real photos can cross them
  server = await startServer(['imagenet'], {
    TAGMAP_MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
    TAGMAP_MAX_PIXELS: '1000000',
  });
});
afterAll(async () => {
  await server?.close();
});

function expectProblem(res: request.Response, status: number, code: string, detail?: RegExp) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(res.text);
  expect(body).toMatchObject({
    type: `urn:tagmap:problem:${code}`,
    title: expect.any(String),
    status,
    code,
    requestId: res.headers['x-request-id'],
  });
  if (detail) expect(body.detail).toMatch(detail);
  expect(res.text).not.toMatch(/\bat .*\.ts:\d+/);
  return body;
}

const tags = (query = '') => request(server.app).post(`/v1/tags${query}`);

describe('images we cannot use', () => {
  it('a text file uploaded as an image is a 415 unsupported_media listing the accepted formats', async () => {
    expectProblem(
      await tags().attach('image', Buffer.from('hello, this is not an image\n'), 'notes.jpg'),
      415,
      'unsupported_media',
      /accepted formats: jpeg, png/,
    );
  });

  it('an SVG is a 415 that says SVG is not accepted', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    expectProblem(await tags().attach('image', svg, 'a.svg'), 415, 'unsupported_media', /SVG images are not accepted/);
  });

  it('a truncated JPEG is a 422 undecodable_image', async () => {
    const jpeg = shared('photos/rocket.jpg');
    expectProblem(
      await tags().attach('image', jpeg.subarray(0, 20_000), 'cut.jpg'),
      422,
      'undecodable_image',
      /jpeg image is truncated or corrupt/,
    );
  });

  it('an image over TAGMAP_MAX_PIXELS is a 422 too_many_pixels', async () => {
    const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    expectProblem(
      await tags().attach('image', big, 'big.png'),
      422,
      'too_many_pixels',
      /1200x1000 = 1200000 pixels; at most 1000000/,
    );
  });

  it('an upload over TAGMAP_MAX_UPLOAD_BYTES is a 413 too_large, and so is base64 JSON over it', async () => {
    const astronaut = photo('astronaut.png');
    expect(astronaut.length).toBeGreaterThan(MAX_UPLOAD);
    expectProblem(await tags().attach('image', astronaut, 'a.png'), 413, 'too_large', /File too large/);
    expectProblem(await tags().send({ imageBase64: astronaut.toString('base64') }), 413, 'too_large');
  });
});

describe('requests we cannot read', () => {
  it('an unknown model is a 404 unknown_model naming the loaded ones', async () => {
    expectProblem(
      await tags('?model=resnet').attach('image', photo('chelsea.png'), 'c.png'),
      404,
      'unknown_model',
      /no model "resnet"; available: imagenet/,
    );
  });

  it('bad options are a 400 bad_options with the zod issues by path', async () => {
    const res = await tags('?topK=0&minScore=2&scales=9&pool=avg&density=x&colour=red').attach(
      'image',
      photo('chelsea.png'),
      'c.png',
    );
    const body = expectProblem(res, 400, 'bad_options');
    const paths = body.issues.map((i: { path: string[] }) => i.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['topK', 'minScore', 'scales.0', 'pool', 'density', '']));
    expect(body.issues.find((i: { path: string[] }) => i.path[0] === 'pool').message).toMatch(/"max"\|"mean"\|"topk"/);
    expect(body.detail).toMatch(/Unrecognized key: "colour"/);
  });

  it('a JSON body needs exactly one of url or imageBase64, and base64 that is base64', async () => {
    expectProblem(await tags().send({ topK: 3 }), 400, 'bad_options', /exactly one of url or imageBase64/);
    expectProblem(
      await tags().send({ url: 'https://example.com/a.jpg', imageBase64: 'AAAA' }),
      400,
      'bad_options',
      /exactly one of url or imageBase64/,
    );
    expectProblem(await tags().send({ imageBase64: 'not base64!' }), 400, 'bad_options', /imageBase64 must be base64/);
  });

  it('an unknown label in include is a 400 unknown_label', async () => {
    expectProblem(
      await tags('?include=unicorn').attach('image', photo('chelsea.png'), 'c.png'),
      400,
      'unknown_label',
      /no label "unicorn"/,
    );
  });

  it('malformed JSON is a 400 bad_request', async () => {
    expectProblem(
      await tags().set('Content-Type', 'application/json').send('{"url": '),
      400,
      'bad_request',
      /not valid JSON/,
    );
  });

  it('a body that is neither multipart nor JSON is a 415 unsupported_content_type saying what to send', async () => {
    expectProblem(
      await tags().set('Content-Type', 'image/jpeg').send(shared('photos/rocket.jpg')),
      415,
      'unsupported_content_type',
      /multipart\/form-data .* field "image"/,
    );
  });

  it('multipart without the image field, or with the file under another name, is a 400 bad_request', async () => {
    expectProblem(
      await tags().field('model', 'imagenet'),
      400,
      'bad_request',
      /no image: upload it in the multipart field "image"/,
    );
    expectProblem(
      await tags().attach('file', photo('chelsea.png'), 'c.png'),
      400,
      'bad_request',
      /unexpected file field "file"/,
    );
  });

  it('a cut-off multipart body is a 400 bad_request', async () => {
    const res = await tags()
      .set('Content-Type', 'multipart/form-data; boundary=xyz')
      .send('--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nabc');
    expectProblem(res, 400, 'bad_request', /malformed multipart body/);
  });

  it('a path that does not decode is a 400 bad_request', async () => {
    expectProblem(await request(server.app).get('/v1/models/%E0'), 400, 'bad_request', /Failed to decode param/);
  });

  it('an unknown path is a 404 not_found problem', async () => {
    expectProblem(await request(server.app).get('/v1/nothing'), 404, 'not_found', /no route GET \/v1\/nothing/);
  });

  it('keeps memory flat over a thousand bad images in a row', async () => {
    const big = await sharp({ create: { width: 1200, height: 1000, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const bad = [
      Buffer.from('not an image'),
      shared('photos/rocket.jpg').subarray(0, 20_000),
      big,
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'),
    ];
    const send = async (n: number) => {
      for (let i = 0; i < n; i++)
        expect((await tags().attach('image', bad[i % bad.length], 'x.jpg')).status).toBeGreaterThanOrEqual(400);
    };
    const collect = globalThis.gc!; // vitest.config.ts runs the tests with --expose-gc
    await send(200); // warm-up: lazily built caches, JIT, allocator arenas
    collect();
    const before = process.memoryUsage();
    await send(1000);
    collect();
    const after = process.memoryUsage();
    const growth = {
      heapMiB: (after.heapUsed - before.heapUsed) / 2 ** 20,
      buffersMiB: (after.external - before.external) / 2 ** 20,
      rssMiB: (after.rss - before.rss) / 2 ** 20,
    };
    console.info(
      `after 1000 bad images: heap ${growth.heapMiB.toFixed(2)} MiB, buffers ${growth.buffersMiB.toFixed(2)} MiB, RSS ${growth.rssMiB.toFixed(1)} MiB`,
    );
    // heap and buffers (every upload lives in one) are exact after gc: a kept upload or error shows; RSS moves with
    // the allocator by tens of MiB, so it only bounds gross native leaks
    expect(growth.heapMiB, 'heap growth, MiB').toBeLessThan(4);
    expect(growth.buffersMiB, 'buffer growth, MiB').toBeLessThan(4);
    expect(growth.rssMiB, 'RSS growth, MiB').toBeLessThan(96);
  });

  it('still tags a good image after all of the above', async () => {
    const res = await tags('?topK=1').attach('image', photo('chelsea.png'), 'c.png').expect(200);
    expect(res.body.tags).toHaveLength(1);
  });
});
