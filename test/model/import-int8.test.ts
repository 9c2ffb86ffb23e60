// The shared int8 ImageNet classifiers, QOperator (MobileNetV2) and QDQ (ShuffleNetV2), import with their int8 trunk
// kept and their head rewritten as convolutions (the fully-connected layer an int8 QLinearConv): the 1x1 map at 224 px
// agrees with the int8 original run by onnxruntime on real photos, larger inputs give dense grids, and unreadable
// quantization parameters are errors naming the node.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importModel, type ImportOptions } from '../../model/import/importer.ts';
import { onnx, type Tensor } from '../../model/import/onnx-file.ts';
import { floatTensor } from '../../model/import/tensors.ts';
import { ModelRunner } from '../../model/import/verify.ts';
import { decodeImage } from '../../model/io/image.ts';
import { openSession, runSession } from '../../model/runtime/ort.ts';
import { buildTensor } from '../../model/runtime/tensor.ts';
import { scratchDir, sharedModel, softmax } from './import-fixtures.ts';

const scratch = scratchDir();
afterAll(() => scratch.remove());

const SHARED = path.resolve(import.meta.dirname, '../../../shared');
const IMAGENET = { scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const options = (file: string, name: string): ImportOptions => ({
  file: sharedModel(`onnx-zoo/${file}`),
  name,
  labels: sharedModel('imagenet_class_index.json'),
  out: path.join(scratch.dir, name),
  ...IMAGENET,
});

/** The shared photos and the first MSRC-21 images, as 224x224 ImageNet-normalised tensors. */
async function photoTensors(count: number): Promise<Float32Array[]> {
  const files = [
    ...['chelsea.png', 'coffee.png', 'rocket.jpg', 'astronaut.png'].map((name) => path.join(SHARED, 'photos', name)),
    ...readdirSync(path.join(SHARED, 'data/msrc21/images'))
      .sort()
      .map((name) => path.join(SHARED, 'data/msrc21/images', name)),
  ].slice(0, count);
  const size = { width: 224, height: 224 };
  const crop = { padLeft: 0, padTop: 0, left: 0, top: 0, ...size };
  const input = { color: 'rgb' as const, ...IMAGENET };
  return Promise.all(
    files.map(async (file) => {
      const pixels = await decodeImage(readFileSync(file), { channels: 3, maxPixels: 40e6, size });
      return buildTensor(pixels, crop, input);
    }),
  );
}
const photos = await photoTensors(30);

/** The int8 original's probabilities on each photo, run by onnxruntime as it is. */
async function originalProbabilities(file: string): Promise<number[][]> {
  const { session } = await openSession(file, { device: 'cpu', intraOpThreads: 1 });
  const [output] = session.outputNames;
  const out = [];
  for (const data of photos)
    out.push(softmax((await runSession(session, 'input', { dims: [1, 3, 224, 224], data }, [output]))[output].data));
  await session.release();
  return out;
}

const argmax = (values: number[]) => values.indexOf(Math.max(...values));

describe.each([
  {
    file: 'mobilenetv2-12-int8.onnx',
    name: 'mobilenet-int8',
    form: 'QOperator',
    rewrites: [
      "int8 trunk kept up to '627_quantized' (onnxruntime's int8 kernels); the head converted to float:",
      'int8 -> float32: 1 x QLinearGlobalAveragePool -> GlobalAveragePool + Clip',
      'int8 -> float32: 1 x QLinearMatMul -> MatMul + Clip',
      "Reshape node 'Reshape_103' to [N, 1280] -> Flatten",
      "MatMul node 'Gemm_104_MatMul_quant_float' (1280 -> 1000) -> Conv 1000x1280x1x1",
      "Conv node 'Gemm_104_MatMul_quant_float' -> QLinearConv with the original int8 weights and scales",
    ],
  },
  {
    file: 'shufflenet-v2-12-qdq.onnx',
    name: 'shufflenet-int8',
    form: 'QDQ',
    rewrites: [
      "int8 trunk kept up to '609' (onnxruntime's int8 kernels); the head converted to float:",
      'int8 -> float32: 2 x QuantizeLinear -> Clip to its int8 range',
      '32 Reshape nodes of the trunk take H and W from their input (size-free)',
      "ReduceMean node 'ReduceMean_259' -> AveragePool 7x7, stride 1 (the last feature map at the window size)",
      "MatMul node 'Gemm_260_MatMul_quant' (1024 -> 1000) -> Conv 1000x1024x1x1",
      "Conv node 'Gemm_260_MatMul_quant' -> QLinearConv with the original int8 weights and scales",
    ],
  },
])('importing $file ($form)', async ({ file, name, rewrites }) => {
  const { card, checks } = await importModel(options(file, name));
  const runner = await ModelRunner.open(path.join(scratch.dir, name, 'model.onnx'), card);
  afterAll(() => runner.close());

  it('keeps the int8 trunk, rewrites the head as convolutions and passes every check', () => {
    expect(card.source.kind === 'imported' && card.source.rewrites).toEqual(expect.arrayContaining(rewrites));
    expect(card.geometry).toEqual({ window: 224, stride: 32, offset: 0, exact: false });
    expect(card.input).toMatchObject({ name: 'input', channels: 3, color: 'rgb', ...IMAGENET });
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const window = checks.find((c) => c.name === 'window 1x1 map')!;
    expect(window.detail).toContain('0.05 of the largest score: the int8 original rounds the pooling');
  });

  it('agrees with the int8 original at 224 px on real photos: top-1 on 90%, probabilities within 0.05', async () => {
    const reference = await originalProbabilities(sharedModel(`onnx-zoo/${file}`));
    let agree = 0;
    let worst = 0;
    for (let i = 0; i < photos.length; i++) {
      const map = await runner.run({ dims: [1, 3, 224, 224], data: photos[i] });
      expect(map.dims).toEqual([1, 1000, 1, 1]);
      const p = softmax(map.data);
      agree += Number(argmax(p) === argmax(reference[i]));
      worst = Math.max(worst, ...p.map((v, k) => Math.abs(v - reference[i][k])));
    }
    expect(agree / photos.length).toBeGreaterThanOrEqual(0.9);
    expect(worst).toBeLessThanOrEqual(0.05); // measured: 0.030 (MobileNetV2), 0.000 (ShuffleNetV2)
  });

  it('gives a 9x14 grid for a 480x640 input', async () => {
    const data = new Float32Array(3 * 480 * 640).map((_, i) => Math.sin(i));
    expect((await runner.run({ dims: [1, 3, 480, 640], data })).dims).toEqual([1, 1000, 9, 14]);
  });
});

it('with dequantize, imports the QDQ file as a float graph within the stated, looser bound', async () => {
  const { card, checks } = await importModel({ ...options('shufflenet-v2-12-qdq.onnx', 'float'), dequantize: true });
  expect(card.source.kind === 'imported' && card.source.rewrites).toEqual(
    expect.arrayContaining([
      'int8 graph converted to float (--dequantize):',
      'int8 -> float32: 113 x DequantizeLinear of a constant -> float weights',
    ]),
  );
  expect(checks.filter((c) => !c.ok)).toEqual([]);
  expect(checks.find((c) => c.name === 'window 1x1 map')!.detail).toContain('0.5 of the largest score');
});

describe('unreadable quantization parameters', () => {
  /** A copy of a shared model with one initializer replaced. */
  function edited(file: string, tensor: Tensor): string {
    const model = onnx.ModelProto.decode(readFileSync(sharedModel(`onnx-zoo/${file}`)));
    const graph = model.graph!;
    graph.initializer = graph.initializer!.map((t) => (t.name === tensor.name ? tensor : t));
    const out = path.join(scratch.dir, `broken-${tensor.name}.onnx`);
    writeFileSync(out, onnx.ModelProto.encode(model).finish());
    return out;
  }

  it('a QDQ weight scale of the wrong length is an error naming the DequantizeLinear, nothing written', async () => {
    const name = 'ConvBnFusion_W_conv1.0.weight_scale';
    const file = edited('shufflenet-v2-12-qdq.onnx', floatTensor(name, [5], new Float32Array(5).fill(0.01)));
    const out = path.join(scratch.dir, 'broken-scale');
    await expect(importModel({ ...options('', 'broken'), file, out })).rejects.toThrow(
      "DequantizeLinear node 'ConvBnFusion_W_conv1.0.weight_DequantizeLinear': scale " +
        `'${name}' has 5 values; expected 1 or 3 (one per slice of the quantized axis)`,
    );
    expect(existsSync(out)).toBe(false);
  });

  it('a QLinearConv zero point of the wrong type is an error naming the node, nothing written', async () => {
    const file = edited('mobilenetv2-12-int8.onnx', floatTensor('475_zero_point', [32], new Float32Array(32)));
    const out = path.join(scratch.dir, 'broken-zero-point');
    await expect(importModel({ ...options('', 'broken'), file, out })).rejects.toThrow(
      "QLinearConv node 'Conv_0_quant': zero point '475_zero_point' has element type float, expected uint8 or int8",
    );
    expect(existsSync(out)).toBe(false);
  });
});
