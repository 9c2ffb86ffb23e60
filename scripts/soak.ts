// `npm run soak -- --minutes N [--seconds N] [--server URL] [--json FILE]`: mixed traffic against a server
// for a while (scripts/soak/), watching its memory, descriptors and event loop. Prints a report, writes it
// as JSON, and exits 1 when a gate fails (RSS up more than 50 MB after the warm-up, median against median;
// descriptors up; a 5xx other than 503; an answer a request must not get), 2 on bad usage.
// docs/reliability.md explains it.
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { positiveInteger, positiveNumber } from './cli-numbers.ts';
import { parseOrExit } from './parse-or-exit.ts';
import { printReport } from './soak/report.ts';
import { runSoak } from './soak/run.ts';

interface Options {
  minutes?: number;
  seconds?: number;
  server?: string;
  json?: string;
  models: string[];
  photos?: string;
  clients: number;
  burst: number;
  urls: boolean;
}

const list = (value: string) => value.split(',').filter(Boolean);

const program = new Command('npm run soak --')
  .description('mixed traffic against a tagmap server; reports memory, descriptors, event-loop delay, latency')
  .option('--minutes <n>', 'how long to run', positiveNumber)
  .option('--seconds <n>', 'how long to run, in seconds (added to --minutes)', positiveNumber)
  .option('--server <url>', 'soak a running server (default: start server/main.ts here)')
  .option('--json <file>', 'write the report as JSON')
  .option('--models <names>', 'bundled models the started server loads (comma-separated)', list, ['imagenet'])
  .option('--photos <dir>', 'folder of photos to upload (default: sizes made from an image in the repository)')
  .option('--clients <n>', 'concurrent clients in the mix', positiveInteger, 4)
  .option('--burst <n>', 'uploads sent at once every 5 s, more than the workers and queue hold', positiveInteger, 12)
  .option('--no-urls', 'no URL inputs (the server cannot reach this machine, or does not allow 127.0.0.1)');

const options = parseOrExit(program).opts<Options>();
const seconds = (options.minutes ?? 0) * 60 + (options.seconds ?? 0);
if (seconds <= 0) {
  process.stderr.write(`error: give --minutes or --seconds\n\n${program.helpInformation()}`);
  process.exit(2);
}

const reason = (error: unknown) => {
  const cause = (error as { cause?: unknown }).cause;
  return `${(error as Error).message}${cause instanceof Error ? `: ${cause.message}` : ''}`;
};
const report = await runSoak({ ...options, seconds, log: (line) => process.stderr.write(`${line}\n`) }).catch(
  (error: unknown) => {
    process.stderr.write(`soak: ${reason(error)}\n`);
    process.exit(1);
  },
);
printReport(report, (text) => process.stdout.write(text));
if (options.json) writeFileSync(options.json, `${JSON.stringify(report, null, 2)}\n`);
process.exit(report.failures.length > 0 ? 1 : 0);
