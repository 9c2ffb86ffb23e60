// Start-up checks, admission (queue full), shutdown and event-loop health of the model runtime.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createTagmap } from '../../model/index.ts';
import { modelsFolder, photo, testConfig } from './zoo.ts';

async function rejection(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, 'expected a rejection').toBeDefined();
  return error as { code?: string; message: string };
}

/** card.json as plain JSON, to be broken on purpose */
type LooseCard = { geometry: Record<string, unknown>; input: Record<string, unknown>; labels: unknown[] };

function editCard(dir: string, edit: (card: LooseCard) => void) {
  const file = path.join(dir, 'card.json');
  const card = JSON.parse(readFileSync(file, 'utf8')) as LooseCard;
  edit(card);
  writeFileSync(file, JSON.stringify(card));
  return file;
}

describe('start-up', () => {
  it('fails on a bad card, naming the file and the field', async () => {
    const folder = modelsFolder(['camvid'], true);
    try {
      const file = editCard(path.join(folder.dir, 'camvid'), (card) => {
        card.geometry.window = 'large';
        delete card.input.std;
      });
      const error = await rejection(createTagmap(testConfig(folder.dir)));
      expect(error.message).toContain(file);
      expect(error.message).toContain('geometry.window');
      expect(error.message).toContain('input.std');
    } finally {
      folder.remove();
    }
  });

  it('fails on a model folder without model.onnx, naming the missing file', async () => {
    const folder = modelsFolder(['camvid'], true);
    try {
      rmSync(path.join(folder.dir, 'camvid', 'model.onnx'));
      const error = await rejection(createTagmap(testConfig(folder.dir)));
      expect(error.message).toContain(path.join(folder.dir, 'camvid', 'model.onnx'));
    } finally {
      folder.remove();
    }
  });

  it('is never ready when the model disagrees with its card (label count)', async () => {
    const folder = modelsFolder(['camvid'], true);
    try {
      editCard(path.join(folder.dir, 'camvid'), (card) => {
        card.labels.pop();
      });
      const tagmap = await createTagmap(testConfig(folder.dir));
      const error = await rejection(tagmap.ready());
      expect(error.message).toMatch(/camvid: output .* labels need/);
      expect(tagmap.isReady()).toBe(false);
      await tagmap.close();
    } finally {
      folder.remove();
    }
  });

  it('on device auto reports the provider it got and logs a CUDA fallback once, not once per worker', async () => {
    const folder = modelsFolder(['camvid']);
    const warnings: string[] = [];
    const tagmap = await createTagmap(
      testConfig(folder.dir, {
        device: 'auto',
        workers: 2,
        logger: { info: () => undefined, warn: (m) => warnings.push(m) },
      }),
    );
    try {
      await tagmap.ready();
      const result = await tagmap.tag(photo('coffee.png'), { model: 'camvid' });
      expect(result.plan.provider).toBe(tagmap.provider());
      if (tagmap.provider() === 'cpu') {
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/^CUDA execution provider unavailable, running on the CPU: .+/);
      } else {
        expect(tagmap.provider()).toBe('cuda');
        expect(warnings).toEqual([]);
      }
    } finally {
      await tagmap.close();
      folder.remove();
    }
  });

  it('rejects ready() with shutting_down when closed while warming up', async () => {
    const folder = modelsFolder(['camvid']);
    try {
      const tagmap = await createTagmap(testConfig(folder.dir));
      await tagmap.close();
      const error = await rejection(tagmap.ready());
      expect(error.code).toBe('shutting_down');
    } finally {
      folder.remove();
    }
  });

  it('refuses more threads than cores', async () => {
    const error = await rejection(createTagmap(testConfig('unused', { workers: 64, threadsPerWorker: 64 })));
    expect(error.message).toContain('exceeds the');
  });
});

describe('admission and shutdown', () => {
  it('refuses requests beyond workers + maxQueue at once with overloaded', async () => {
    const folder = modelsFolder(['camvid']);
    const tagmap = await createTagmap(testConfig(folder.dir, { workers: 1, maxQueue: 2 }));
    try {
      await tagmap.ready();
      const image = photo('coffee.png');
      const settled = await Promise.allSettled(Array.from({ length: 6 }, () => tagmap.tag(image, { model: 'camvid' })));
      const refused = settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason);
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(3);
      expect(refused).toHaveLength(3);
      for (const error of refused) {
        expect(error.code).toBe('overloaded');
        expect(error.message).toContain('retry');
      }
      // the slots come back once the work is done
      await expect(tagmap.tag(image, { model: 'camvid' })).resolves.toHaveProperty('tags');
    } finally {
      await tagmap.close();
      folder.remove();
    }
  });

  it('on close lets the running job finish, refuses the queued ones and every later one with shutting_down', async () => {
    const folder = modelsFolder(['camvid']);
    const tagmap = await createTagmap(testConfig(folder.dir, { workers: 1, maxQueue: 4 }));
    try {
      await tagmap.ready();
      const image = photo('astronaut.png');
      const jobs = Array.from({ length: 3 }, () => tagmap.tag(image, { model: 'camvid', scales: [2], density: 2 }));
      jobs.forEach((job) => job.catch(() => undefined));
      // one job on the worker and another waiting behind it
      while (tagmap.queueDepth() < 1) await new Promise((resolve) => setTimeout(resolve, 2));
      const closed = tagmap.close();
      const settled = await Promise.allSettled(jobs);
      await closed;
      // whichever finished decoding first was running; it completes, the others never run
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      const refused = settled.filter((s) => s.status === 'rejected').map((s) => (s as PromiseRejectedResult).reason);
      expect(refused.map((e) => e.code)).toEqual(['shutting_down', 'shutting_down']);
      const later = await rejection(tagmap.tag(image, { model: 'camvid' }));
      expect(later.code).toBe('shutting_down');
    } finally {
      folder.remove();
    }
  });

  it('keeps the event loop responsive while a 1920x1440 photo is parsed', async () => {
    const folder = modelsFolder(['camvid']);
    const tagmap = await createTagmap(testConfig(folder.dir));
    try {
      await tagmap.ready();
      const large = await sharp(photo('rocket.jpg')).resize(1920, 1440, { fit: 'fill' }).jpeg().toBuffer();
      const delay = monitorEventLoopDelay({ resolution: 10 });
      delay.enable();
      const result = await tagmap.parse(large, { model: 'camvid', format: 'json' });
      delay.disable();
      expect([result.width, result.height]).toEqual([1920, 1440]);
      expect(delay.max / 1e6).toBeLessThan(250);
    } finally {
      await tagmap.close();
      folder.remove();
    }
  });
});

describe('queue order', () => {
  it('answers queued requests in the order they came, one worker taking them strictly first in, first out', async () => {
    // piscina's default (stricterFIFO false) puts the job it could not hand out back at the tail, so a request
    // could be passed over again and again under steady load (issue 12). Requests go in 80 ms apart (each
    // decodes in far less), each taking longer than that to run, so a queue builds whose order is the arrivals'.
    const folder = modelsFolder(['imagenet']);
    const tagmap = await createTagmap(testConfig(folder.dir, { workers: 1, maxQueue: 16 }));
    try {
      await tagmap.ready();
      const image = photo('chelsea.png');
      const finished: number[] = [];
      const requests = [];
      for (let n = 0; n < 8; n++) {
        requests.push(tagmap.tag(image, { model: 'imagenet' }).then(() => finished.push(n)));
        await new Promise((resolve) => setTimeout(resolve, 80));
      }
      await Promise.all(requests);
      expect(finished).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    } finally {
      await tagmap.close();
      folder.remove();
    }
  });
});
