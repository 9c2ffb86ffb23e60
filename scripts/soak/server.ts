// The server a soak drives when no --server is given: server/main.ts as `npm start` runs it, on a free
// port, with the named bundled models (symlinked into a temporary folder) and URL inputs allowed from
// this machine's test host. Settings already in the environment win over the soak's lean defaults.
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BUNDLED_MODELS } from '../../model/index.ts';
import { startServer, type ServerHandle } from '../bench/serve.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');

/** One worker with one thread and a queue of 4: a few clients saturate it, a burst of 12 overflows it. */
const LEAN = { TAGMAP_DEVICE: 'cpu', TAGMAP_WORKERS: '1', TAGMAP_THREADS: '1', TAGMAP_MAX_QUEUE: '4' };

export interface SoakServer extends ServerHandle {
  pid: number;
}

export async function startSoakServer(models: string[]): Promise<SoakServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-soak-models-'));
  for (const name of models) symlinkSync(path.join(BUNDLED_MODELS, name), path.join(dir, name), 'dir');
  const defaults = Object.fromEntries(Object.entries(LEAN).filter(([name]) => process.env[name] === undefined));
  try {
    const server = await startServer(REPO_ROOT, {
      ...defaults,
      TAGMAP_MODELS: dir,
      TAGMAP_URL_ALLOW: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    });
    return {
      ...server,
      pid: server.child.pid!,
      stop: () => server.stop().finally(() => rmSync(dir, { recursive: true, force: true })),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
