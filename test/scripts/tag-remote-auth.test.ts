// --server against a real server with API keys on: keys made by `npm run key` (scripts/key.ts, a real
// process), sent from TAGMAP_API_KEY or --api-key-file; a missing or wrong key stops the run at once without
// rows; a key over its rate is paced by 429s and still gets every row. npm run measure-tags sends the key too.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from '../../scripts/batch/cli.ts';
import { SHARED, startServer, type TestServer } from '../server/server.ts';
import { finished, jsonRows, photoFolder, runTag, type PhotoFolder } from './helpers.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const work = mkdtempSync(path.join(tmpdir(), 'tagmap-remote-auth-'));
const keysFile = path.join(work, 'keys.json');
/** no key from the environment this suite runs in: an empty TAGMAP_API_KEY counts as unset */
const NO_KEY = { TAGMAP_API_KEY: '' };

let server: TestServer;
let photos: PhotoFolder;
let batchKey: string;
let slowKey: string;

/** `npm run key -- NAME --file keys.json ...`; the key is the last line it prints. */
function makeKey(name: string, ...limits: string[]): string {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/key.ts', name, '--file', keysFile, ...limits], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.trim().split('\n').at(-1)!;
}

beforeAll(async () => {
  batchKey = makeKey('batch');
  slowKey = makeKey('slow', '--rate', '1', '--burst', '1');
  server = await startServer(['fashion', 'imagenet'], { TAGMAP_API_KEYS_FILE: keysFile });
  photos = photoFolder();
});
afterAll(async () => {
  await server?.close();
  photos?.remove();
  rmSync(work, { recursive: true, force: true });
});

const tagArgs = (...more: string[]) => [...photos.good, '--model', 'fashion', '--server', server.url, ...more];

function expectAllTagged(run: { code: number | null; stdout: string; stderr: string }) {
  expect(run.code, run.stderr).toBe(0);
  const rows = jsonRows(run.stdout);
  expect(rows.map((r) => r.input).sort()).toEqual([...photos.good].sort());
  for (const row of rows) expect(row, row.input).toMatchObject({ ok: true, width: expect.any(Number) });
  expect(rows.every((r) => Array.isArray(r.tags))).toBe(true);
  return rows;
}

describe('npm run tag --server with API keys on', () => {
  it('tags every image with the key in TAGMAP_API_KEY', async () => {
    expectAllTagged(await runTag(tagArgs(), '', { TAGMAP_API_KEY: batchKey }));
  });

  it('tags every image with the key read from --api-key-file, whitespace around it trimmed', async () => {
    const file = path.join(work, 'batch.key');
    writeFileSync(file, `  ${batchKey}\n\n`);
    expectAllTagged(await runTag(tagArgs('--api-key-file', file), '', NO_KEY));
  });

  it('without a key stops at once with exit 2 and no rows, and --resume with the key then tags them all', async () => {
    const out = path.join(work, 'resumed.jsonl');
    const started = performance.now();
    const refused = await runTag(tagArgs('--out', out), '', NO_KEY);
    expect(performance.now() - started).toBeLessThan(15_000); // no retries: the first answer ends the run
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /error: unauthorized: the server needs an API key: set TAGMAP_API_KEY or give --api-key-file FILE/,
    );
    expect(readFileSync(out, 'utf8')).toBe('');
    const resumed = await runTag(tagArgs('--out', out, '--resume'), '', { TAGMAP_API_KEY: batchKey });
    expect(resumed.code, resumed.stderr).toBe(0);
    expectAllTagged({ ...resumed, stdout: readFileSync(out, 'utf8') });
  });

  it('with a wrong key stops at once with exit 2 and no rows, naming where the key came from', async () => {
    const wrong = await runTag(tagArgs(), '', { TAGMAP_API_KEY: `${batchKey}x` });
    expect(wrong.code).toBe(2);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toMatch(
      /error: unauthorized: the server refused the API key from TAGMAP_API_KEY: that API key is not valid/,
    );
  });

  it('waits out 429s as Retry-After asks, without error rows, when the key is over its rate', async () => {
    // 1 request/s, burst 1, 4 images at once: the bucket lets the last one in no sooner than 3 s after the first
    const run = await runTag(tagArgs('--concurrency', '4', '--retries', '0'), '', { TAGMAP_API_KEY: slowKey });
    const rows = expectAllTagged(run);
    expect(Math.max(...rows.map((r) => r.ms!))).toBeGreaterThanOrEqual(2500);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const refused = [...metrics.matchAll(/^tagmap_http_requests_total\{([^}]*)\} (\d+)$/gm)]
      .filter(([, labels]) => labels.includes('status="429"') && labels.includes('key="slow"'))
      .reduce((sum, [, , count]) => sum + Number(count), 0);
    expect(refused).toBeGreaterThanOrEqual(3);
  });
});

describe('npm run measure-tags --server with API keys on', () => {
  /** two MSRC-21 test photos (flowers, signs) with their labels, as a split of their own */
  function msrcSplit(): string {
    const msrc = path.join(SHARED, 'data/msrc21');
    const data = path.join(work, 'msrc');
    for (const folder of ['images', 'labels']) mkdirSync(path.join(data, folder), { recursive: true });
    writeFileSync(path.join(data, 'classes.json'), readFileSync(path.join(msrc, 'classes.json')));
    const photos = ['10_12_s', '11_14_s'];
    for (const name of photos) {
      symlinkSync(path.join(msrc, 'images', `${name}.jpg`), path.join(data, 'images', `${name}.jpg`));
      symlinkSync(path.join(msrc, 'labels', `${name}.png`), path.join(data, 'labels', `${name}.png`));
    }
    writeFileSync(path.join(data, 'splits.json'), JSON.stringify({ test: photos }));
    return data;
  }
  // a child process, not spawnSync: the server answers from this very process
  const measureTags = (data: string, env: Record<string, string>) =>
    finished(
      spawn(
        process.execPath,
        ['--import', 'tsx', 'scripts/measure-tags.ts', '--data', data, '--server', server.url, '--scales', '1'],
        { cwd: ROOT, env: { ...process.env, ...env } },
      ),
    );

  it('sends TAGMAP_API_KEY, and without it names the refusal', async () => {
    const data = msrcSplit();
    const keyed = await measureTags(data, { TAGMAP_API_KEY: batchKey });
    expect(keyed.code, keyed.stderr).toBe(0);
    expect(keyed.stderr).toContain('2/2 images');
    expect(keyed.stdout).toMatch(/\| \*\*mAP\*\* \|/);
    const refused = await measureTags(data, NO_KEY);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/measure-tags: unauthorized: set TAGMAP_API_KEY: this server needs an API key/);
  });
});

describe('the command line', () => {
  const usageError = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    try {
      parseCommandLine(argv, env);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as UsageError).message;
    }
    throw new Error(`no usage error for ${argv.join(' ')}`);
  };
  const server = ['--server', 'http://tagmap:8080'];

  it('takes the key from TAGMAP_API_KEY or --api-key-file, for --server runs only', () => {
    const file = path.join(work, 'cli.key');
    writeFileSync(file, 'tgm_abc\n');
    expect(parseCommandLine(['a.jpg', ...server], { TAGMAP_API_KEY: ' tgm_env ' }).settings!.apiKey).toEqual({
      key: 'tgm_env',
      from: 'TAGMAP_API_KEY',
    });
    expect(parseCommandLine(['a.jpg', ...server, '--api-key-file', file]).settings!.apiKey).toEqual({
      key: 'tgm_abc',
      from: `--api-key-file ${file}`,
    });
    expect(parseCommandLine(['a.jpg', ...server]).settings!.apiKey).toBeUndefined();
    // an exported key does not get in the way of in-process runs
    expect(parseCommandLine(['a.jpg'], { TAGMAP_API_KEY: 'tgm_env' }).settings!.apiKey).toBeUndefined();
    expect(usageError(['a.jpg', '--api-key-file', file])).toMatch(/--api-key-file is for --server runs/);
    expect(usageError(['a.jpg', ...server, '--api-key', 'tgm_abc'])).toMatch(/unknown option '--api-key'/);
  });

  it('refuses a key file that is missing, empty or holds more than one token, and a key given twice', () => {
    const empty = path.join(work, 'empty.key');
    const two = path.join(work, 'two.key');
    writeFileSync(empty, ' \n');
    writeFileSync(two, 'tgm_a\ntgm_b\n');
    const missing = path.join(work, 'missing.key');
    expect(usageError(['a.jpg', ...server, '--api-key-file', missing])).toMatch(
      new RegExp(`cannot read --api-key-file ${missing}: ENOENT`),
    );
    expect(usageError(['a.jpg', ...server, '--api-key-file', empty])).toMatch(/empty\.key holds no API key/);
    expect(usageError(['a.jpg', ...server, '--api-key-file', two])).toMatch(
      /two\.key must hold one API key, such as npm run key prints: no spaces or line breaks inside it/,
    );
    expect(usageError(['a.jpg', ...server, '--api-key-file', two], { TAGMAP_API_KEY: 'tgm_a' })).toMatch(
      /give the API key once: --api-key-file or TAGMAP_API_KEY, not both/,
    );
  });
});
