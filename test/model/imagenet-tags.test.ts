// The bundled imagenet model (imported SqueezeNet 1.1) with its card defaults gives the tags a person would give on
// everyday photos, with WordNet parents.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Tagmap } from '../../model/index.ts';
import { createTagmap } from '../../model/index.ts';
import { modelsFolder, photo, testConfig } from './zoo.ts';

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

it('tags chelsea.png with a cat first, every top-3 tag a kind of domestic cat', async () => {
  const { model, tags } = await tagmap.tag(photo('chelsea.png'));
  expect(model.name).toBe('imagenet');
  expect(tags[0].parents.slice(0, 3)).toEqual(['domestic cat', 'cat', 'feline']);
  expect(tags.slice(0, 3).every((tag) => tag.parents.includes('domestic cat'))).toBe(true);
});

it('tags coffee.png espresso first, with cup in the top 3', async () => {
  const { tags } = await tagmap.tag(photo('coffee.png'));
  expect(tags[0].label).toBe('espresso');
  expect(tags[0].parents.slice(0, 2)).toEqual(['coffee', 'beverage']);
  expect(tags.slice(0, 3).map((tag) => tag.label)).toContain('cup');
});
