// The real server process for the tests that need one (signals, exit codes, log lines): server/main.ts as
// `npm start` runs it (scripts/start.sh, which picks the allocator and execs node --import tsx, so the child's
// pid is the server's) on a free port with one worker on the CPU, its JSON log lines collected as they come.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(import.meta.dirname, '../..');
const children: ChildProcess[] = [];

type LogLine = Record<string, unknown> & { msg: string };

export interface ServerProcess {
  child: ChildProcess;
  /** every log line so far, parsed */
  lines: LogLine[];
  /** resolves with the first log line from now on whose message starts with `prefix` */
  next(prefix: string): Promise<LogLine>;
  /** resolves with the base URL once the server logs that it listens */
  listening: Promise<string>;
  exited: Promise<number | null>;
}

export function startServerProcess(modelsDir: string, env: Record<string, string> = {}): ServerProcess {
  const child = spawn('sh', ['scripts/start.sh', process.execPath, '--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      TAGMAP_MODELS: modelsDir,
      TAGMAP_DEVICE: 'cpu',
      TAGMAP_WORKERS: '1',
      TAGMAP_THREADS: '1',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: LogLine[] = [];
  const waiting: Array<{ prefix: string; resolve: (line: LogLine) => void }> = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const wait of [...waiting]) {
      if (!line.msg.startsWith(wait.prefix)) continue;
      waiting.splice(waiting.indexOf(wait), 1);
      wait.resolve(line);
    }
  });
  const next = (prefix: string) =>
    new Promise<LogLine>((resolve, reject) => {
      waiting.push({ prefix, resolve });
      void exited.then(() => reject(new Error(`the server exited before logging "${prefix}"`)));
    });
  const listening = next('listening').then((line) => `http://127.0.0.1:${(line.address as { port: number }).port}`);
  listening.catch(() => {}); // a process that is meant to fail never listens
  return { child, lines, next, listening, exited };
}

/** For afterAll: kills every server process still running. */
export function killServerProcesses(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}
