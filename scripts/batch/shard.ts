// Splitting inputs across machines: each input goes to the shard picked by a stable hash of its string, so
// N runs given the same inputs take disjoint parts that together cover all of them, with no coordination.
import { createHash } from 'node:crypto';

export interface Shard {
  index: number;
  count: number;
}

/** Parses "I/N" (0 <= I < N); throws a message for people on anything else. */
export function parseShard(text: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = match ? Number(match[1]) : NaN;
  const count = match ? Number(match[2]) : NaN;
  if (!match || count < 1 || index >= count) {
    throw new Error(`--shard must be I/N with N >= 1 and 0 <= I < N, e.g. 0/4 (got "${text}")`);
  }
  return { index, count };
}

/** The shard of an input: the first 32 bits of sha1(input as UTF-8), modulo the shard count. */
export function shardOf(input: string, count: number): number {
  return createHash('sha1').update(input, 'utf8').digest().readUInt32BE(0) % count;
}

export const inShard = (input: string, shard: Shard | undefined): boolean =>
  shard === undefined || shardOf(input, shard.count) === shard.index;
