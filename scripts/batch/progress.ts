// Progress on stderr: a bar with rate and ETA on a terminal, a plain line every few seconds otherwise
// (logs of a Kubernetes Job), and a summary at the end either way.
import cliProgress from 'cli-progress';

export interface Tally {
  /** inputs taken for this run (after --shard and --resume) */
  queued: number;
  done: number;
  failed: number;
  /** already in --out */
  skipped: number;
  /** every input has been listed: queued is the total */
  listed: boolean;
}

export interface Progress {
  /** redraw now (the bar); plain lines come on their timer */
  update(): void;
  stop(): void;
}

const rate = (tally: Tally, startedAt: number) =>
  (tally.done + tally.failed) / Math.max(1e-3, (performance.now() - startedAt) / 1000);

export function summary(tally: Tally, startedAt: number): string {
  const seconds = (performance.now() - startedAt) / 1000;
  return (
    `tag: ${tally.done} done, ${tally.failed} failed, ${tally.skipped} skipped ` +
    `in ${seconds.toFixed(1)} s (${rate(tally, startedAt).toFixed(2)} images/s)`
  );
}

function barProgress(tally: Tally, startedAt: number, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        '{bar} {value}/{total}{more} | {rate} images/s | ETA {eta_formatted} | {failed} failed, {skipped} skipped',
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const update = () => {
    if (tally.queued === 0) return; // an empty bar would read 100%
    const payload = {
      more: tally.listed ? '' : '+',
      rate: rate(tally, startedAt).toFixed(1),
      failed: tally.failed,
      skipped: tally.skipped,
    };
    if (!started) bar.start(tally.queued, 0, payload);
    started = true;
    bar.setTotal(tally.queued);
    bar.update(tally.done + tally.failed, payload);
  };
  // the total grows while inputs are listed, before any row is done
  const timer = setInterval(update, 250);
  timer.unref();
  return {
    update,
    stop: () => {
      clearInterval(timer);
      update();
      if (started) bar.stop();
    },
  };
}

function lineProgress(tally: Tally, startedAt: number, stream: NodeJS.WritableStream, everyMs: number): Progress {
  const timer = setInterval(() => {
    const left = tally.queued - tally.done - tally.failed;
    const perSecond = rate(tally, startedAt);
    const eta = tally.listed && perSecond > 0 ? `, ETA ${Math.ceil(left / perSecond)} s` : '';
    stream.write(
      `tag: ${tally.done} done, ${tally.failed} failed, ${tally.skipped} skipped, ` +
        `${left}${tally.listed ? '' : '+'} waiting, ${perSecond.toFixed(2)} images/s${eta}\n`,
    );
  }, everyMs);
  timer.unref();
  return { update: () => undefined, stop: () => clearInterval(timer) };
}

export function startProgress(tally: Tally, startedAt: number, everyMs = 10_000): Progress {
  const stream = process.stderr;
  return stream.isTTY ? barProgress(tally, startedAt, stream) : lineProgress(tally, startedAt, stream, everyMs);
}
