// The QOperator ops that the shared files do not use (QLinearConcat, QLinearAveragePool, QGemm with a bias), in a
// small seeded int8 classifier built here: it imports keeping its int8 trunk and, with dequantize, as a float graph;
// both verify against the original run by onnxruntime, and the map is dense on larger inputs.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importModel } from '../../model/import/importer.ts';
import { makeNode, onnx, type Attribute, type Tensor } from '../../model/import/onnx-file.ts';
import { floatTensor } from '../../model/import/tensors.ts';
import { ModelRunner } from '../../model/import/verify.ts';
import { labelsFile, scratchDir } from './import-fixtures.ts';

const scratch = scratchDir();
afterAll(() => scratch.remove());
const { DataType } = onnx.TensorProto;

let seed = 7;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
const ints = (name: string, dims: number[], dataType: number, values: number[]): Tensor => {
  const bytes = dataType === DataType.INT32 ? new Uint8Array(Int32Array.from(values).buffer) : undefined;
  const rawData =
    bytes ?? (dataType === DataType.INT8 ? new Uint8Array(Int8Array.from(values).buffer) : Uint8Array.from(values));
  return onnx.TensorProto.create({ name, dims, dataType, rawData });
};
const attr = (name: string, value: number | number[]): Attribute =>
  onnx.AttributeProto.create(
    typeof value === 'number'
      ? { name, type: onnx.AttributeProto.AttributeType.INT, i: value }
      : { name, type: onnx.AttributeProto.AttributeType.INTS, ints: value },
  ) as unknown as Attribute;
const ms = (node: ReturnType<typeof makeNode>) => ({ ...node, domain: 'com.microsoft' });

/** input [1,3,8,8] -> two QLinearConvs -> QLinearConcat -> QLinearAveragePool 2x2/2 -> global pool -> QGemm. */
function tinyClassifier(): Uint8Array {
  const init: Tensor[] = [];
  const q = (name: string, scale: number, zero: number) => {
    init.push(floatTensor(`${name}_s`, [], Float32Array.of(scale)), ints(`${name}_z`, [], DataType.UINT8, [zero]));
    return [`${name}_s`, `${name}_z`];
  };
  const weights = (name: string, dims: number[]) => {
    const count = dims.reduce((a, b) => a * b, 1);
    init.push(
      ints(
        name,
        dims,
        DataType.INT8,
        Array.from({ length: count }, () => Math.round(random() * 100)),
      ),
    );
    init.push(
      floatTensor(
        `${name}_s`,
        [dims[0]],
        Float32Array.from({ length: dims[0] }, () => 0.002 + random() * 0.001),
      ),
    );
    init.push(ints(`${name}_z`, [dims[0]], DataType.INT8, Array(dims[0]).fill(0)));
    init.push(
      ints(
        `${name}_b`,
        [dims[0]],
        DataType.INT32,
        Array.from({ length: dims[0] }, () => Math.round(random() * 500)),
      ),
    );
    return [name, `${name}_s`, `${name}_z`];
  };
  const [x, c1, c2, cat, pool, gap] = [
    q('x', 0.02, 128),
    q('c1', 0.03, 0),
    q('c2', 0.03, 0),
    q('cat', 0.03, 0),
    q('pool', 0.03, 0),
    q('gap', 0.02, 0),
  ];
  const out = q('out', 0.05, 128);
  const nodes = [
    makeNode('QuantizeLinear', 'quantize', ['input', ...x], ['xq']),
    makeNode(
      'QLinearConv',
      'conv3x3',
      ['xq', ...x, ...weights('w1', [4, 3, 3, 3]), ...c1, 'w1_b'],
      ['c1q'],
      [attr('pads', [1, 1, 1, 1])],
    ),
    makeNode('QLinearConv', 'conv1x1', ['xq', ...x, ...weights('w2', [4, 3, 1, 1]), ...c2, 'w2_b'], ['c2q']),
    ms(makeNode('QLinearConcat', 'concat', [...cat, 'c1q', ...c1, 'c2q', ...c2], ['catq'], [attr('axis', 1)])),
    ms(
      makeNode(
        'QLinearAveragePool',
        'pool',
        ['catq', ...cat, ...pool],
        ['poolq'],
        [attr('kernel_shape', [2, 2]), attr('strides', [2, 2])],
      ),
    ),
    ms(makeNode('QLinearGlobalAveragePool', 'gap', ['poolq', ...pool, ...gap], ['gapq'])),
    makeNode('Flatten', 'flatten', ['gapq'], ['flatq']),
    ms(
      makeNode(
        'QGemm',
        'gemm',
        ['flatq', ...gap, ...weights('w3', [5, 8]), 'w3_b', ...out],
        ['outq'],
        [attr('transB', 1)],
      ),
    ),
    makeNode('DequantizeLinear', 'dequantize', ['outq', ...out], ['output']),
  ];
  const info = (name: string, dims: number[]) =>
    onnx.ValueInfoProto.create({
      name,
      type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: dims.map((dimValue) => ({ dimValue })) } } },
    });
  const model = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [
      { domain: '', version: 12 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: {
      name: 'tiny',
      node: nodes,
      initializer: init,
      input: [info('input', [1, 3, 8, 8])],
      output: [info('output', [1, 5])],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

describe('QLinearConcat, QLinearAveragePool and QGemm in a small int8 classifier', () => {
  const file = path.join(scratch.dir, 'tiny-int8.onnx');
  writeFileSync(file, tinyClassifier());
  const labels = labelsFile(scratch.dir, ['a', 'b', 'c', 'd', 'e']);

  it.each([false, true])(
    'imports and verifies against the original (dequantize %s), dense on larger inputs',
    async (dequantize) => {
      const out = path.join(scratch.dir, `tiny-${dequantize}`);
      const { card, checks } = await importModel({ file, name: 'tiny', labels, out, dequantize });
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      expect(card.geometry).toMatchObject({ window: 8, stride: 2 });
      const rewrites = card.source.kind === 'imported' ? card.source.rewrites : [];
      if (dequantize) {
        expect(rewrites).toEqual(
          expect.arrayContaining([
            'int8 -> float32: 1 x QLinearConcat -> Concat + Clip',
            'int8 -> float32: 1 x QLinearAveragePool -> AveragePool + Clip',
            'int8 -> float32: 1 x QGemm -> Gemm + Clip',
          ]),
        );
      } else expect(rewrites).toContain('int8 -> float32: 1 x QGemm -> Gemm + Clip');
      const runner = await ModelRunner.open(path.join(out, 'model.onnx'), card);
      const map = await runner.run({
        dims: [1, 3, 16, 20],
        data: new Float32Array(3 * 16 * 20).map((_, i) => Math.sin(i)),
      });
      await runner.close();
      expect(map.dims).toEqual([1, 5, 5, 7]);
    },
  );
});
