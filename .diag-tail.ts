import { readdirSync, readFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { openTagmap, percentile } from './scripts/bench/serve.ts';
const dir = '/work/shared/data/msrc21/images';
const photos = readdirSync(dir).filter((f) => f.endsWith('.jpg')).sort().slice(0, 19).map((f) => readFileSync(`${dir}/${f}`));
const c = Number(process.argv[2] ?? 4), seconds = Number(process.argv[3] ?? 10);
const tagmap = await openTagmap();
for (let i = 0; i < 4; i++) await tagmap.tag(photos[i], { model: 'imagenet' });
const h = monitorEventLoopDelay({ resolution: 5 }); h.enable();
let next = 0; const rows: any[] = []; const t0 = performance.now(); const end = t0 + seconds * 1000;
await Promise.all(Array.from({ length: c }, async () => {
  while (performance.now() < end) {
    const s = performance.now(); const n = next++;
    const r = await tagmap.tag(photos[n % photos.length], { model: 'imagenet' });
    rows.push({ n, start: s - t0, total: performance.now() - s, ...r.timings });
  }
}));
h.disable();
const tot = rows.map((r) => r.total);
const med = (k: string) => percentile(rows.map((r) => r[k]), 50).toFixed(1);
console.log(`c=${c} n=${rows.length} ${(rows.length / seconds).toFixed(2)}/s p50 ${percentile(tot, 50).toFixed(0)} p99 ${percentile(tot, 99).toFixed(0)} max ${Math.max(...tot).toFixed(0)}`);
console.log(`median decode ${med('decodeMs')} queue ${med('queueMs')} infer ${med('inferMs')} post ${med('postMs')}; ELD p50 ${(h.percentile(50) / 1e6).toFixed(1)} p99 ${(h.percentile(99) / 1e6).toFixed(1)} max ${(h.max / 1e6).toFixed(1)} ms`);
rows.sort((a, b) => b.total - a.total);
for (const r of rows.slice(0, 5)) console.log(JSON.stringify(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, +(v as number).toFixed(1)]))));
await tagmap.close();
