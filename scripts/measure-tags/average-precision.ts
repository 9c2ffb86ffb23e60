// Average precision of one class over a set of images: rank every image by its score for the class, best first,
// and average the precision at each positive image. Tied scores form one step (the precision at the end of the
// tied block counts for each positive inside it), so the answer does not depend on the order of ties; this is
// the usual definition (scikit-learn's average_precision_score).

/** AP of the ranking by `scores` against `positive` (same order); null when there is no positive image. */
export function averagePrecision(scores: readonly number[], positive: readonly boolean[]): number | null {
  if (scores.length !== positive.length) throw new Error('averagePrecision: scores and labels differ in length');
  const total = positive.filter(Boolean).length;
  if (total === 0) return null;
  const order = scores.map((_, i) => i).sort((a, b) => scores[b] - scores[a]);
  let hits = 0;
  let sum = 0;
  for (let start = 0; start < order.length;) {
    let end = start;
    let hitsHere = 0;
    while (end < order.length && scores[order[end]] === scores[order[start]]) {
      if (positive[order[end]]) hitsHere++;
      end++;
    }
    hits += hitsHere;
    sum += hitsHere * (hits / end);
    start = end;
  }
  return sum / total;
}

/** Mean of the defined values (null when none is). */
export function meanOf(values: ReadonlyArray<number | null>): number | null {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length === 0 ? null : defined.reduce((a, b) => a + b, 0) / defined.length;
}
