// SIGTERM on the real process (node --import tsx server/main.ts): the running inference finishes with 200,
// the queued ones get 503 shutting_down, and the process exits 0 well before Kubernetes' 30 s.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { modelsFolder } from '../model/zoo.ts';
import { photo, upload } from './server.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const folder = modelsFolder(['imagenet']);
let child: ChildProcess | undefined;

afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  folder.remove();
});

/** Starts the server process and resolves with its base URL once it logs that it listens. */
function startProcess(): Promise<string> {
  child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      TAGMAP_MODELS: folder.dir,
      TAGMAP_DEVICE: 'cpu',
      TAGMAP_WORKERS: '1',
      TAGMAP_THREADS: '1',
      TAGMAP_MAX_QUEUE: '2',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child!.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
    createInterface({ input: child!.stdout! }).on('line', (line) => {
      const entry = JSON.parse(line);
      if (entry.msg?.startsWith('listening')) resolve(`http://127.0.0.1:${entry.address.port}`);
    });
  });
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('SIGTERM', () => {
  it('finishes the running request, answers queued ones 503 shutting_down, and exits 0 within seconds', async () => {
    const url = await startProcess();
    await until(async () => (await fetch(`${url}/readyz`)).status === 200, 'readiness');
    const queueDepth = async () =>
      Number(/^tagmap_queue_depth (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);

    // one slow request runs in the only worker, two more wait in the queue
    const requests = Array.from({ length: 3 }, () =>
      upload(`${url}/v1/tags?model=imagenet&scales=1,2&minScore=0.01`, photo('astronaut.png'), 'a.png'),
    );
    await until(async () => (await queueDepth()) === 2, 'two queued requests');

    const exited = new Promise<number | null>((resolve) => child!.once('exit', resolve));
    const signalled = performance.now();
    child!.kill('SIGTERM');
    const responses = await Promise.all(requests);
    const exitCode = await exited;
    const drainMs = performance.now() - signalled;

    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 503, 503]);
    for (const res of responses.filter((r) => r.status === 503)) {
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({ code: 'shutting_down' });
    }
    const done = await responses.find((r) => r.status === 200)!.json();
    expect(done.tags.length).toBeGreaterThan(0);
    expect(exitCode).toBe(0);
    console.info(`drained and exited ${drainMs.toFixed(0)} ms after SIGTERM`);
    expect(drainMs).toBeLessThan(15_000);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });
});
