// Files and labels the importer cannot take give errors that say what is wrong and where; label files in the three
// accepted formats load, and ImageNet ids get their WordNet parents.
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importModel } from '../../model/import/importer.ts';
import { loadLabels } from '../../model/import/labels.ts';
import { decodeModel, graphOf } from '../../model/import/onnx-file.ts';
import { WordNet } from '../../model/import/wordnet.ts';
import { labelsFile, scratchDir, sharedModel, torchClassifiers } from './import-fixtures.ts';

const scratch = scratchDir();
let torch = '';
beforeAll(() => {
  torch = torchClassifiers();
}, 120_000);
afterAll(() => scratch.remove());
const tenLabels = () =>
  labelsFile(
    scratch.dir,
    Array.from({ length: 10 }, (_, i) => `class ${i}`),
  );
const attempt = (file: string, labels = tenLabels()) =>
  importModel({ file, name: 'bad', labels, out: path.join(scratch.dir, 'out') });

/**
 * ModelProto.graph, then GraphProto.node, NodeProto.attribute and AttributeProto.g `depth` times: each a
 * length-delimited field (tag, length, body) holding the next, so the file is their headers from the outside in.
 */
function nestedGraphs(depth: number): Uint8Array {
  const varint = (n: number) => {
    const out: number[] = [];
    for (; n > 127; n >>>= 7) out.push((n & 127) | 128);
    return [...out, n];
  };
  const fields = [7, ...Array.from({ length: depth }, () => [1, 5, 6]).flat()];
  const sizes = [0]; // body sizes from the inside out
  for (let i = fields.length - 1; i > 0; i--) sizes.push(1 + varint(sizes.at(-1)!).length + sizes.at(-1)!);
  sizes.reverse();
  return Uint8Array.from(fields.flatMap((no, i) => [...varint((no << 3) | 2), ...varint(sizes[i])]));
}

describe('the importer refuses', () => {
  it('a file that is not ONNX, naming it', async () => {
    const photo = path.resolve(import.meta.dirname, '../../../shared/photos/chelsea.png');
    await expect(attempt(photo)).rejects.toThrow(/chelsea\.png is not an ONNX model/);
  });

  it('a file nested past the stack (graphs in attributes 20000 deep), as not ONNX, and writes nothing', async () => {
    expect(graphOf(decodeModel(nestedGraphs(100), 'shallow.onnx')).node).toHaveLength(1); // well-formed when shallow
    const file = path.join(scratch.dir, 'nested.onnx');
    writeFileSync(file, nestedGraphs(20_000));
    await expect(attempt(file)).rejects.toThrow(/nested\.onnx is not an ONNX model \(protobuf decoding failed/);
    expect(existsSync(path.join(scratch.dir, 'out'))).toBe(false);
  });

  it('a missing file', async () => {
    await expect(attempt(path.join(scratch.dir, 'nowhere.onnx'))).rejects.toThrow(
      /cannot read .*nowhere\.onnx: ENOENT/,
    );
  });

  it('a model without a classifier head, naming the node at the output', async () => {
    await expect(attempt(path.join(torch, 'fully-convolutional.onnx'))).rejects.toThrow(
      /^no classifier head: MaxPool node '\/features\/features\.6\/MaxPool' at the output/,
    );
  });

  it('a head it cannot rewrite, naming the node', async () => {
    await expect(attempt(path.join(torch, 'squared-head.onnx'))).rejects.toThrow(
      /^unsupported head: Mul node '\/Mul' has 2 non-constant inputs/,
    );
  });

  it('a labels file with the wrong number of labels', async () => {
    const nine = labelsFile(
      scratch.dir,
      Array.from({ length: 9 }, (_, i) => `class ${i}`),
    );
    await expect(attempt(sharedModel('mnist-cntk.onnx'), nine)).rejects.toThrow(
      `${nine} has 9 labels but the model has 10 classes`,
    );
  });

  it('a window that does not match a fixed input size', async () => {
    await expect(
      importModel({
        file: sharedModel('mnist-cntk.onnx'),
        name: 'bad',
        labels: tenLabels(),
        out: path.join(scratch.dir, 'out'),
        window: 32,
      }),
    ).rejects.toThrow("--window 32 does not match the model's fixed input 28x28");
  });
});

describe('labels', () => {
  const write = (name: string, text: string) => {
    const file = path.join(scratch.dir, name);
    writeFileSync(file, text);
    return file;
  };

  it('load from text, a JSON array, and an ImageNet-style index, underscores read as spaces', () => {
    expect(loadLabels(write('a.txt', 'tench\ngreat_white_shark\n\n'))).toEqual([
      { name: 'tench' },
      { name: 'great white shark' },
    ]);
    expect(loadLabels(write('a.json', '["cat", "dog"]'))).toEqual([{ name: 'cat' }, { name: 'dog' }]);
    expect(loadLabels(write('b.json', '{"1": ["n02124075", "Egyptian_cat"], "0": ["n02123045", "tabby"]}'))).toEqual([
      { wnid: 'n02123045', name: 'tabby' },
      { wnid: 'n02124075', name: 'Egyptian cat' },
    ]);
  });

  it('refuse gaps in an index and empty names', () => {
    expect(() => loadLabels(write('c.json', '{"0": "a", "2": "b"}'))).toThrow('keys must be 0..1, found "2"');
    expect(() => loadLabels(write('d.txt', 'a\n\nb\n'))).toThrow('label 1 is empty');
  });

  it('get WordNet parents from the first-hypernym chain of data.noun', () => {
    const wordnet = WordNet.open('/usr/share/wordnet');
    expect(wordnet.parents('n02123045').slice(0, 5)).toEqual([
      'domestic cat',
      'cat',
      'feline',
      'carnivore',
      'placental',
    ]);
    expect(wordnet.parents('n07920052')).toEqual([
      'coffee',
      'beverage',
      'food',
      'substance',
      'matter',
      'physical entity',
      'entity',
    ]);
    expect(() => wordnet.parents('n00000001')).toThrow(/has no noun synset at offset 1/);
    expect(() => WordNet.open(scratch.dir)).toThrow(
      /cannot read WordNet nouns .*install Debian's wordnet-base or pass --wordnet DIR/,
    );
  });
});
