// Under load: a full queue is refused at once with 503 and Retry-After, and the event loop stays free while
// a large image is parsed (inference runs in worker threads), so /healthz answers quickly meanwhile.
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { photo, shared, startServer, upload, type TestServer } from './server.ts';

let server: TestServer;

beforeAll(async () => {
  // one worker and no waiting room: a second concurrent request has nowhere to go
  server = await startServer(['imagenet', 'camvid'], { TAGMAP_MAX_QUEUE: '0' });
});
afterAll(async () => {
  await server?.close();
});

describe('under load', () => {
  it('refuses requests beyond the workers and the queue with 503 overloaded and Retry-After, and serves the rest', async () => {
    const image = photo('astronaut.png');
    const responses = await Promise.all(
      Array.from({ length: 4 }, () =>
        upload(`${server.url}/v1/tags?model=imagenet&scales=1,2`, image, 'astronaut.png'),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length, statuses.join()).toBeGreaterThanOrEqual(1);
    const refused = responses.filter((r) => r.status === 503);
    expect(refused.length, statuses.join()).toBeGreaterThanOrEqual(1);
    for (const res of refused) {
      expect(res.headers.get('retry-after')).toBe('1');
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(await res.json()).toMatchObject({
        code: 'overloaded',
        status: 503,
        detail: expect.stringMatching(/workers are busy/),
      });
    }
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
  });

  it('answers /healthz in under 250 ms, every time, while a 1920x1440 image is parsed', async () => {
    const street = await sharp(shared('data/camvid/test/images/0001TP_008550.jpg'))
      .resize(1920, 1440)
      .jpeg({ quality: 90 })
      .toBuffer();
    let parsing = true;
    const parse = upload(`${server.url}/v1/parse?model=camvid&format=json`, street, 'street.jpg').finally(() => {
      parsing = false;
    });
    const latencies: number[] = [];
    while (parsing) {
      const started = performance.now();
      const res = await fetch(`${server.url}/healthz`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      latencies.push(performance.now() - started);
    }
    const parsed = await parse;
    expect(parsed.status).toBe(200);
    const body = await parsed.json();
    expect(body).toMatchObject({ width: 1920, height: 1440 });
    console.info(
      `parse of 1920x1440 took ${body.timings.totalMs.toFixed(0)} ms; ${latencies.length} /healthz probes meanwhile, slowest ${Math.max(...latencies).toFixed(1)} ms`,
    );
    expect(latencies.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...latencies)).toBeLessThan(250);
  });
});
