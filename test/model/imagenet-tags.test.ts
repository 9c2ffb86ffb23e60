// The bundled imagenet model with its card defaults gives the tags a person would give on everyday photos: photo
// labels from its vocabulary by default ("cat", "dog"), the raw ImageNet classes with WordNet parents on request.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Tagmap } from '../../model/index.ts';
import { createTagmap } from '../../model/index.ts';
import { SHARED_DOG_PHOTO, modelsFolder, photo, testConfig } from './zoo.ts';

let tagmap: Tagmap;
let folder: ReturnType<typeof modelsFolder>;
beforeAll(async () => {
  folder = modelsFolder(['imagenet']);
  tagmap = await createTagmap(testConfig(folder.dir));
  await tagmap.ready();
});
afterAll(async () => {
  await tagmap?.close();
  folder?.remove();
});

it('tags chelsea.png with a cat first, every top-3 tag a kind of domestic cat (vocabulary raw)', async () => {
  const { model, tags } = await tagmap.tag(photo('chelsea.png'), { vocabulary: 'raw' });
  expect(model.name).toBe('imagenet');
  expect(tags[0].parents.slice(0, 3)).toEqual(['domestic cat', 'cat', 'feline']);
  expect(tags.slice(0, 3).every((tag) => tag.parents.includes('domestic cat'))).toBe(true);
});

it('tags coffee.png espresso first, with cup in the top 3 above 0.01 (vocabulary raw)', async () => {
  // MobileNetV2 is surer than SqueezeNet was: espresso 0.91, cup about 0.05 (the card's minScore) with its defaults
  const { tags } = await tagmap.tag(photo('coffee.png'), { vocabulary: 'raw', minScore: 0.01 });
  expect(tags[0].label).toBe('espresso');
  expect(tags[0].parents.slice(0, 2)).toEqual(['coffee', 'beverage']);
  expect(tags.slice(0, 3).map((tag) => tag.label)).toContain('cup');
});

it('tags chelsea.png "cat" by default, with the cat classes behind it and the best kept as finer', async () => {
  const { tags } = await tagmap.tag(photo('chelsea.png'));
  const raw = await tagmap.tag(photo('chelsea.png'), { vocabulary: 'raw', topK: 3 });
  expect(tags[0]).toMatchObject({ label: 'cat', categories: ['animal'], finer: raw.tags[0].label });
  // the broader names its classes share, above "cat"
  expect(tags[0].parents.slice(0, 2)).toEqual(['feline', 'carnivore']);
  expect(tags[0].classes!.slice(0, 3).map((c) => c.label)).toEqual(raw.tags.map((t) => t.label));
  // the card pools topk over two scales: the label's summed plane pools above its best class alone and at most
  // to the sum of its (five, all listed) classes' pooled scores, since each class picks its own best cells
  expect(tags[0].score).toBeGreaterThan(raw.tags[0].score);
  expect(tags[0].score).toBeLessThanOrEqual(
    Math.min(
      1,
      tags[0].classes!.reduce((sum, c) => sum + c.score, 0),
    ) + 1e-6,
  );
  expect(tags.filter((t) => t.label === 'cat')).toHaveLength(1);
  // with mean pooling, which is linear, the label's score is the sum of its classes': at least the top 3's
  const mean = await tagmap.tag(photo('chelsea.png'), { pool: 'mean' });
  const rawMean = await tagmap.tag(photo('chelsea.png'), { vocabulary: 'raw', topK: 3, pool: 'mean' });
  expect(mean.tags[0].label).toBe('cat');
  expect(mean.tags[0].score).toBeGreaterThan(rawMean.tags.slice(0, 3).reduce((sum, t) => sum + t.score, 0) - 1e-6);
});

it('tags a photo of a dog (MSRC-21 16_23_s) "dog", although no one breed is sure', async () => {
  const { tags } = await tagmap.tag(readFileSync(SHARED_DOG_PHOTO));
  expect(tags[0]).toMatchObject({ label: 'dog', categories: ['animal'] });
  expect(tags[0].classes!.length).toBeGreaterThan(1);
  expect(tags[0].classes![0].score).toBeLessThan(tags[0].score);
});

it('vocabulary raw gives the raw classes exactly as before: no categories or classes fields', async () => {
  const { tags } = await tagmap.tag(photo('coffee.png'), { vocabulary: 'raw' });
  expect(tags.every((t) => t.categories === undefined && t.classes === undefined)).toBe(true);
  const photoTags = await tagmap.tag(photo('coffee.png'), { include: ['coffee', 'cup'], minScore: 0.01 });
  expect(photoTags.tags.map((t) => t.label)).toEqual(['coffee', 'cup']);
});
