// node --import tsx scripts/measure-unload.ts [--models voc,msrc21,camvid] [--workers N] [--ttl S] [--cycles N]
// What an idle-model unload gives back: the process RSS (process.memoryUsage().rss and VmRSS from
// /proc/self/status; the worker threads share the process) with the models loaded, after one tag request each,
// and once the TTL has unloaded them all in every worker; then again for each load-and-unload cycle.
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BUNDLED_MODELS, createTagmap, type Tagmap } from '../model/index.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'voc,msrc21,camvid' },
    workers: { type: 'string', default: '1' },
    ttl: { type: 'string', default: '2' },
    cycles: { type: 'string', default: '3' },
  },
});
const names = values.models.split(',');
const ttl = Number(values.ttl);
const cycles = Number(values.cycles);
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const vmRssKb = () => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);

function sample(stage: string): void {
  const { rss, heapUsed, external } = process.memoryUsage();
  console.log(`| ${[stage, mb(rss), mb(vmRssKb() * 1024), mb(heapUsed), mb(external)].join(' | ')} |`);
}

const image = readFileSync(path.resolve(import.meta.dirname, '../../shared/photos/astronaut.png'));
const tagAll = async (tagmap: Tagmap) => {
  for (const model of names) await tagmap.tag(image, { model, vocabulary: 'raw' });
};

// a models folder with just the named bundled models
const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-unload-'));
for (const name of names) symlinkSync(path.join(BUNDLED_MODELS, name), path.join(dir, name), 'dir');
const workers = Number(values.workers);
const tagmap = await createTagmap({
  modelsDir: dir,
  device: 'cpu',
  workers,
  threadsPerWorker: 1,
  modelTtl: { '*': ttl },
});
try {
  await tagmap.ready();
  console.log('| stage | rss MiB | VmRSS MiB | main-thread heap MiB | external MiB |\n| --- | --- | --- | --- | --- |');
  sample(`${names.length} models loaded, ${workers} worker(s)`);
  for (let cycle = 1; cycle <= cycles; cycle++) {
    await tagAll(tagmap);
    sample(cycle === 1 ? 'after one tag request each' : `cycle ${cycle}: loaded again by a request each`);
    while (tagmap.models().some((m) => m.loaded)) await new Promise((resolve) => setTimeout(resolve, 100));
    await new Promise((resolve) => setTimeout(resolve, 500));
    sample(`cycle ${cycle}: all unloaded after ${ttl} s idle`);
  }
} finally {
  await tagmap.close();
  rmSync(dir, { recursive: true, force: true });
}
