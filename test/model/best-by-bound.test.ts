// bestByBound scores only the items whose upper bound can still reach the top K; its answer must be the one
// that scoring every item, filtering and sorting gives, ties included.
import { describe, expect, it } from 'vitest';
import { bestByBound } from '../../model/tasks/tag-scores.ts';

/** A small deterministic generator (mulberry32), so that a failure can be replayed. */
function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Item {
  score: number;
  bound: number;
  priority: number;
  covered: boolean;
}

describe('bestByBound', () => {
  it('gives what scoring, filtering and sorting every item gives, and scores fewer', () => {
    const next = random(7);
    let scoredTotal = 0;
    for (let round = 0; round < 300; round++) {
      // coarse scores make ties common; the bound is at or above the score, as a plane's largest cell is
      const items: Item[] = Array.from({ length: 1 + Math.floor(next() * 60) }, () => {
        const score = Math.round(next() * 10) / 10;
        // some bounds are exact (a 'max' pooling's score is its bound), so that bound and K-th score tie
        const bound = next() < 0.4 ? score : score + next() * 0.3;
        return { score, bound, priority: Math.floor(next() * 3), covered: next() > 0.2 };
      });
      const topK = 1 + Math.floor(next() * 8);
      const minScore = next() * 0.5;
      const tie = (a: Item, b: Item) => b.priority - a.priority;
      const expected = items
        .filter((item) => item.score >= minScore && item.covered)
        .sort((a, b) => b.score - a.score || tie(a, b))
        .slice(0, topK);
      let scored = 0;
      const got = bestByBound(items, {
        topK,
        bound: (item) => item.bound,
        score: (item) => (scored++, item.score),
        floor: () => minScore,
        keep: (item) => item.covered,
        tie,
      });
      expect(got.map((r) => r.item)).toEqual(expected);
      expect(got.map((r) => r.score)).toEqual(expected.map((item) => item.score));
      scoredTotal += scored / items.length;
    }
    // the point of it: most items are never scored
    expect(scoredTotal / 300).toBeLessThan(0.8);
  });

  it('keeps nothing for topK 0 and scores nothing', () => {
    const score = () => expect.unreachable();
    expect(bestByBound([1, 2, 3], { topK: 0, bound: (n) => n, score, floor: () => 0 })).toEqual([]);
  });
});
