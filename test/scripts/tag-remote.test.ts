// --server: the same rows as in-process, through a real tagmap server on 127.0.0.1; URL inputs under the
// server's address rules; a server that is gone or overloaded.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchWithRetry } from '../../scripts/batch/retry.ts';
import { startServer, type TestServer } from '../server/server.ts';
import { LEAN, PHOTOS, byInput, jsonRows, modelsFolder, photoFolder, runTag, type PhotoFolder } from './helpers.ts';

let server: TestServer;
let models: ReturnType<typeof modelsFolder>;
let photos: PhotoFolder;
let files: Server;
let filesUrl: string;

const listen = async (handler: RequestListener) => {
  const http = createServer(handler);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { http, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
};
const close = (http: Server) => new Promise((resolve) => http.close(resolve));

beforeAll(async () => {
  server = await startServer(['imagenet'], { TAGMAP_URL_ALLOW: '127.0.0.1' });
  models = modelsFolder(['imagenet']);
  photos = photoFolder();
  // a plain file server for URL inputs
  ({ http: files, url: filesUrl } = await listen((req, res) => {
    if (req.url === '/chelsea.png') res.end(readFileSync(path.join(PHOTOS, 'chelsea.png')));
    else res.writeHead(404).end('not here');
  }));
});
afterAll(async () => {
  await server?.close();
  if (files) await close(files);
  models?.remove();
  photos?.remove();
});

describe('--server', () => {
  it('gives the same rows as the in-process run: tags, scores, sizes and error codes', async () => {
    const remote = await runTag([photos.dir, '--topK', '5', '--server', server.url, '--concurrency', '2']);
    const local = await runTag([photos.dir, '--topK', '5', '--models', models.dir, ...LEAN]);
    expect(remote.code, remote.stderr).toBe(1);
    expect(local.code, local.stderr).toBe(1);
    const remoteRows = byInput(jsonRows(remote.stdout));
    const localRows = byInput(jsonRows(local.stdout));
    expect([...remoteRows.keys()].sort()).toEqual([...localRows.keys()].sort());
    expect(remoteRows.size).toBe(6);
    for (const [input, row] of localRows) {
      const other = remoteRows.get(input)!;
      expect(other.ok, input).toBe(row.ok);
      expect(other.error?.code).toBe(row.error?.code);
      expect([other.width, other.height]).toEqual([row.width, row.height]);
      expect(other.tags?.map((t) => t.label)).toEqual(row.tags?.map((t) => t.label));
      other.tags?.forEach((t, n) => expect(t.score).toBeCloseTo(row.tags![n].score, 5));
    }
    expect(remoteRows.get(photos.truncated)!.error!.code).toBe('undecodable_image');
  });

  it('passes URL inputs to the server, which fetches them under its own address rules', async () => {
    const run = await runTag([`${filesUrl}/chelsea.png`, `${filesUrl}/missing.png`, '--server', server.url]);
    expect(run.code).toBe(1);
    const rows = byInput(jsonRows(run.stdout));
    expect(rows.get(`${filesUrl}/chelsea.png`)).toMatchObject({ ok: true, width: 451, height: 300 });
    const [first] = rows.get(`${filesUrl}/chelsea.png`)!.tags!;
    expect([first.label, ...first.parents]).toContain('cat');
    expect(rows.get(`${filesUrl}/missing.png`)).toMatchObject({ ok: false, error: { code: 'url_fetch_failed' } });
    expect(rows.get(`${filesUrl}/missing.png`)!.error!.message).toMatch(/answered 404/);
  });

  it('exits 2 without rows when the server does not know the model', async () => {
    const run = await runTag([photos.dir, '--model', 'nonesuch', '--server', server.url]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/error: unknown_model: no model "nonesuch"/);
  });

  it('stops with exit 1 and writes no rows when the server cannot be reached, so --resume can go on later', async () => {
    const { http, url } = await listen(() => undefined);
    await close(http); // a port nobody listens on
    const run = await runTag([photos.dir, '--server', url, '--retries', '1']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /tag: stopped: server_unreachable: .* did not answer after 2 tries: ECONNREFUSED; run again with --resume/,
    );
  });
});

describe('URL inputs in-process', () => {
  it('fetches allowed URLs and refuses loopback ones unless --urlAllow names them', async () => {
    const url = `${filesUrl}/chelsea.png`;
    const refused = await runTag([url, '--models', models.dir, ...LEAN]);
    expect(refused.code).toBe(1);
    expect(jsonRows(refused.stdout)).toMatchObject([{ input: url, ok: false, error: { code: 'url_not_allowed' } }]);
    const allowed = await runTag([url, '--urlAllow', '127.0.0.1', '--models', models.dir, ...LEAN]);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(jsonRows(allowed.stdout)[0]).toMatchObject({ input: url, ok: true, width: 451, height: 300 });
  });
});

describe('retries', () => {
  it('waits as long as Retry-After asks after a 503, then succeeds', async () => {
    const seen: number[] = [];
    const { http, url } = await listen((_req, res) => {
      seen.push(Date.now());
      if (seen.length === 1) res.writeHead(503, { 'retry-after': '1' }).end('busy');
      else res.end('ok');
    });
    try {
      const response = await fetchWithRetry(
        new URL(url),
        () => ({ method: 'POST', body: 'x' }),
        { retries: 3, baseMs: 10, maxMs: 5000, timeoutMs: 5000, rateLimitedMs: 5000 },
        new AbortController().signal,
      );
      expect(response.status).toBe(200);
      expect(seen).toHaveLength(2);
      expect(seen[1] - seen[0]).toBeGreaterThanOrEqual(950);
    } finally {
      await close(http);
    }
  });

  it('waits out 429s as Retry-After asks without using up a retry, and hands one back past rateLimitedMs', async () => {
    const seen: number[] = [];
    const { http, url } = await listen((_req, res) => {
      seen.push(Date.now());
      if (seen.length <= 2 || seen.length >= 4) res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      else res.end('ok');
    });
    const policy = { retries: 0, baseMs: 10, maxMs: 5000, timeoutMs: 5000, rateLimitedMs: 1500 };
    const send = () => fetchWithRetry(new URL(url), () => ({ method: 'GET' }), policy, new AbortController().signal);
    try {
      expect((await send()).status).toBe(200);
      expect(seen).toHaveLength(3);
      for (const n of [1, 2]) expect(seen[n] - seen[n - 1]).toBeGreaterThanOrEqual(950);
      // always 429 from here: it waits (1 to 1.1 s each) while it has waited under 1.5 s in all, so twice
      expect((await send()).status).toBe(429);
      expect(seen).toHaveLength(6);
    } finally {
      await close(http);
    }
  });

  it('hands back the last 503 when every retry is used up', async () => {
    let tries = 0;
    const { http, url } = await listen((_req, res) => {
      tries++;
      res.writeHead(503).end('busy');
    });
    try {
      const response = await fetchWithRetry(
        new URL(url),
        () => ({ method: 'GET' }),
        { retries: 2, baseMs: 5, maxMs: 20, timeoutMs: 5000, rateLimitedMs: 5000 },
        new AbortController().signal,
      );
      expect(response.status).toBe(503);
      expect(tries).toBe(3);
    } finally {
      await close(http);
    }
  });
});
