// The command-line convention of the one-shot scripts: --help exits 0, a usage error prints commander's
// message and the usage on stderr and exits 2 (failures of the work itself exit 1, in each script).
import { CommanderError, type Command } from 'commander';

export function parseOrExit(program: Command): Command {
  program.exitOverride().configureOutput({ outputError: (text, write) => write(text) });
  try {
    return program.parse();
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) process.exit(0);
    process.stderr.write(`\n${program.helpInformation()}`);
    process.exit(2);
  }
}
