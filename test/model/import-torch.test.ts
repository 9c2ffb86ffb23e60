// torchvision-style classifiers exported here by PyTorch (random, seeded weights) import and verify, one per head
// shape: Flatten -> Gemm (transB 1 and 0, with a final Softmax), and AdaptiveAvgPool / AdaptiveMaxPool / mean over
// H and W -> Gemm. Every imported 1x1 map equals the original file run as it is.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importModel, type ImportResult } from '../../model/import/importer.ts';
import { seededInput } from '../../model/import/seeded-input.ts';
import { ModelRunner } from '../../model/import/verify.ts';
import {
  labelsFile,
  magnitude,
  maxAbsDiff,
  runOriginal,
  scratchDir,
  softmax,
  torchClassifiers,
} from './import-fixtures.ts';

const scratch = scratchDir();
const classes = Array.from({ length: 10 }, (_, i) => `class ${i}`);
let torch = '';
beforeAll(() => {
  torch = torchClassifiers();
}, 120_000);
afterAll(() => scratch.remove());

const imports = new Map<string, ImportResult>();
async function imported(name: string): Promise<ImportResult> {
  if (!imports.has(name)) {
    imports.set(
      name,
      await importModel({
        file: path.join(torch, `${name}.onnx`),
        name,
        labels: labelsFile(scratch.dir, classes),
        out: path.join(scratch.dir, name),
      }),
    );
  }
  return imports.get(name)!;
}

const cases = [
  {
    name: 'flatten-gemm',
    rewrite: "Gemm node '/classifier/classifier.1/Gemm' (576 -> 32) -> Conv 32x16x6x6",
    exact: true,
    softmax: true,
  },
  {
    name: 'flatten-gemm-transb0',
    rewrite: "Gemm node '/classifier/classifier.1/Gemm' (576 -> 32) -> Conv 32x16x6x6",
    exact: true,
    softmax: true,
  },
  {
    name: 'avgpool-gemm',
    rewrite:
      "GlobalAveragePool node '/pool/GlobalAveragePool' -> AveragePool 8x8, stride 1 (the last feature map at the window size)",
    exact: false,
    softmax: false,
  },
  {
    name: 'maxpool-gemm',
    rewrite: "MaxPool node '/pool/MaxPool' -> MaxPool 8x8, stride 1 (the last feature map at the window size)",
    exact: false,
    softmax: false,
  },
  {
    name: 'mean-gemm',
    rewrite: "ReduceMean node '/ReduceMean' -> AveragePool 8x8, stride 1 (the last feature map at the window size)",
    exact: false,
    softmax: false,
  },
];

describe.each(cases)('importing the torchvision-style $name', ({ name, rewrite, exact, softmax: endsInSoftmax }) => {
  it('rewrites the head, passes every check, and records logits', async () => {
    const { card, checks } = await imported(name);
    expect(card.source.kind === 'imported' && card.source.rewrites).toContain(rewrite);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(card.output.kind).toBe('logits');
    expect(card.geometry).toEqual({ window: 32, stride: 4, offset: 0, exact });
  });

  it('gives the original scores at the window size and a 3x4 grid on a 40x44 input', async () => {
    const { card, files } = await imported(name);
    const runner = await ModelRunner.open(files[0], card);
    try {
      const input = seededInput(card.input, 32, 32, 5);
      const original = (await runOriginal(path.join(torch, `${name}.onnx`), 'image', input)).data;
      const map = await runner.run(input);
      expect(map.dims).toEqual([1, 10, 1, 1]);
      const scores = endsInSoftmax ? softmax(map.data) : Array.from(map.data);
      expect(maxAbsDiff(scores, original)).toBeLessThanOrEqual(1e-4 * magnitude(original));
      expect((await runner.run(seededInput(card.input, 40, 44, 6))).dims).toEqual([1, 10, 3, 4]);
    } finally {
      await runner.close();
    }
  });
});

it('an unpadded net is exact: every dense cell equals the classifier on its crop', async () => {
  const { checks } = await imported('flatten-gemm');
  const dense = checks.find((c) => c.name === 'dense cell vs crop')!;
  expect(dense.ok).toBe(true);
  expect(dense.maxAbsDiff).toBeLessThanOrEqual(dense.tolerance!);
});
