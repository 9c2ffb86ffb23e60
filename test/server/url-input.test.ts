// Images by URL: a real upstream server on 127.0.0.2, let through by TAGMAP_URL_ALLOW; everything else that
// leads to a private, loopback, link-local or metadata address is refused, however it is spelled and after
// any redirect. Upstream failures are 502, stalls 504.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUrlFetcher } from '../../model/io/fetch-url.ts';
import { photo, startServer, type TestServer } from './server.ts';

const UPSTREAM_HOST = '127.0.0.2';
const chelsea = photo('chelsea.png');
let upstream: Server;
let origin: string;
let server: TestServer;

function serveUpstream(): Server {
  return createServer((req, res) => {
    const hops = /^\/hop\/(\d+)$/.exec(req.url ?? '');
    if (hops) {
      const left = Number(hops[1]);
      res.writeHead(302, { location: left > 1 ? `/hop/${left - 1}` : '/chelsea.png' });
      return res.end();
    }
    switch (req.url) {
      case '/chelsea.png':
        return res.writeHead(200, { 'content-type': 'image/png' }).end(chelsea);
      case '/to-loopback':
        return res
          .writeHead(302, { location: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/chelsea.png` })
          .end();
      case '/to-metadata':
        return res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      case '/broken':
        return res.writeHead(500).end('upstream is broken');
      case '/gzip':
        return res.writeHead(200, { 'content-type': 'image/png', 'content-encoding': 'gzip' }).end(gzipSync(chelsea));
      case '/huge':
        return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(400_000));
      case '/stall':
        res.writeHead(200, { 'content-type': 'image/png' });
        return res.write(chelsea.subarray(0, 100)); // and never more
      default:
        return res.writeHead(404).end();
    }
  });
}

beforeAll(async () => {
  upstream = serveUpstream();
  await new Promise<void>((resolve) => upstream.listen(0, UPSTREAM_HOST, resolve));
  origin = `http://${UPSTREAM_HOST}:${(upstream.address() as AddressInfo).port}`;
  server = await startServer(['imagenet'], {
    TAGMAP_URL_ALLOW: UPSTREAM_HOST,
    TAGMAP_URL_TIMEOUT_MS: '1000',
    TAGMAP_URL_MAX_BYTES: '300000',
  });
});
afterAll(async () => {
  upstream?.closeAllConnections();
  upstream?.close();
  await server?.close();
});

const byUrl = (url: string) => request(server.app).post('/v1/tags').send({ url, topK: 3 });

describe('fetching an image URL', () => {
  it('tags an image from an allowed host exactly as the same image uploaded', async () => {
    const fetched = await byUrl(`${origin}/chelsea.png`).expect(200);
    const uploaded = await request(server.app)
      .post('/v1/tags?topK=3')
      .attach('image', chelsea, 'chelsea.png')
      .expect(200);
    expect(fetched.body.tags).toEqual(uploaded.body.tags);
  });

  it('follows up to 3 redirects, each hop re-checked, and refuses a fourth with a 502', async () => {
    await byUrl(`${origin}/hop/3`).expect(200);
    const res = await byUrl(`${origin}/hop/4`).expect(502);
    expect(res.body).toMatchObject({
      code: 'url_fetch_failed',
      detail: expect.stringMatching(/more than 3 redirects/),
    });
  });

  it.each([
    ['loopback', 'http://127.0.0.1/a.jpg'],
    ['localhost by name', 'http://localhost/a.jpg'],
    ['loopback as one decimal number', 'http://2130706433/a.jpg'],
    ['loopback in hex', 'http://0x7f000001/a.jpg'],
    ['loopback in octal', 'http://0177.0.0.1/a.jpg'],
    ['loopback shortened', 'http://127.1/a.jpg'],
    ['IPv6 loopback', 'http://[::1]/a.jpg'],
    ['IPv4-mapped IPv6 loopback', 'http://[::ffff:127.0.0.1]/a.jpg'],
    // ipaddr.js reads the octal octet of this spelling unlike its IPv4 parser (ipaddr.js#213); the URL parser refuses it
    ['IPv4-mapped IPv6 loopback with an octal octet', 'http://[::ffff:0177.0.0.1]/a.jpg'],
    ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['cloud metadata as a decimal number', 'http://2852039166/latest/meta-data/'],
    ['IPv4-mapped IPv6 metadata', 'http://[::ffff:a9fe:a9fe]/latest/'],
    ['private 10/8', 'http://10.0.0.1/a.jpg'],
    ['private 192.168/16', 'https://192.168.1.1/a.jpg'],
    ['unspecified 0.0.0.0', 'http://0.0.0.0/a.jpg'],
    ['IPv6 unique local', 'http://[fd00::1]/a.jpg'],
    ['IPv6 link-local', 'http://[fe80::1]/a.jpg'],
    ['a file URL', 'file:///etc/passwd'],
  ])('refuses %s (%s) with a 400 url_not_allowed', async (_name, url) => {
    const res = await byUrl(url).expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe('url_not_allowed');
  });

  it('refuses a redirect from an allowed host to loopback or to the metadata address', async () => {
    for (const path of ['/to-loopback', '/to-metadata']) {
      const res = await byUrl(`${origin}${path}`).expect(400);
      expect(res.body).toMatchObject({
        code: 'url_not_allowed',
        detail: expect.stringMatching(/private, loopback, link-local or metadata/),
      });
    }
  });

  it('answers an upstream 500 with a 502 url_fetch_failed', async () => {
    const res = await byUrl(`${origin}/broken`).expect(502);
    expect(res.body).toMatchObject({
      code: 'url_fetch_failed',
      detail: `${UPSTREAM_HOST}:${new URL(origin).port} answered 500 Internal Server Error`,
    });
  });

  it('answers an upstream that stalls with a 504 url_timeout after TAGMAP_URL_TIMEOUT_MS', async () => {
    const started = performance.now();
    const res = await byUrl(`${origin}/stall`).expect(504);
    expect(res.body).toMatchObject({ code: 'url_timeout', detail: 'fetching the image took longer than 1000 ms' });
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('refuses a compressed body instead of inflating it', async () => {
    const res = await byUrl(`${origin}/gzip`).expect(502);
    expect(res.body.detail).toMatch(/gzip-compressed body .* not inflated/);
  });

  it('stops reading a body over TAGMAP_URL_MAX_BYTES with a 413 too_large', async () => {
    const res = await byUrl(`${origin}/huge`).expect(413);
    expect(res.body).toMatchObject({
      code: 'too_large',
      detail: expect.stringMatching(/larger than the 300000-byte limit/),
    });
  });

  it('fetches from a host allowed by name although it resolves to loopback, and still refuses other loopback names', async () => {
    const local = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(chelsea));
    await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
    const { port } = local.address() as AddressInfo;
    try {
      const fetchImage = createUrlFetcher({ allow: ['localhost'], timeoutMs: 1000, maxBytes: 1_000_000 });
      const fetched = await fetchImage(`http://localhost:${port}/chelsea.png`);
      expect(fetched.bytes.equals(chelsea)).toBe(true);
      await expect(fetchImage(`http://127.0.0.1:${port}/chelsea.png`)).rejects.toMatchObject({
        code: 'url_not_allowed',
      });
    } finally {
      local.close();
    }
  });
});
