// API keys and rate limits over real HTTP: the real app on the bundled fashion model, a keys file of hashes,
// real photos; and `npm run key` feeding the real server process (node --import tsx server/main.ts), whose
// log lines and /metrics carry the key's name and never the key.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashKey, makeKey } from '../../server/auth-keys.ts';
import { ConfigError, loadConfig } from '../../server/config.ts';
import { webRouter } from '../../server/web.ts';
import { modelsFolder } from '../model/zoo.ts';
import { startServerProcess } from './process.ts';
import { photo, startServer, upload, type TestServer } from './server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-auth-'));
const keysFile = path.join(dir, 'keys.json');
const alice = makeKey();
const limited = makeKey();
const COFFEE = photo('coffee.png');

let server: TestServer;

beforeAll(async () => {
  const keys = [
    { name: 'alice', sha256: hashKey(alice) },
    { name: 'limited', sha256: hashKey(limited), ratePerSec: 1, burst: 2 },
  ];
  writeFileSync(keysFile, JSON.stringify({ keys }));
  server = await startServer(['fashion'], { TAGMAP_API_KEYS_FILE: keysFile }, { web: await webRouter() });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const tag = (headers: Record<string, string> = {}, base = server.url) =>
  upload(`${base}/v1/tags?model=fashion`, COFFEE, 'coffee.png', headers);

async function expectProblem(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = await response.json();
  expect(body).toMatchObject({ status, code, type: `urn:tagmap:problem:${code}` });
  return body as { detail: string };
}

describe('with keys on', () => {
  it('answers a request without a key 401 unauthorized with WWW-Authenticate, naming both headers', async () => {
    for (const response of [await tag(), await fetch(`${server.url}/v1/models`)]) {
      expect(response.headers.get('www-authenticate')).toBe('Bearer realm="tagmap"');
      const body = await expectProblem(response, 401, 'unauthorized');
      expect(body.detail).toContain('Authorization: Bearer KEY');
      expect(body.detail).toContain('X-API-Key: KEY');
    }
  });

  it('answers a wrong key 401 unauthorized, in either header and in other schemes', async () => {
    const wrong = makeKey();
    for (const headers of [
      { authorization: `Bearer ${wrong}` } as Record<string, string>,
      { 'x-api-key': wrong },
      { authorization: `Bearer ${alice}x` },
      { authorization: `Basic ${Buffer.from(`alice:${alice}`).toString('base64')}` },
    ]) {
      const response = await tag(headers);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer realm="tagmap"/);
      await expectProblem(response, 401, 'unauthorized');
    }
  });

  it('tags a real photo with a good key in either header', async () => {
    for (const headers of [{ authorization: `Bearer ${alice}` }, { 'X-API-Key': alice }] as Array<
      Record<string, string>
    >) {
      const response = await tag(headers);
      expect(response.status).toBe(200);
      const body = await response.json();
      expect(body.model.name).toBe('fashion');
      expect(body.tags.length).toBeGreaterThan(0);
    }
  });

  it('leaves the probes, the page and /openapi.json open', async () => {
    for (const route of ['/healthz', '/readyz', '/metrics', '/', '/app.js', '/openapi.json']) {
      expect((await fetch(`${server.url}${route}`)).status, route).toBe(200);
    }
  });

  it('refuses a key over its rate with 429 rate_limited and Retry-After, then takes it after the wait', async () => {
    const headers = { authorization: `Bearer ${limited}` };
    const statuses = [];
    let refused: Response | undefined;
    // burst 2 at 1 per second: two go through at once, the third is refused
    for (let i = 0; i < 3; i++) {
      const response = await fetch(`${server.url}/v1/models`, { headers });
      statuses.push(response.status);
      if (response.status === 429) refused = response;
      else await response.arrayBuffer();
    }
    expect(statuses).toEqual([200, 200, 429]);
    const retryAfter = refused!.headers.get('retry-after');
    expect(retryAfter).toMatch(/^[1-9]\d*$/);
    expect(Number(retryAfter)).toBe(1);
    const body = await expectProblem(refused!, 429, 'rate_limited');
    expect(body.detail).toMatch(/over 1 requests per second \(burst 2\); retry in 1 s/);
    // other keys have buckets of their own
    expect((await tag({ authorization: `Bearer ${alice}` })).status).toBe(200);

    // Retry-After is rounded up; 20 ms covers timers that fire a little early against the clock
    await new Promise((resolve) => setTimeout(resolve, Number(retryAfter) * 1000 + 20));
    const after = await tag(headers);
    expect(after.status).toBe(200);
    expect((await after.json()).tags.length).toBeGreaterThan(0);
  });

  it('declares the bearer and X-API-Key schemes in /openapi.json, with the probes marked open', async () => {
    const document = await (await fetch(`${server.url}/openapi.json`)).json();
    expect(document.components.securitySchemes).toMatchObject({
      bearerKey: { type: 'http', scheme: 'bearer' },
      headerKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
    });
    expect(document.security).toEqual([{ bearerKey: [] }, { headerKey: [] }]);
    for (const probe of ['/healthz', '/readyz', '/metrics']) expect(document.paths[probe].get.security).toEqual([]);
    expect(document.paths['/v1/tags'].post.security).toBeUndefined();
    expect(document.paths['/v1/tags'].post.responses).toHaveProperty('401');
    expect(document.paths['/v1/tags'].post.responses).toHaveProperty('429');
    expect(document.paths['/healthz'].get.responses).not.toHaveProperty('401');
  });
});

describe('closing the probes', () => {
  it('asks for a key on /metrics and /readyz when TAGMAP_AUTH_OPEN_ROUTES leaves them out', async () => {
    const closed = await startServer(['fashion'], {
      TAGMAP_API_KEYS_FILE: keysFile,
      TAGMAP_AUTH_OPEN_ROUTES: 'healthz',
    });
    try {
      expect((await fetch(`${closed.url}/healthz`)).status).toBe(200);
      await expectProblem(await fetch(`${closed.url}/metrics`), 401, 'unauthorized');
      await expectProblem(await fetch(`${closed.url}/readyz`), 401, 'unauthorized');
      const scrape = await fetch(`${closed.url}/metrics`, { headers: { 'x-api-key': alice } });
      expect(scrape.status).toBe(200);
      expect(await scrape.text()).toMatch(/tagmap_http_requests_total\{[^}]*status="401",key="anonymous"\} 2/);
      const document = await (await fetch(`${closed.url}/openapi.json`)).json();
      expect(document.paths['/metrics'].get.security).toBeUndefined();
      expect(document.paths['/healthz'].get.security).toEqual([]);
    } finally {
      await closed.close();
    }
  });
});

describe('with keys off', () => {
  it('limits each client address by TAGMAP_RATE_PER_SEC and declares no security scheme', async () => {
    const open = await startServer(['fashion'], { TAGMAP_RATE_PER_SEC: '1', TAGMAP_RATE_BURST: '1' });
    try {
      expect((await tag({}, open.url)).status).toBe(200);
      const refused = await tag({}, open.url);
      expect(refused.headers.get('retry-after')).toBe('1');
      await expectProblem(refused, 429, 'rate_limited');
      // the probes are not limited
      for (let i = 0; i < 3; i++) expect((await fetch(`${open.url}/healthz`)).status).toBe(200);
      const document = await (await fetch(`${open.url}/openapi.json`)).json();
      expect(document.components.securitySchemes).toBeUndefined();
      expect(document.security).toEqual([]);
      expect(document.paths['/v1/tags'].post.responses).not.toHaveProperty('401');
      expect(document.paths['/v1/tags'].post.responses).toHaveProperty('429');
    } finally {
      await open.close();
    }
  });
});

describe('a bad keys file', () => {
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };
  const refusal = (file: string) => {
    try {
      loadConfig({ TAGMAP_API_KEYS_FILE: file });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return (error as Error).message;
    }
    throw new Error(`${file} was accepted`);
  };

  it('stops start-up naming the file and the entry', () => {
    const hash = hashKey(alice);
    const bad = write(
      'bad.json',
      JSON.stringify({
        keys: [
          { name: 'a', sha256: hash },
          { name: 'b', sha256: 'xyz' },
        ],
      }),
    );
    expect(refusal(bad)).toBe(
      `bad setting: TAGMAP_API_KEYS_FILE="${bad}": keys[1] (b).sha256: must be the key's sha256 as 64 lower-case hex digits`,
    );
    const twice = write(
      'twice.json',
      JSON.stringify({
        keys: [
          { name: 'a', sha256: hash },
          { name: 'a', sha256: hashKey(limited) },
        ],
      }),
    );
    expect(refusal(twice)).toContain('keys[1] (a).name: the same name as keys[0]');
    const typo = write('typo.json', JSON.stringify({ keys: [{ name: 'a', sha256: hash, rate: 5 }] }));
    expect(refusal(typo)).toMatch(/keys\[0\] \(a\): Unrecognized key: "rate"/);
    expect(refusal(write('text.json', 'alice=123'))).toMatch(/text\.json": not JSON/);
    expect(refusal(write('empty.json', '{"keys": []}'))).toContain('it holds no keys; add one with npm run key');
    expect(refusal(path.join(dir, 'missing.json'))).toMatch(/missing\.json": cannot read it: ENOENT/);
  });
});

describe('npm run key', () => {
  const file = path.join(dir, 'made.json');
  const runKey = (...args: string[]) =>
    spawnSync('npm', ['run', '--silent', 'key', '--', ...args], { cwd: ROOT, encoding: 'utf8' });

  it('appends the hash, prints the key last, and the key works against the server process', async () => {
    const first = runKey('importer', '--file', file, '--rate', '5', '--burst', '10');
    expect(first.status, first.stderr).toBe(0);
    const key = first.stdout.trimEnd().split('\n').at(-1)!;
    expect(key).toMatch(/^tgm_[\w-]{43}$/);
    const second = runKey('viewer', '--file', file);
    expect(second.status, second.stderr).toBe(0);
    const duplicate = runKey('importer', '--file', file);
    expect(duplicate.status).toBe(1);
    expect(duplicate.stderr).toContain(`${file} already has a key named "importer"`);

    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain(key);
    expect(JSON.parse(text).keys).toEqual([
      { name: 'importer', sha256: hashKey(key), ratePerSec: 5, burst: 10 },
      { name: 'viewer', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const folder = modelsFolder(['fashion']);
    const server = startServerProcess(folder.dir, { TAGMAP_API_KEYS_FILE: file });
    const { child } = server;
    try {
      const url = await server.listening;
      const lines = server.lines;
      while ((await fetch(`${url}/readyz`)).status !== 200) await new Promise((r) => setTimeout(r, 50));

      const response = await tag({ authorization: `Bearer ${key}` }, url);
      expect(response.status).toBe(200);
      expect((await response.json()).tags.length).toBeGreaterThan(0);
      expect((await tag({}, url)).status).toBe(401);

      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(
        /tagmap_http_requests_total\{method="POST",route="\/v1\/tags",status="200",key="importer"\} 1/,
      );
      expect(metrics).toMatch(
        /tagmap_http_requests_total\{method="POST",route="unmatched",status="401",key="anonymous"\} 1/,
      );
      const requestLines = lines
        .filter((entry) => (entry.req as { url?: string } | undefined)?.url?.startsWith('/v1/tags'))
        .map((entry) => entry as unknown as { res: { statusCode: number }; key?: string });
      expect(requestLines.map((entry) => [entry.res.statusCode, entry.key])).toEqual([
        [200, 'importer'],
        [401, undefined],
      ]);
      expect(JSON.stringify(lines)).not.toContain(key);
      expect(metrics).not.toContain(key);
    } finally {
      child.kill('SIGKILL');
      folder.remove();
    }
  });
});
