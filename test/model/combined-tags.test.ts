// The combined default tag request (settings.tagModels: imagenet's photo tags joined by the voc parser's masks):
// people in photos of people, every tag naming the models behind it, and the gates: a mask without its share, or
// a known class without the tagger's agreement, never becomes a tag.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTagmap, maskVerdict, type Tagmap } from '../../model/index.ts';
import { modelsFolder, photo, testConfig } from './zoo.ts';

describe('maskVerdict', () => {
  const gates = { minShare: 0.01, agreement: 0.05, fuse: 'max' as const };
  it('lets a mask with its share and agreement join, fusing with the tagger by max or mean', () => {
    expect(maskVerdict(gates, { share: 0.2, score: 0.9, agreement: 0.3, taggerScore: 0.4 })).toBe(0.9);
    expect(maskVerdict({ ...gates, fuse: 'mean' }, { share: 0.2, score: 0.9, taggerScore: 0.4 })).toBeCloseTo(0.65);
    expect(maskVerdict(gates, { share: 0.2, score: 0.7 })).toBe(0.7);
  });
  it('drops a mask below its share, or a gated label without the tagger', () => {
    expect(maskVerdict(gates, { share: 0.005, score: 0.99 })).toBeUndefined();
    expect(maskVerdict(gates, { share: 0.5, score: 0.99, agreement: 0.01, taggerScore: 0.01 })).toBeUndefined();
  });
});

describe('combined tags on the bundled imagenet and voc', () => {
  let tagmap: Tagmap;
  let folder: ReturnType<typeof modelsFolder>;
  beforeAll(async () => {
    folder = modelsFolder(['imagenet', 'voc']);
    tagmap = await createTagmap(testConfig(folder.dir));
    await tagmap.ready();
  });
  afterAll(async () => {
    await tagmap?.close();
    folder?.remove();
  });

  it('tags the astronaut portrait "person" from the voc mask, with its box around her', async () => {
    const result = await tagmap.tag(photo('astronaut.png'));
    expect(result.model.name).toBe('imagenet');
    expect(result.models!.map((m) => m.name)).toEqual(['imagenet', 'voc']);
    const person = result.tags.find((t) => t.label === 'person');
    expect(person).toBeDefined();
    expect(person!.models!.map((m) => m.name)).toContain('voc');
    expect(person!.coverage).toBeGreaterThan(0.2);
    expect(person!.box.width * person!.box.height).toBeGreaterThan(0.2 * 512 * 512);
    // the parser is the surer one: its class stands behind the tag, not ImageNet's weak guess (a ballplayer)
    expect(person!.classes![0].label).toBe('person');
    expect(person).not.toHaveProperty('finer');
    for (const tag of result.tags) expect(tag.models!.length).toBeGreaterThan(0);
  });

  it('tags chelsea.png "cat" first, the two models agreeing', async () => {
    const { tags } = await tagmap.tag(photo('chelsea.png'));
    expect(tags[0].label).toBe('cat');
    expect(tags[0].models!.map((m) => m.name)).toEqual(['imagenet', 'voc']);
    expect(tags[0].models![1].agreement).toBeGreaterThan(0.5);
  });

  it('answers as before when the request names a model or asks for raw classes', async () => {
    const named = await tagmap.tag(photo('chelsea.png'), { model: 'imagenet' });
    expect(named.models).toBeUndefined();
    expect(named.tags[0]).not.toHaveProperty('models');
    const raw = await tagmap.tag(photo('chelsea.png'), { vocabulary: 'raw' });
    expect(raw.models).toBeUndefined();
  });

  it('takes include and exclude names from either vocabulary, and refuses one neither has', async () => {
    const { tags } = await tagmap.tag(photo('astronaut.png'), { include: ['person'], minScore: 0 });
    expect(tags.map((t) => t.label)).toEqual(['person']);
    await expect(tagmap.tag(photo('astronaut.png'), { include: ['unicorn'] })).rejects.toMatchObject({
      code: 'unknown_label',
      message: expect.stringContaining('"unicorn"'),
    });
  });
});

it("keeps a gated voc label out when imagenet's agreement is short of the gate", async () => {
  const folder = modelsFolder(['imagenet', 'voc'], true);
  const file = path.join(folder.dir, 'voc', 'vocabulary.json');
  const vocabulary = JSON.parse(readFileSync(file, 'utf8'));
  // an agreement no photo reaches: every gated label (cat among them) is the tagger's alone
  writeFileSync(file, JSON.stringify({ ...vocabulary, mask: { ...vocabulary.mask, agreement: 1 } }));
  const tagmap = await createTagmap(testConfig(folder.dir));
  try {
    const { tags } = await tagmap.tag(photo('chelsea.png'), { include: ['cat', 'person'], minScore: 0 });
    const cat = tags.find((t) => t.label === 'cat')!;
    expect(cat.models!.map((m) => m.name)).toEqual(['imagenet']);
  } finally {
    await tagmap.close();
    folder.remove();
  }
});

it('refuses tagModels naming a model that is not loaded, or a second model that is no parser', async () => {
  const folder = modelsFolder(['imagenet', 'fashion']);
  try {
    await expect(createTagmap(testConfig(folder.dir, { tagModels: ['imagenet', 'voc'] }))).rejects.toThrow(
      /tagModels: "voc" is not a loaded model/,
    );
    await expect(createTagmap(testConfig(folder.dir, { tagModels: ['imagenet', 'fashion'] }))).rejects.toThrow(
      /"fashion": a model after the first must have a vocabulary with a "mask" section/,
    );
  } finally {
    folder.remove();
  }
});
