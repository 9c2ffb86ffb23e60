// SIGTERM on the real process (node --import tsx server/main.ts): the running inference finishes with 200,
// the queued ones get 503 shutting_down, and the process exits 0 well before Kubernetes' 30 s; under a
// load of 20 clients, readiness goes false at once and no client sees its connection reset.
import { afterAll, describe, expect, it } from 'vitest';
import { modelsFolder } from '../model/zoo.ts';
import { killServerProcesses, startServerProcess } from './process.ts';
import { photo, upload } from './server.ts';

const folder = modelsFolder(['imagenet']);

afterAll(() => {
  killServerProcesses();
  folder.remove();
});

/** Starts the server process on the imagenet folder and resolves once it listens. */
async function startProcess(env: Record<string, string>) {
  const server = startServerProcess(folder.dir, env);
  return { url: await server.listening, child: server.child, exited: server.exited };
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const isReady = async (url: string) => (await fetch(`${url}/readyz`)).status === 200;
const queueDepth = async (url: string) =>
  Number(/^tagmap_queue_depth (\d+)/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1]);
const errorCode = (error: unknown) =>
  String((error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message);

describe('SIGTERM', () => {
  it('finishes the running request, answers queued ones 503 shutting_down, and exits 0 within seconds', async () => {
    const { url, child, exited } = await startProcess({ TAGMAP_MAX_QUEUE: '2' });
    await until(() => isReady(url), 'readiness');

    // one slow request runs in the only worker, two more wait in the queue
    const requests = Array.from({ length: 3 }, () =>
      upload(`${url}/v1/tags?model=imagenet&scales=1,2&minScore=0.01`, photo('astronaut.png'), 'a.png'),
    );
    await until(async () => (await queueDepth(url)) === 2, 'two queued requests');

    const signalled = performance.now();
    child.kill('SIGTERM');
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

  it('under 20 clients: readiness false at once, in-flight 200, queued 503 shutting_down, no reset, exit < 30 s', async () => {
    const CLIENTS = 20;
    // the queue holds every client: the load saturates the one worker without overload refusals
    const { url, child, exited } = await startProcess({ TAGMAP_MAX_QUEUE: String(CLIENTS) });
    await until(() => isReady(url), 'readiness');
    const image = photo('chelsea.png');

    let signalledAt = Infinity;
    const answers: Array<{ status: number; code?: string; sentAt: number; answeredAt: number }> = [];
    const failures: string[] = [];
    // each client posts again as soon as it has its answer, and stops at shutting_down (it would go to
    // another replica) or at a connection failure
    const client = async () => {
      for (;;) {
        const sentAt = performance.now();
        try {
          const res = await upload(`${url}/v1/tags?model=imagenet`, image, 'chelsea.png');
          const body = (await res.json()) as { code?: string };
          answers.push({ status: res.status, code: body.code, sentAt, answeredAt: performance.now() });
          if (body.code === 'shutting_down') return;
        } catch (error) {
          failures.push(errorCode(error));
          return;
        }
      }
    };
    const clients = Array.from({ length: CLIENTS }, client);
    await until(async () => (await queueDepth(url)) >= CLIENTS - 2, 'a saturated queue');

    // readiness probes on their own connections, every 10 ms, until the listener is gone
    const probes: Array<{ at: number; status: number }> = [];
    const probing = (async () => {
      for (;;) {
        try {
          const res = await fetch(`${url}/readyz`, { headers: { connection: 'close' } });
          await res.arrayBuffer();
          probes.push({ at: performance.now(), status: res.status });
        } catch {
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));

    signalledAt = performance.now();
    child.kill('SIGTERM');
    await Promise.all(clients);
    const exitCode = await exited;
    const drainMs = performance.now() - signalledAt;
    await probing;

    expect(failures, `connection failures: ${failures.join(', ')}`).toEqual([]);
    const afterSignal = answers.filter((a) => a.answeredAt > signalledAt);
    const inFlight = afterSignal.filter((a) => a.status === 200);
    const refused = afterSignal.filter((a) => a.status === 503);
    expect(inFlight.length + refused.length).toBe(afterSignal.length);
    expect(inFlight.length).toBeGreaterThanOrEqual(1);
    expect(refused.every((a) => a.code === 'shutting_down')).toBe(true);
    // every client ends with shutting_down: at least the queued ones, plus any that posted again meanwhile
    expect(refused.length).toBe(CLIENTS);
    const notReady = probes.find((p) => p.at > signalledAt && p.status === 503);
    const readyAfter = probes.filter((p) => p.at > (notReady?.at ?? Infinity) && p.status === 200);
    expect(notReady, 'a 503 from /readyz after SIGTERM').toBeDefined();
    expect(readyAfter).toEqual([]);
    const notReadyMs = notReady!.at - signalledAt;
    console.info(
      `${CLIENTS} clients: /readyz 503 ${notReadyMs.toFixed(0)} ms after SIGTERM; ${inFlight.length} in-flight ` +
        `answered 200, ${refused.length} refused shutting_down; exit ${drainMs.toFixed(0)} ms after SIGTERM`,
    );
    expect(notReadyMs).toBeLessThan(500);
    expect(exitCode).toBe(0);
    expect(drainMs).toBeLessThan(30_000);
  });
});
