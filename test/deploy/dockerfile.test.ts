// The Dockerfile, checked without a Docker engine: its stages and targets as dockerfile-ast parses them, the
// .dockerignore as Docker matches it (@balena/dockerignore), and the image's CMD and HEALTHCHECK run for real
// on the compiled bundles, from a repository root laid out as the image's /app.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import dockerignore from '@balena/dockerignore';
import type { Copy } from 'dockerfile-ast';
import { afterAll, describe, expect, it } from 'vitest';
import { photo } from '../model/zoo.ts';
import { buildDist, cleanEnv, startCompiled, type Running } from './compiled.ts';
import { dockerStages, execForm, instructionsOf, ROOT, type Stage } from './dockerfile-stages.ts';

// its types declare `export default`, its code sets `module.exports`: under NodeNext the import is the function
const ignore = dockerignore as unknown as typeof dockerignore.default;
const stages = dockerStages();
const TARGETS = ['cpu', 'gpu'] as const;
const ORT_INSTALL = { cpu: 'skip', gpu: 'cuda12' } as const;

function stage(name: string): Stage {
  const found = stages.get(name);
  if (!found) throw new Error(`the Dockerfile has no stage "${name}"; it has ${[...stages.keys()].join(', ')}`);
  return found;
}

const runs = (s: Stage) => instructionsOf(s, 'RUN').map((i) => i.getArgumentsContent() ?? '');
/** Each COPY as written: its flags (--from=build) then its paths. */
const copies = (s: Stage) =>
  (instructionsOf(s, 'COPY') as Copy[]).map((i) =>
    [...i.getFlags().map((f) => `--${f.getName()}=${f.getValue()}`), i.getArgumentsContent()].join(' '),
  );
const cmd = (s: Stage) => execForm(instructionsOf(s, 'CMD').at(-1)!);
/** Each ENV setting as NAME=value. */
const envOf = (s: Stage) => instructionsOf(s, 'ENV').flatMap((i) => i.getArguments().map((a) => a.getValue()));
const healthcheck = (s: Stage) => execForm(instructionsOf(s, 'HEALTHCHECK').at(-1)!);

/** The package name of a bare import: "csv-stringify/sync" -> csv-stringify, "@a/b/c" -> @a/b. */
const packageOf = (specifier: string) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');

describe('Dockerfile stages', () => {
  it('has a build stage and the cpu and gpu targets on the bases the issue names', () => {
    expect([...stages.keys()]).toEqual(expect.arrayContaining(['build', 'cpu', 'gpu']));
    expect(stage('build').image).toMatch(/^node:20-/);
    expect(stage('cpu').image).toBe('node:20-bookworm-slim');
    expect(stage('gpu').image).toMatch(/^nvidia\/cuda:12\.\d+\.\d+-cudnn\d*-runtime-ubuntu/);
  });

  it('compiles the TypeScript in the build stage with npm run build, from all dependencies', () => {
    expect(runs(stage('build'))).toContain('npm run build');
    expect(runs(stage('build')).find((r) => r.includes('npm ci'))).not.toContain('--omit=dev');
  });

  it('the gpu target installs Node 20 from NodeSource and starts with TAGMAP_DEVICE=cuda', () => {
    const install = runs(stage('gpu')).join('\n');
    expect(install).toContain('deb.nodesource.com/node_20.x');
    expect(install).toMatch(/apt-get install [^&]*\bnodejs\b/);
    expect(envOf(stage('gpu'))).toContain('TAGMAP_DEVICE=cuda');
  });

  it('the cpu target runs the server under tcmalloc, found by its soname', () => {
    expect(runs(stage('cpu')).join('\n')).toMatch(/apt-get install [^&]*\blibtcmalloc-minimal4\b/);
    expect(envOf(stage('cpu'))).toContain('LD_PRELOAD=libtcmalloc_minimal.so.4');
  });

  describe.each(TARGETS)('target %s', (target) => {
    const s = stage(target);

    it(`installs production dependencies only, with ONNXRUNTIME_NODE_INSTALL=${ORT_INSTALL[target]}`, () => {
      const installs = runs(s).filter((r) => /\bnpm (ci|install|rebuild)\b/.test(r));
      expect(installs.length).toBeGreaterThan(0);
      for (const run of installs) {
        expect(run).toMatch(/npm ci --omit=dev/);
        for (const [, value] of run.matchAll(/ONNXRUNTIME_NODE_INSTALL=(\S+)/g))
          expect(value).toBe(ORT_INSTALL[target]);
        expect(run).toContain(`ONNXRUNTIME_NODE_INSTALL=${ORT_INSTALL[target]} npm ci`);
      }
    });

    it('runs as a non-root user that the stage creates, by number (for runAsNonRoot)', () => {
      const user = instructionsOf(s, 'USER').at(-1)!.getArgumentsContent()!;
      const [uid] = user.split(':');
      expect(uid).toMatch(/^\d+$/);
      expect(Number(uid)).toBeGreaterThan(0);
      expect(runs(s).join('\n')).toContain(`useradd --system --uid ${uid}`);
      // nothing after USER runs as root again
      const last = s.instructions.at(-1)!.getRange().start.line;
      const userLine = instructionsOf(s, 'USER').at(-1)!.getRange().start.line;
      expect(s.instructions.filter((i) => i.getRange().start.line > userLine && i.getKeyword() === 'RUN')).toEqual([]);
      expect(userLine).toBeLessThan(last);
    });

    it('holds the compiled bundles, the page and the bundled zoo, and no TypeScript sources', () => {
      expect(copies(s)).toEqual(
        expect.arrayContaining(['--from=build /src/dist ./dist', 'web ./web', 'model/zoo ./model/zoo']),
      );
      for (const copy of copies(s)) expect(copy).not.toMatch(/^(server|scripts|model) /);
    });

    it('starts under tini, and its command runs the compiled server without a TypeScript loader', () => {
      const entrypoint = execForm(instructionsOf(s, 'ENTRYPOINT').at(-1)!);
      expect(entrypoint).toEqual(['/usr/bin/tini', '--']);
      expect(runs(s).join('\n')).toMatch(/apt-get install [^&]*\btini\b/);
      expect(cmd(s)).toEqual(['node', 'dist/server.mjs']);
      expect(cmd(s).join(' ')).not.toMatch(/tsx|--import|--loader|\.ts\b/);
    });

    it('checks its health on /healthz at the port it listens on', () => {
      expect(healthcheck(s).join(' ')).toMatch(/127\.0\.0\.1:'\+\(process\.env\.PORT\|\|8080\)\+'\/healthz/);
      expect(envOf(s)).toContain('PORT=8080');
      expect(instructionsOf(s, 'EXPOSE').map((i) => i.getArgumentsContent())).toEqual(['8080']);
    });
  });
});

describe('.dockerignore', () => {
  const rules = ignore().add(readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));

  it('keeps out dependencies, outputs, git, tests and runs', () => {
    for (const file of [
      'node_modules/express/package.json',
      'dist/server.mjs',
      '.git/HEAD',
      'runs/fashion/checkpoint.pt',
      'test-results/report.json',
      'test/deploy/dockerfile.test.ts',
      'training/train.py',
    ]) {
      expect(rules.ignores(file), file).toBe(true);
    }
  });

  it('lets in every file the stages copy from the build context', () => {
    const sources = [...stages.values()]
      .flatMap(copies)
      .filter((copy) => !copy.startsWith('--from'))
      .flatMap((copy) => copy.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'server', 'model', 'web', 'model/zoo']));
    for (const source of sources) {
      const files = statSync(path.join(ROOT, source)).isDirectory()
        ? readdirSync(path.join(ROOT, source), { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => path.relative(ROOT, path.join(e.parentPath, e.name)))
        : [source];
      expect(files.length, source).toBeGreaterThan(0);
      expect(files.filter((f) => rules.ignores(f))).toEqual([]);
    }
  });
});

describe('the image command on the compiled bundles', () => {
  let server: Running | undefined;
  afterAll(() => {
    if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  it('the bundles import only Node built-ins and production dependencies', () => {
    const { dependencies, devDependencies } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const meta = buildDist();
    expect(Object.keys(meta.outputs)).toEqual(
      expect.arrayContaining(['dist/server.mjs', 'dist/tag.mjs', 'dist/worker-entry.mjs']),
    );
    const builtins = new Set(builtinModules);
    for (const [file, output] of Object.entries(meta.outputs)) {
      for (const { path: specifier } of output.imports.filter((i) => i.external)) {
        if (specifier.startsWith('node:') || builtins.has(specifier)) continue;
        expect(Object.keys(dependencies), `${file} imports ${specifier}`).toContain(packageOf(specifier));
      }
    }
    expect(Object.keys(devDependencies)).toContain('tsx'); // the dev loader is not installed by --omit=dev
  });

  it('serves the bundled zoo, tags a photo, serves the page, passes HEALTHCHECK and exits 0 on SIGTERM', async () => {
    const cpu = stage('cpu');
    const { LD_PRELOAD } = Object.fromEntries(envOf(cpu).map((e) => e.split('=', 2)));
    server = await startCompiled(cmd(cpu), {
      TAGMAP_DEVICE: 'cpu',
      TAGMAP_WORKERS: '1',
      TAGMAP_THREADS: '1',
      LD_PRELOAD,
    });
    const { url } = server;
    const deadline = Date.now() + 60_000;
    while ((await fetch(`${url}/readyz`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('not ready within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('tagmap_malloc_info{allocator="tcmalloc"} 1');
    // no TAGMAP_MODELS: the default, model/zoo, is found from dist/ as it is in the image
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { models: Array<{ name: string }> };
    expect(models.models.map((m) => m.name)).toEqual(expect.arrayContaining(['imagenet', 'voc', 'camvid']));

    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(photo('chelsea.png'))]), 'chelsea.png');
    const tagged = await fetch(`${url}/v1/tags?topK=3`, { method: 'POST', body: form });
    expect(tagged.status).toBe(200);
    const body = (await tagged.json()) as { tags: Array<{ label: string }> };
    expect(body.tags.map((t) => t.label)).toContain('cat');

    // web/ is bundled by esbuild when the server starts, from dist/ too
    expect((await fetch(`${url}/`)).status).toBe(200);
    const script = await fetch(`${url}/app.js`);
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(1000);

    const port = new URL(url).port;
    const probe = () => {
      const [command, ...args] = healthcheck(cpu);
      expect(command).toBe('node');
      return spawnSync(process.execPath, args, { env: cleanEnv({ PORT: port }), timeout: 10_000 }).status;
    };
    expect(probe()).toBe(0);

    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(server.lines.some((line) => JSON.parse(line).msg?.startsWith('drained'))).toBe(true);
    expect(probe()).toBe(1); // nothing listens any more: the check fails
  });
});
