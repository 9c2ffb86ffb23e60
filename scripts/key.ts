// npm run key -- NAME --file FILE [--rate N] [--burst N]
// Makes an API key, adds its name and sha256 (never the key) to the keys file that TAGMAP_API_KEYS_FILE names,
// and prints the key once, as the last line of stdout. The file is replaced whole through a temporary file and
// a rename, so a reader (or a crash) never sees half of it; it is readable by its owner only.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { hashKey, keyNameSchema, makeKey, parseKeysFile, type ApiKey, type KeysFile } from '../server/auth-keys.ts';
import { parseOrExit } from './parse-or-exit.ts';

const number = (whole: boolean) => (value: string) => {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || (whole && !Number.isInteger(n)))
    throw new InvalidArgumentError(whole ? 'expected a whole number, 0 or more' : 'expected a number, 0 or more');
  return n;
};

const program = new Command('key')
  .description('Make an API key: its hash goes into the keys file, the key itself is printed once.')
  .argument('<name>', 'who the key is for; it appears in logs and metrics, e.g. alice or photo-importer')
  .requiredOption('--file <file>', 'the keys file (TAGMAP_API_KEYS_FILE); made when missing')
  .option('--rate <perSec>', "this key's requests per second (default: TAGMAP_RATE_PER_SEC)", number(false))
  .option('--burst <n>', "this key's burst (default: TAGMAP_RATE_BURST)", number(true));

parseOrExit(program);

const [name] = program.args;
const { file, rate, burst } = program.opts<{ file: string; rate?: number; burst?: number }>();

function fail(message: string, exitCode: number): never {
  process.stderr.write(`key: ${message}\n`);
  process.exit(exitCode);
}

const validName = keyNameSchema.safeParse(name);
if (!validName.success) fail(`bad name "${name}": ${validName.error.issues[0]!.message}`, 2);

let existing: KeysFile = { keys: [] };
if (existsSync(file)) {
  try {
    existing = parseKeysFile(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`${file}: ${(error as Error).message}`, 1);
  }
}
if (existing.keys.some((entry) => entry.name === name))
  fail(`${file} already has a key named "${name}"; choose another name, or remove that entry first`, 1);

const key = makeKey();
const entry: ApiKey = {
  name,
  sha256: hashKey(key),
  ...(rate !== undefined && { ratePerSec: rate }),
  ...(burst !== undefined && { burst }),
};
const temporary = `${file}.${process.pid}.tmp`;
writeFileSync(temporary, `${JSON.stringify({ keys: [...existing.keys, entry] }, null, 2)}\n`, {
  mode: 0o600,
  flag: 'wx',
});
renameSync(temporary, file);

const limits = [rate !== undefined && `${rate} requests/s`, burst !== undefined && `burst ${burst}`].filter(Boolean);
console.log(`added the key "${name}" to ${file}${limits.length ? ` (${limits.join(', ')})` : ''}.`);
console.log('Restart the server to accept it. The key is shown this once; keep it secret:');
console.log(key);
