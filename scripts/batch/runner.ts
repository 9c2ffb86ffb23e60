// The batch loop: take inputs one by one (this shard's, not yet in --out), keep up to `concurrency` of them
// in flight, write each one's row as it finishes. A stop signal ends the taking; inputs in flight finish
// (or, if they are only waiting to retry, are abandoned without a row).
import { performance } from 'node:perf_hooks';
import { Abandoned, BatchError, STOP_CODES, USAGE_CODES, rowError } from './errors.ts';
import type { RowFormat } from './formats.ts';
import type { RowSink } from './output.ts';
import { prefetch } from './prefetch.ts';
import type { Progress, Tally } from './progress.ts';
import type { Row } from './rows.ts';
import { inShard, type Shard } from './shard.ts';
import type { Tagger } from './tagger.ts';

export interface RunSettings {
  concurrency: number;
  shard?: Shard;
  /** inputs that already have a row */
  done: Set<string>;
}

export interface RunParts {
  inputs: AsyncIterable<string>;
  tagger: Tagger;
  sink: RowSink;
  format: RowFormat;
  tally: Tally;
  progress: Progress;
  stop: AbortSignal;
}

export interface RunEnd {
  /** set when an input showed the options themselves are wrong (unknown model, bad option) */
  usageError?: BatchError;
  /** set when the server could not be used even after retries */
  stopError?: BatchError;
}

/** Inputs listed ahead of the tagging, at most this many (a few MB of path strings). */
const LOOKAHEAD = 50_000;

/** This run's inputs: this shard's, not yet in --out; counted as they are listed. */
async function* pending(inputs: AsyncIterable<string>, settings: RunSettings, tally: Tally): AsyncGenerator<string> {
  for await (const input of inputs) {
    if (!inShard(input, settings.shard)) continue;
    if (settings.done.has(input)) {
      tally.skipped++;
      continue;
    }
    tally.queued++;
    yield input;
  }
  tally.listed = true;
}

const STOPPED = Symbol('stopped');

/**
 * Waits for `promise` or the stop signal, whichever comes first. (Racing against one long-lived "stopped"
 * promise instead would pile up a reaction on it per wait: a leak over a million inputs.)
 */
function orStopped<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | typeof STOPPED> {
  if (signal.aborted) return Promise.resolve(STOPPED);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(STOPPED);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export async function runBatch(settings: RunSettings, parts: RunParts): Promise<RunEnd> {
  const { tagger, sink, format, tally, progress } = parts;
  // a usage or stop error ends the run as a signal does
  const halt = new AbortController();
  const stop = AbortSignal.any([parts.stop, halt.signal]);
  const end: RunEnd = {};
  const inFlight = new Set<Promise<void>>();

  async function runOne(input: string): Promise<void> {
    const started = performance.now();
    let row: Row;
    try {
      const outcome = await tagger.run(input, stop);
      row = { input, ok: true, ...outcome, ms: Math.round(performance.now() - started) };
    } catch (error) {
      if (error instanceof Abandoned) return;
      row = { input, ok: false, error: rowError(error) };
      const { code, message } = row.error;
      if (USAGE_CODES.has(code) || STOP_CODES.has(code)) {
        if (!end.usageError && !end.stopError)
          end[USAGE_CODES.has(code) ? 'usageError' : 'stopError'] = new BatchError(code, message);
        halt.abort();
        return;
      }
    }
    sink.write(format.format(row));
    if (row.ok) tally.done++;
    else tally.failed++;
    progress.update();
  }

  const iterator = prefetch(pending(parts.inputs, settings, tally), LOOKAHEAD);
  try {
    while (!stop.aborted) {
      const next = await orStopped(iterator.next(), stop);
      if (next === STOPPED || next.done) break;
      const input = next.value;
      const task = runOne(input).finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= settings.concurrency) await orStopped(Promise.race(inFlight), stop);
    }
  } finally {
    // not awaited: a list still waiting on stdin would never let it settle
    void iterator.return(undefined).catch(() => undefined);
    await Promise.all(inFlight);
    progress.update();
  }
  return end;
}
