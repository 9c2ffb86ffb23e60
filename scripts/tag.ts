// `npm run tag -- INPUTS... [options]`: batch tagging. This shell parses the command line, turns signals
// into a stop, and maps the outcome to the exit code: 0 all inputs tagged, 1 some failed, 2 bad usage,
// 128 + signal number when stopped by SIGINT/SIGTERM (rows of finished inputs are kept; --resume goes on).
import { tagBatch } from './batch/batch.ts';
import { parseCommandLine, UsageError } from './batch/cli.ts';

const SIGNAL_NUMBERS = { SIGINT: 2, SIGTERM: 15 } as const;

function usageFailure(error: UsageError): number {
  process.stderr.write(`error: ${error.message}\n${error.help ? `\n${error.help}` : ''}`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  let cli;
  try {
    cli = parseCommandLine(argv, process.env);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error);
    throw error;
  }
  if (!cli.settings) {
    process.stdout.write(cli.info ?? '');
    return 0;
  }

  const stop = new AbortController();
  let stoppedBy: keyof typeof SIGNAL_NUMBERS | undefined;
  for (const signal of Object.keys(SIGNAL_NUMBERS) as Array<keyof typeof SIGNAL_NUMBERS>) {
    process.on(signal, () => {
      if (stoppedBy) process.exit(128 + SIGNAL_NUMBERS[signal]); // second signal: abandon what is in flight
      stoppedBy = signal;
      process.stderr.write(`\ntag: ${signal}: finishing the inputs in flight (send it again to abandon them)\n`);
      stop.abort();
    });
  }

  // rows on stdout into a pipe whose reader went away (`| head`): stop quietly, as a SIGPIPE would
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(128 + 13);
    throw error;
  });

  try {
    const end = await tagBatch(cli.settings, stop.signal);
    if (end.usageError) return usageFailure(new UsageError(`${end.usageError.code}: ${end.usageError.message}`));
    if (end.stopError) {
      process.stderr.write(
        `tag: stopped: ${end.stopError.code}: ${end.stopError.message}; run again with --resume to go on\n`,
      );
      return 1;
    }
    if (stoppedBy) return 128 + SIGNAL_NUMBERS[stoppedBy];
    return end.tally.failed > 0 ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(error);
    process.stderr.write(`tag: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

// exit explicitly: a list on a stdin that never ends would otherwise keep the process alive
process.exit(await main(process.argv.slice(2)));
