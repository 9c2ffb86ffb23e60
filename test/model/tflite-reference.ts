// The reference for TFLite imports: Arm NN (Debian's python3-pyarmnn, test/model/tflite_reference.py) run on the
// original .tflite files. Its CpuRef backend takes about 4 s per image here, so the outputs for the photo set are
// kept in fixtures/tflite-reference.json (sparse: [index, probability] for the non-zero outputs), made by
// `TAGMAP_TFLITE_REFERENCE=refresh npx vitest run test/model/import-tflite.test.ts`; the suite re-runs Arm NN live
// on one image per model to show the fixture still is what Arm NN says.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeImage } from '../../model/io/image.ts';

const SHARED = path.resolve(import.meta.dirname, '../../../shared');
const FIXTURE = path.join(import.meta.dirname, 'fixtures/tflite-reference.json');
const HELPER = path.join(import.meta.dirname, 'tflite_reference.py');
export const PYTHON = '/usr/bin/python3';
export const REFRESHING = process.env.TAGMAP_TFLITE_REFERENCE === 'refresh';

/** The four shared photos and every 37th MSRC-21 image (16): people, animals, buildings, cars, bikes, flowers. */
export function photoSet(): string[] {
  const photos = ['astronaut.png', 'chelsea.png', 'coffee.png', 'rocket.jpg'].map((f) =>
    path.join(SHARED, 'photos', f),
  );
  const msrc = path.join(SHARED, 'data/msrc21/images');
  const names = readdirSync(msrc)
    .sort()
    .filter((_, i) => i % 37 === 0);
  return [...photos, ...names.map((f) => path.join(msrc, f))];
}

/** Each image resized (fill, antialiased bilinear) to size x size, RGB uint8 HWC: what both runtimes get. */
export async function pixels(files: string[], size: number): Promise<Buffer[]> {
  return Promise.all(
    files.map(async (file) => {
      const image = await decodeImage(readFileSync(file), {
        channels: 3,
        maxPixels: 50e6,
        size: { width: size, height: size },
      });
      return image.data;
    }),
  );
}

const digest = (images: Buffer[]) => createHash('sha256').update(Buffer.concat(images)).digest('hex');

/** Runs Arm NN on the images; returns dequantized outputs. */
export function armnn(model: string, images: Buffer[]): Promise<number[][]> {
  const raw = path.join(tmpdir(), `tagmap-armnn-${process.pid}-${digest(images).slice(0, 12)}.raw`);
  writeFileSync(raw, Buffer.concat(images));
  return new Promise((resolve, reject) => {
    // killed after 10 min, so a timed-out test leaves no Arm NN process behind
    const child = spawn(PYTHON, [HELPER, model, raw, 'CpuRef'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out).outputs) : reject(new Error(`armnn failed (${code}):\n${err}`)),
    );
  });
}

interface Entry {
  sha256: string;
  images: string[];
  outputs: Array<Array<[number, number]>>;
}

const dense = (sparse: Array<[number, number]>, length: number) => {
  const out = new Array(length).fill(0);
  for (const [i, p] of sparse) out[i] = p;
  return out;
};

/** The reference outputs of one model on the photo set, from the fixture (or Arm NN when refreshing). */
export async function reference(
  model: string,
  files: string[],
  images: Buffer[],
  classes: number,
  refresh = REFRESHING,
) {
  const fixture: Record<string, Entry> = existsSync(FIXTURE) ? JSON.parse(readFileSync(FIXTURE, 'utf8')) : {};
  const key = path.basename(model);
  if (refresh) {
    const outputs = await armnn(model, images);
    fixture[key] = {
      sha256: digest(images),
      images: files.map((f) => path.basename(f)),
      outputs: outputs.map((o) => o.flatMap((p, i) => (p > 0 ? [[i, p] as [number, number]] : []))),
    };
    writeFileSync(FIXTURE, `${JSON.stringify(fixture)}\n`);
  }
  const entry = fixture[key];
  if (!entry) throw new Error(`${FIXTURE} has no ${key}: refresh it (see test/model/tflite-reference.ts)`);
  if (entry.sha256 !== digest(images))
    throw new Error(`the decoded pixels changed since ${FIXTURE} was made (sharp update?): refresh it`);
  return entry.outputs.map((o) => dense(o, classes));
}
