// Test helpers: `npm run build` as the Dockerfile's build stage runs it, and the compiled server started as a
// real process with no TypeScript loader (no --import, no NODE_OPTIONS), resolving once it logs its port.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './dockerfile-stages.ts';

interface Metafile {
  outputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }>;
}

/** Runs the build; returns esbuild's metafile (what each bundle imports). */
export function buildDist(): Metafile {
  const run = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`npm run build failed (${run.status}): ${run.stderr}`);
  return JSON.parse(readFileSync(path.join(ROOT, 'dist/meta.json'), 'utf8')) as Metafile;
}

/** The environment a container would give: this one less any loader hooks, plus the settings given. */
export function cleanEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...settings };
  delete env.NODE_OPTIONS;
  return env;
}

export interface Running {
  child: ChildProcess;
  url: string;
  /** every line the process wrote to stdout so far */
  lines: string[];
  exited: Promise<number | null>;
}

/** Spawns argv (e.g. the image's CMD) in the repository root, which has the image's layout. */
export function startCompiled(argv: string[], settings: Record<string, string>): Promise<Running> {
  const [command, ...args] = argv;
  const child = spawn(command === 'node' ? process.execPath : command!, args, {
    cwd: ROOT,
    env: cleanEnv({ PORT: '0', HOST: '127.0.0.1', ...settings }),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    void exited.then((code) => reject(new Error(`the server exited early with ${code}: ${lines.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const entry = JSON.parse(line);
      if (entry.msg?.startsWith('listening')) {
        resolve({ child, url: `http://127.0.0.1:${entry.address.port}`, lines, exited });
      }
    });
  });
}
