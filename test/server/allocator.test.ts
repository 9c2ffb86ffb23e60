// The allocator `npm start` gives the server (scripts/start.sh): tcmalloc when Debian's libtcmalloc-minimal4
// is installed (.ci/run installs it), glibc's malloc when LD_PRELOAD is set empty; the real process says which
// in its start-up log line and on /metrics (tagmap_malloc_info).
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { modelsFolder } from '../model/zoo.ts';
import { killServerProcesses, startServerProcess } from './process.ts';

const TCMALLOC = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libtcmalloc_minimal.so.4`;
const folder = modelsFolder(['fashion']);

afterAll(() => {
  killServerProcesses();
  folder.remove();
});

async function reportedMalloc(env: Record<string, string>) {
  const server = startServerProcess(folder.dir, env);
  const listening = await server.next('listening');
  const metrics = await (await fetch(`${await server.listening}/metrics`)).text();
  server.child.kill('SIGTERM');
  await server.exited;
  return { logged: listening.malloc, metric: /^tagmap_malloc_info\{allocator="(\w+)"\} 1$/m.exec(metrics)?.[1] };
}

describe('scripts/start.sh', () => {
  it('runs the server on tcmalloc when it is installed', async () => {
    expect(existsSync(TCMALLOC), `${TCMALLOC} is missing: apt-get install libtcmalloc-minimal4`).toBe(true);
    expect(await reportedMalloc({})).toEqual({ logged: 'tcmalloc', metric: 'tcmalloc' });
  });

  it('leaves an LD_PRELOAD already set: empty keeps glibc', async () => {
    expect(await reportedMalloc({ LD_PRELOAD: '' })).toEqual({ logged: 'glibc', metric: 'glibc' });
  });
});
