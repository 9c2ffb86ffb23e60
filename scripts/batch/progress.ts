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
}

export interface Progress {
  /** redraw (the bar) or nothing (plain lines come on a timer) */
  update(listing: boolean): void;
  stop(): void;
}

const rate = (tally: Tally, startedAt: number) => (tally.done + tally.failed) / Math.max(1e-3, (performance.now() - startedAt) / 1000);

export function summary(tally: Tally, startedAt: number): string {
  const seconds = (performance.now() - startedAt) / 1000;
  return `tag: ${tally.done} done, ${tally.failed} failed, ${tally.skipped} skipped ` +
    `in ${seconds.toFixed(1)} s (${rate(tally, startedAt).toFixed(2)} images/s)`;
}

function barProgress(tally: Tally, startedAt: number, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar({
    stream,
    format: '{bar} {value}/{total}{more} | {rate} images/s | ETA {eta_formatted} | {failed} failed, {skipped} skipped',
    hideCursor: true,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  const payload = (listing: boolean) => ({ more: listing ? '+' : '', rate: rate(tally, startedAt).toFixed(1), failed: tally.failed, skipped: tally.skipped });
  bar.start(0, 0, payload(true));
  return {
    update(listing) {
      bar.setTotal(tally.queued);
      bar.update(tally.done + tally.failed, payload(listing));
    },
    stop: () => bar.stop(),
  };
}

function lineProgress(tally: Tally, startedAt: number, stream: NodeJS.WritableStream, everyMs: number): Progress {
  const timer = setInterval(() => {
    const left = tally.queued - tally.done - tally.failed;
    stream.write(`tag: ${tally.done} done, ${tally.failed} failed, ${tally.skipped} skipped, ${left} waiting, ` +
      `${rate(tally, startedAt).toFixed(2)} images/s\n`);
  }, everyMs);
  timer.unref();
  return { update: () => undefined, stop: () => clearInterval(timer) };
}

export function startProgress(tally: Tally, startedAt: number, everyMs = 10_000): Progress {
  const stream = process.stderr;
  return stream.isTTY ? barProgress(tally, startedAt, stream) : lineProgress(tally, startedAt, stream, everyMs);
}
