// WordNet 3.0 nouns (Debian's wordnet-base data.noun) as a graph: every synset's lemmas and all its hypernyms
// (@ and @i), so that a class's ancestors include every path up, not only the first.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Synset {
  lemmas: string[];
  hypernyms: number[];
  gloss: string;
}

export function readNouns(dir: string): Map<number, Synset> {
  const file = path.join(dir, 'data.noun');
  const nouns = new Map<number, Synset>();
  for (const line of readFileSync(file, 'latin1').split('\n')) {
    if (line === '' || line.startsWith(' ')) continue;
    const fields = line.split(' ');
    const words = parseInt(fields[3], 16);
    const lemmas = Array.from({ length: words }, (_, w) => fields[4 + 2 * w].replace(/_/g, ' ').replace(/\(.*\)$/, ''));
    const at = 4 + 2 * words;
    const hypernyms: number[] = [];
    for (let p = 0; p < Number(fields[at]); p++) {
      const [symbol, target] = fields.slice(at + 1 + 4 * p, at + 3 + 4 * p);
      if (symbol === '@' || symbol === '@i') hypernyms.push(Number(target));
    }
    nouns.set(Number(fields[0]), { lemmas, hypernyms, gloss: line.slice(line.indexOf('| ') + 2).trim() });
  }
  return nouns;
}

export const wnidOf = (offset: number) => `n${String(offset).padStart(8, '0')}`;

/** Every ancestor of a synset, by all hypernym paths. */
export function ancestorsOf(nouns: Map<number, Synset>, offset: number): Set<number> {
  const seen = new Set<number>();
  const stack = [...(nouns.get(offset)?.hypernyms ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(nouns.get(next)?.hypernyms ?? []));
  }
  return seen;
}
