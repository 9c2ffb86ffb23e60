// Broader names for ImageNet classes from WordNet 3.0 (Debian's wordnet-base). An ImageNet id nXXXXXXXX is the
// byte offset of its synset in data.noun; the chain of first hypernyms (@ or @i) leads up to "entity".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImportError } from './import-error.ts';

export const DEFAULT_WORDNET = '/usr/share/wordnet';

export class WordNet {
  private constructor(
    private readonly nouns: Buffer,
    private readonly file: string,
  ) {}

  static open(dir: string): WordNet {
    const file = join(dir, 'data.noun');
    try {
      return new WordNet(readFileSync(file), file);
    } catch (error) {
      throw new ImportError(
        `cannot read WordNet nouns at ${file} (install Debian's wordnet-base or pass --wordnet DIR): ` +
          `${(error as Error).message}`,
      );
    }
  }

  /** Names of the hypernym chain of a wnid, nearest first. */
  parents(wnid: string): string[] {
    const names: string[] = [];
    const seen = new Set<number>();
    let next = this.synset(this.offsetOf(wnid), wnid).hypernym;
    while (next !== undefined && !seen.has(next)) {
      seen.add(next);
      const synset = this.synset(next, wnid);
      names.push(synset.lemma);
      next = synset.hypernym;
    }
    return names;
  }

  private offsetOf(wnid: string): number {
    if (!/^n\d{8}$/.test(wnid)) throw new ImportError(`'${wnid}' is not a WordNet noun id (n + 8 digits)`);
    return Number(wnid.slice(1));
  }

  /** Parses the data.noun line at a byte offset: "offset lex ss_type w_cnt word lex_id ... p_cnt ptr..." */
  private synset(offset: number, wnid: string): { lemma: string; hypernym?: number } {
    const end = this.nouns.indexOf(10, offset);
    const fields = this.nouns.toString('latin1', offset, end < 0 ? undefined : end).split(' ');
    if (Number(fields[0]) !== offset || fields[2] !== 'n')
      throw new ImportError(`${this.file} has no noun synset at offset ${offset} (from ${wnid})`);
    const words = parseInt(fields[3], 16);
    const lemma = fields[4].replace(/_/g, ' ').replace(/\(.*\)$/, '');
    const pointersAt = 4 + 2 * words;
    const pointers = Number(fields[pointersAt]);
    for (let p = 0; p < pointers; p++) {
      const [symbol, target] = fields.slice(pointersAt + 1 + 4 * p, pointersAt + 3 + 4 * p);
      if (symbol === '@' || symbol === '@i') return { lemma, hypernym: Number(target) };
    }
    return { lemma };
  }
}
