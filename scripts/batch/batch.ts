// One batch run from checked settings: resume state, back end, output, progress, the loop, the summary.
import { mkdir } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { UsageError, type BatchSettings } from './cli.ts';
import { csvColumns, rowFormat } from './formats.ts';
import { expandInputs } from './inputs.ts';
import { openLocalTagger } from './local.ts';
import { openSink } from './output.ts';
import { startProgress, summary, type Tally } from './progress.ts';
import { readFinished } from './resume.ts';
import { DEFAULT_RETRY } from './retry.ts';
import { remoteTagger } from './remote.ts';
import { runBatch, type RunEnd } from './runner.ts';
import type { Job, Tagger } from './tagger.ts';

export interface BatchEnd extends RunEnd {
  tally: Tally;
}

interface Finished {
  done: Set<string>;
  /** CSV: how many columns to write, when --out was begun by an earlier tagmap with fewer */
  columns?: number;
}

async function finishedInputs(settings: BatchSettings): Promise<Finished> {
  if (!settings.resume) return { done: new Set() };
  try {
    const { done, tornBytes, columns } = await readFinished(settings.out!, settings.format, settings.task);
    if (tornBytes > 0)
      process.stderr.write(
        `tag: dropped a torn last line (${tornBytes} bytes) of ${settings.out}; its input is tagged again\n`,
      );
    if (columns !== undefined)
      process.stderr.write(
        `tag: ${settings.out} has the CSV header of an earlier tagmap, without the columns ` +
          `${csvColumns(settings.task).slice(columns).join(', ')}; its new records leave them out too ` +
          `(write to a new --out to get them)\n`,
      );
    return { done, columns };
  } catch (error) {
    throw new UsageError(`--resume cannot read ${settings.out} as ${settings.format}: ${(error as Error).message}`);
  }
}

function openTagger(settings: BatchSettings, job: Job): Promise<Tagger> {
  if (settings.server)
    return Promise.resolve(
      remoteTagger(settings.server, job, { ...DEFAULT_RETRY, retries: settings.retries }, settings.apiKey),
    );
  return openLocalTagger({ ...settings.local, concurrency: settings.concurrency }, job);
}

export async function tagBatch(settings: BatchSettings, stop: AbortSignal): Promise<BatchEnd> {
  const { done, columns } = await finishedInputs(settings);
  if (settings.masksDir) await mkdir(settings.masksDir, { recursive: true });
  const format = rowFormat(settings.format, settings.task, columns);
  const tagger = await openTagger(settings, {
    task: settings.task,
    options: settings.options,
    masksDir: settings.masksDir,
  });
  // opened only once the back end is up, so a run that cannot start leaves an earlier output alone
  const sink = openSink(settings.out, settings.resume, format.header);
  const tally: Tally = { queued: 0, done: 0, failed: 0, skipped: 0, listed: false };
  const startedAt = performance.now();
  const progress = startProgress(tally, startedAt);
  try {
    const end = await runBatch(
      { concurrency: settings.concurrency, shard: settings.shard, done },
      { inputs: expandInputs(settings.inputs, process.stdin), tagger, sink, format, tally, progress, stop },
    );
    return { ...end, tally };
  } finally {
    progress.stop();
    sink.close();
    await tagger.close();
    process.stderr.write(`${summary(tally, startedAt)}\n`);
  }
}
