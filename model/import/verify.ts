// Checks an imported (or any fully convolutional) model against its card, its golden file and the original's
// scores: a 1x1 map at the window size equal to the original, the right grid on larger inputs, every dense cell
// equal to the classifier on its crop when the card says exact, and the golden cases.
import type { Card, Golden } from '../contract/card.ts';
import { openSession, runSession, type NamedTensor } from '../runtime/ort.ts';
import { crop, seededInput } from './seeded-input.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  maxAbsDiff?: number;
  tolerance?: number;
}

/** The reference for the window check: the original's scores on one input. */
export interface Reference {
  input: NamedTensor;
  output: Float32Array;
  source: string;
  /** a looser bound than toleranceFor, with the reason, e.g. an int8 original against float arithmetic */
  tolerance?: number;
  why?: string;
  /** the map the reference holds (default [1, K, 1, 1]: a classifier at its window size) */
  outputShape?: number[];
}

/** Scores match when the largest difference is within 1e-4 of the largest score (and 1e-4 absolute near zero). */
export const toleranceFor = (expected: ArrayLike<number>): number => {
  let largest = 1;
  for (let i = 0; i < expected.length; i++) largest = Math.max(largest, Math.abs(expected[i]));
  return 1e-4 * largest;
};

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

export class ModelRunner {
  private constructor(
    private readonly session: Awaited<ReturnType<typeof openSession>>['session'],
    private readonly card: Card,
  ) {}

  static async open(model: string | Uint8Array, card: Card): Promise<ModelRunner> {
    const { session } = await openSession(model, { device: 'cpu', intraOpThreads: 1 });
    return new ModelRunner(session, card);
  }

  async run(input: NamedTensor): Promise<NamedTensor> {
    const outputs = await runSession(this.session, this.card.input.name, input, [this.card.output.name]);
    return outputs[this.card.output.name];
  }

  close(): Promise<void> {
    return this.session.release();
  }
}

const compare = (
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  detail: string,
  tolerance = toleranceFor(expected),
): Check => {
  const diff = maxAbsDiff(actual, expected);
  return { name, ok: diff <= tolerance, maxAbsDiff: diff, tolerance, detail };
};

async function windowCheck(runner: ModelRunner, card: Card, reference: Reference): Promise<Check> {
  const output = await runner.run(reference.input);
  const dims = output.dims.join('x');
  const expected = (reference.outputShape ?? [1, card.labels.length, 1, 1]).join('x');
  const [, , height, width] = reference.input.dims;
  const name = reference.outputShape ? 'reference map' : 'window 1x1 map';
  if (dims !== expected)
    return { name, ok: false, detail: `output ${dims} at ${height}x${width} px, expected ${expected}` };
  return compare(
    name,
    output.data,
    reference.output,
    `vs ${reference.source} at ${height}x${width} px${reference.why ? ` (tolerance: ${reference.why})` : ''}`,
    reference.tolerance,
  );
}

/**
 * Cells along a side of `size` px: the windows that fit, where a net that pads internally (offset < 0) needs
 * -offset px less on each side (as the runtime's layout plans it); a classifier (offset 0) has (size - window) /
 * stride + 1.
 */
function cellsAlong(size: number, { window, stride, offset }: Card['geometry']): number {
  const edge = offset < 0 ? 2 * offset : offset;
  return Math.floor((size - window - edge) / stride) + 1;
}

async function gridCheck(runner: ModelRunner, card: Card): Promise<Check> {
  const { window, stride } = card.geometry;
  const [height, width] = [window + 2 * stride, window + 3 * stride];
  const output = await runner.run(seededInput(card.input, height, width, 7));
  const [, , rows, cols] = output.dims;
  const [wantRows, wantCols] = [cellsAlong(height, card.geometry), cellsAlong(width, card.geometry)];
  return {
    name: 'grid',
    ok: rows === wantRows && cols === wantCols,
    detail: `${height}x${width} px input -> ${rows}x${cols} cells (expected ${wantRows}x${wantCols})`,
  };
}

/** Every cell of a 3x3 map against the model run on that cell's window alone. */
async function denseVsCropCheck(runner: ModelRunner, card: Card): Promise<Check> {
  const { window, stride, offset, exact } = card.geometry;
  if (offset < 0)
    return {
      name: 'dense cell vs crop',
      ok: !exact,
      detail: 'skipped: the cells sit at the input borders (offset < 0), their windows have no crop inside it',
    };
  const size = window + 2 * stride;
  const input = seededInput(card.input, size, size, 11);
  const dense = await runner.run(input);
  const classes = card.labels.length;
  const cells = dense.dims[2] * dense.dims[3];
  let diff = 0;
  let tolerance = 0;
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const single = (await runner.run(crop(input, offset + i * stride, offset + j * stride, window))).data;
      const cell = Array.from({ length: classes }, (_, k) => dense.data[k * cells + i * 3 + j]);
      diff = Math.max(diff, maxAbsDiff(cell, single));
      tolerance = Math.max(tolerance, toleranceFor(single));
    }
  }
  const detail = exact
    ? 'every cell of a 3x3 map vs the window classifier on its crop'
    : 'informational: the net pads, so cells see real pixels where a lone crop sees padding';
  return { name: 'dense cell vs crop', ok: !exact || diff <= tolerance, maxAbsDiff: diff, tolerance, detail };
}

function goldenChecks(golden: Golden, outputs: NamedTensor[]): Check[] {
  return golden.cases.map((testCase, i) => {
    const shapeOk = outputs[i].dims.join('x') === testCase.outputShape.join('x');
    const check = compare(
      `golden case ${i + 1}`,
      shapeOk ? outputs[i].data : [],
      testCase.output,
      `${testCase.shape.join('x')} -> ${testCase.outputShape.join('x')}` +
        `${testCase.computedBy ? `, computed by the ${testCase.computedBy} model` : ''}`,
      golden.tolerance,
    );
    return shapeOk ? check : { ...check, ok: false, detail: `${check.detail}; got ${outputs[i].dims.join('x')}` };
  });
}

/** Runs every check that the inputs allow; the reference defaults to the golden cases the original computed. */
export async function verifyModel(
  model: string | Uint8Array,
  card: Card,
  golden: Golden | undefined,
  reference?: Reference,
): Promise<Check[]> {
  const runner = await ModelRunner.open(model, card);
  try {
    const checks: Check[] = [];
    const references = reference
      ? [reference]
      : (golden?.cases ?? [])
          .filter((c) => c.computedBy === 'original')
          .map((c) => ({
            input: { dims: [...c.shape], data: Float32Array.from(c.input) },
            output: Float32Array.from(c.output),
            source: 'the original (golden)',
            // a segmenter's reference is a whole map, not a classifier's 1x1 one
            ...(c.outputShape.slice(2).join() !== '1,1' && { outputShape: [...c.outputShape] }),
          }));
    // an int8 import's golden file says how far its scores may be from the original, and why
    const stated = golden?.toleranceReason ? { tolerance: golden.tolerance, why: golden.toleranceReason } : {};
    for (const ref of references) checks.push(await windowCheck(runner, card, { ...stated, ...ref }));
    checks.push(await gridCheck(runner, card));
    checks.push(await denseVsCropCheck(runner, card));
    if (golden) {
      const outputs: NamedTensor[] = [];
      for (const c of golden.cases)
        outputs.push(await runner.run({ dims: [...c.shape], data: Float32Array.from(c.input) }));
      checks.push(...goldenChecks(golden, outputs));
    }
    return checks;
  } finally {
    await runner.close();
  }
}

export const formatChecks = (checks: Check[]): string =>
  checks
    .map((c) => {
      const diffColumn =
        c.maxAbsDiff === undefined
          ? ''.padEnd(30)
          : `max |diff| ${c.maxAbsDiff.toExponential(2)} (tol ${c.tolerance!.toExponential(1)})`.padEnd(30);
      return `${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(20)} ${diffColumn} ${c.detail}`;
    })
    .join('\n');
