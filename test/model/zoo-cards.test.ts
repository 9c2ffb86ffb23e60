// Every bundled model's card.json must pass the card schema and pin its model.onnx's sha256, and onnxruntime must
// reproduce its golden.json (the outputs PyTorch or the original model gave for the same seeded inputs).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cardSchema, goldenSchema } from '../../model/contract/card.ts';
import { openSession, runSession } from '../../model/runtime/ort.ts';

const zoo = path.resolve(import.meta.dirname, '../../model/zoo');
const models = existsSync(zoo) ? readdirSync(zoo).filter((name) => existsSync(path.join(zoo, name, 'card.json'))) : [];

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

describe.each(models)('bundled model %s', (name) => {
  const dir = path.join(zoo, name);

  it('has a card that the card schema accepts, named after its folder', () => {
    const result = cardSchema.safeParse(readJson(path.join(dir, 'card.json')));
    expect(result.error?.issues ?? []).toEqual([]);
    expect(result.data?.name).toBe(name);
  });

  it('pins the sha256 of its model.onnx', () => {
    const card = cardSchema.parse(readJson(path.join(dir, 'card.json')));
    const sha256 = createHash('sha256')
      .update(readFileSync(path.join(dir, 'model.onnx')))
      .digest('hex');
    expect(card.sha256).toBe(sha256);
  });

  it('gives the golden outputs under onnxruntime, with the grid its geometry promises', async () => {
    const card = cardSchema.parse(readJson(path.join(dir, 'card.json')));
    const golden = goldenSchema.parse(readJson(path.join(dir, 'golden.json')));
    const { session } = await openSession(path.join(dir, 'model.onnx'), { device: 'cpu', intraOpThreads: 1 });
    try {
      for (const test of golden.cases) {
        const [, channels, height, width] = test.shape;
        expect(channels).toBe(card.input.channels);
        const { [card.output.name]: scores } = await runSession(
          session,
          card.input.name,
          { dims: test.shape, data: Float32Array.from(test.input) },
          [card.output.name],
        );
        expect(scores.dims).toEqual(test.outputShape);
        if (card.geometry.exact) {
          const { window, stride } = card.geometry;
          const cells = (side: number) => Math.floor((side - window) / stride) + 1;
          expect(scores.dims).toEqual([1, card.labels.length, cells(height), cells(width)]);
        }
        const worst = test.output.reduce((max, value, i) => Math.max(max, Math.abs(value - scores.data[i])), 0);
        expect(worst).toBeLessThanOrEqual(golden.tolerance);
      }
    } finally {
      await session.release();
    }
  });
});
