// The reference for the TFLite DeepLab segmenter imports: Arm NN (Debian's python3-pyarmnn) run on patched copies of
// the original .tflite files that end at the logits conv (test/model/segmenter_reference.py: Arm NN 22 has no
// ARG_MAX or TILE, and takes its shapes from the file, so the copy also gets the tensor shapes of other input sizes).
// CpuRef takes 10-45 s per image and size, so the logits for three photos at four sizes are kept in
// fixtures/segmenter-reference.json (Arm NN's uint8 values, base64, HWC), made by
// `TAGMAP_TFLITE_REFERENCE=refresh npx vitest run test/model/segmenter-reference.test.ts`; the suite re-runs Arm NN
// live on one photo at one size to show the fixture still is what Arm NN says.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeImage } from '../../model/io/image.ts';

const SHARED = path.resolve(import.meta.dirname, '../../../shared');
const FIXTURE = path.join(import.meta.dirname, 'fixtures/segmenter-reference.json');
const HELPER = path.join(import.meta.dirname, 'segmenter_reference.py');
const PYTHON = '/usr/bin/python3';

/** A person, a cat and a street with cars (MSRC-21). */
export const PHOTOS = ['photos/astronaut.png', 'photos/chelsea.png', 'data/msrc21/images/7_10_s.jpg'].map((f) =>
  path.join(SHARED, f),
);
/** height x width: the files' own 513 x 513, and three more of the sizes 16k + 1 the stride-16 maps fit exactly */
export const SIZES: Array<[number, number]> = [
  [513, 513],
  [257, 257],
  [385, 513],
  [321, 449],
];

/** Each photo resized (fill, antialiased bilinear) to height x width, RGB uint8 HWC: what both runtimes get. */
export function pixels(files: string[], height: number, width: number): Promise<Buffer[]> {
  return Promise.all(
    files.map(
      async (file) =>
        (await decodeImage(readFileSync(file), { channels: 3, maxPixels: 50e6, size: { width, height } })).data,
    ),
  );
}

const digest = (images: Buffer[]) => createHash('sha256').update(Buffer.concat(images)).digest('hex');

/** Arm NN's logits at one size: shape [h, w, classes], uint8 values per image (HWC), logit = scale * (q - zero). */
export interface Logits {
  shape: [number, number, number];
  scale: number;
  zeroPoint: number;
  outputs: Uint8Array[];
}

/** Runs Arm NN (CpuRef) on the cut model at height x width. */
export function armnn(model: string, images: Buffer[], height: number, width: number): Promise<Logits> {
  const raw = path.join(tmpdir(), `tagmap-armnn-seg-${process.pid}-${digest(images).slice(0, 12)}.raw`);
  writeFileSync(raw, Buffer.concat(images));
  return new Promise((resolve, reject) => {
    // killed after 15 min, so a timed-out test leaves no Arm NN process behind
    const child = spawn(PYTHON, [HELPER, 'run', model, raw, `${height}`, `${width}`, 'CpuRef'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 900_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('close', (code) => {
      rmSync(raw, { force: true });
      if (code !== 0) return reject(new Error(`armnn failed (${code}):\n${err}`));
      const result = JSON.parse(out) as Omit<Logits, 'outputs'> & { outputs: number[][] };
      resolve({ ...result, outputs: result.outputs.map((o) => Uint8Array.from(o)) });
    });
  });
}

interface Entry extends Omit<Logits, 'outputs'> {
  sha256: string;
  outputs: string[];
}
type Fixture = Record<string, { images: string[]; sizes: Record<string, Entry> }>;

const sizeKey = (height: number, width: number) => `${height}x${width}`;

/** Writes Arm NN's logits for every photo and size into the fixture (the refresh). */
export async function refresh(model: string): Promise<void> {
  const fixture: Fixture = existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, 'utf8')) : {};
  const sizes: Record<string, Entry> = {};
  for (const [height, width] of SIZES) {
    const images = await pixels(PHOTOS, height, width);
    const { outputs, ...rest } = await armnn(model, images, height, width);
    sizes[sizeKey(height, width)] = {
      sha256: digest(images),
      ...rest,
      outputs: outputs.map((o) => Buffer.from(o).toString('base64')),
    };
  }
  fixture[path.basename(model)] = { images: PHOTOS.map((f) => path.basename(f)), sizes };
  writeFileSync(FIXTURE, `${JSON.stringify(fixture, null, 1)}\n`);
}

/** The fixture's Arm NN logits of one model at one size, checked to be for these very pixels. */
export function reference(model: string, images: Buffer[], height: number, width: number): Logits {
  const fixture: Fixture = existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, 'utf8')) : {};
  const entry = fixture[path.basename(model)]?.sizes[sizeKey(height, width)];
  if (!entry)
    throw new Error(`${FIXTURE} has no ${path.basename(model)} at ${sizeKey(height, width)}: refresh it (see above)`);
  if (entry.sha256 !== digest(images))
    throw new Error(`the decoded pixels changed since ${FIXTURE} was made (sharp update?): refresh it`);
  return { ...entry, outputs: entry.outputs.map((o) => new Uint8Array(Buffer.from(o, 'base64'))) };
}
