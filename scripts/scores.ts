// Small helpers of the measuring scripts: class scores to probabilities, and the best class.

/** Softmax of one score vector, shifted by its largest score so that exp never overflows. */
export function softmax(scores: ArrayLike<number>): number[] {
  const values = Array.from(scores);
  const max = Math.max(...values);
  const exps = values.map((s) => Math.exp(s - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export const argmax = (values: number[]): number => values.indexOf(Math.max(...values));
