// The real process (node --import tsx server/main.ts) and its models folder: SIGHUP reads the folder again and
// serves a model added to it, loaded on first use (TAGMAP_PRELOAD); a broken card keeps the old set, logging the
// file; a model.onnx that is not the file its card pins stops start-up, naming it and both hashes.
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { modelsFolder, zooModelDir } from '../model/zoo.ts';
import { killServerProcesses, startServerProcess } from './process.ts';
import { photo, upload } from './server.ts';

const folders: Array<ReturnType<typeof modelsFolder>> = [];

afterAll(() => {
  killServerProcesses();
  for (const folder of folders) folder.remove();
});

const getJson = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
};

describe('SIGHUP', () => {
  it('adds a model put in the folder, loaded on its first request; a broken card keeps the old set', async () => {
    const folder = modelsFolder(['fashion'], true);
    folders.push(folder);
    const server = startServerProcess(folder.dir, { TAGMAP_PRELOAD: 'fashion' });
    const listening = await server.next('listening');
    const url = `http://127.0.0.1:${(listening.address as { port: number }).port}`;
    await server.next('tagmap ready');
    expect((await getJson(`${url}/readyz`)).body).toMatchObject({ status: 'ready', models: ['fashion'] });

    cpSync(zooModelDir('birds'), path.join(folder.dir, 'birds'), { recursive: true });
    const reloaded = server.next('models reloaded');
    server.child.kill('SIGHUP');
    expect((await reloaded).msg).toContain('2 models (birds, fashion), 1 warmed at start (fashion)');

    const listed = (await getJson(`${url}/v1/models`)).body;
    expect(listed.models.map((m: { name: string; loaded: boolean }) => [m.name, m.loaded])).toEqual([
      ['birds', false],
      ['fashion', true],
    ]);
    const ready = await getJson(`${url}/readyz`);
    expect(ready).toEqual({
      status: 200,
      body: { status: 'ready', provider: 'cpu', models: ['birds', 'fashion'], loaded: ['fashion'] },
    });
    const first = await upload(`${url}/v1/tags?model=birds`, photo('chelsea.png'), 'chelsea.png');
    expect(first.status).toBe(200);
    const firstBody = await first.json();
    expect(firstBody.model.name).toBe('birds');
    expect(firstBody.timings.loadMs).toBeGreaterThan(0);
    expect((await getJson(`${url}/readyz`)).body.loaded).toEqual(['birds', 'fashion']);

    // a third model whose card is not JSON: the reload is refused, the log names the file, birds still answers
    const broken = path.join(folder.dir, 'msrc21');
    cpSync(zooModelDir('msrc21'), broken, { recursive: true });
    writeFileSync(path.join(broken, 'card.json'), readFileSync(path.join(broken, 'card.json'), 'utf8').slice(0, 50));
    const refused = server.next('reload refused');
    server.child.kill('SIGHUP');
    const refusal = await refused;
    expect(refusal.msg).toContain(path.join(broken, 'card.json'));
    expect(refusal.kept).toEqual(['birds', 'fashion']);
    expect((await getJson(`${url}/v1/models`)).body.models.map((m: { name: string }) => m.name)).toEqual([
      'birds',
      'fashion',
    ]);
    const after = await upload(`${url}/v1/tags?model=birds`, photo('chelsea.png'), 'chelsea.png');
    expect(after.status).toBe(200);
    const afterBody = await after.json();
    expect(afterBody.timings.loadMs).toBe(0);
    expect(afterBody.tags).toEqual(firstBody.tags);

    const exited = server.exited;
    server.child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('a changed model.onnx', () => {
  it('stops start-up with exit code 1 and a log naming the file and both hashes', async () => {
    const folder = modelsFolder(['fashion'], true);
    folders.push(folder);
    const file = path.join(folder.dir, 'fashion', 'model.onnx');
    const pinned = JSON.parse(readFileSync(path.join(folder.dir, 'fashion', 'card.json'), 'utf8')).sha256;
    const bytes = readFileSync(file);
    bytes[100] ^= 0x01;
    writeFileSync(file, bytes);
    const server = startServerProcess(folder.dir);
    expect(await server.exited).toBe(1);
    const fatal = server.lines.find((l) => l.level === 60)!;
    expect(fatal.msg).toMatch(
      new RegExp(`the models could not be loaded: ${file}: sha256 [0-9a-f]{64} is not the ${pinned} that`),
    );
    expect(fatal.file).toBe(file);
    expect(server.lines.some((l) => l.msg.startsWith('listening'))).toBe(false);
  });
});
