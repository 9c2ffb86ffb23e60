// The command line of `npm run tag`: commander parses and checks it into BatchSettings. Anything wrong is
// a UsageError (exit code 2, with the usage).
import { existsSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  CARD_TASKS,
  DEVICES,
  FUSE_MODES,
  LIMITS,
  SCORE_POOLINGS,
  VOCABULARY_MODES,
  defaultConfig,
  type Device,
  type TagOptions,
} from '../../model/index.ts';
import { readApiKey, type ApiKey } from './api-key.ts';
import { FORMAT_NAMES, type FormatName, type Task } from './formats.ts';
import { DEFAULT_RETRY } from './retry.ts';
import { parseShard, type Shard } from './shard.ts';

export class UsageError extends Error {
  constructor(
    message: string,
    readonly help = '',
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface BatchSettings {
  inputs: string[];
  task: Task;
  options: TagOptions;
  masksDir?: string;
  out?: string;
  format: FormatName;
  concurrency: number;
  resume: boolean;
  shard?: Shard;
  server?: URL;
  /** --server: the key to send, from TAGMAP_API_KEY or --api-key-file */
  apiKey?: ApiKey;
  retries: number;
  local: { modelsDir?: string; device?: Device; workers?: number; urlAllow: string[] };
}

const wholeNumber = (min: number) => (text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new InvalidArgumentError(`a whole number >= ${min} is needed.`);
  return value;
};

const { min: scoreMin, max: scoreMax } = LIMITS.minScore;
const score = (text: string) => {
  const value = Number(text);
  if (text.trim() === '' || !(value >= scoreMin && value <= scoreMax)) {
    throw new InvalidArgumentError(`a number from ${scoreMin} to ${scoreMax} is needed.`);
  }
  return value;
};

const numberList = (text: string) => {
  const values = text.split(',').map((s) => Number(s));
  if (values.some((v, n) => !Number.isFinite(v) || v <= 0 || text.split(',')[n].trim() === '')) {
    throw new InvalidArgumentError('comma-separated positive numbers are needed, e.g. 0.5,1,2.');
  }
  return values;
};

/** Comma-separated names; the option may also be repeated. */
const nameList = (text: string, previous: string[] = []) => [
  ...previous,
  ...text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

const serverUrl = (text: string) => {
  try {
    const url = new URL(text);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  throw new InvalidArgumentError('an http(s) URL of a running tagmap is needed, e.g. http://tagmap:8080.');
};

const shardOption = (text: string) => {
  try {
    return parseShard(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

function program(): Command {
  return new Command('npm run tag --')
    .description(
      'Tag images (files, folders, globs, URLs, lists) in-process or with a running tagmap; one output row per input.',
    )
    .argument('[inputs...]', 'files, folders (recursive), globs, http(s) URLs, - (list on stdin), @list.txt')
    .option('--model <name>', 'model to use (default: the default model for the task)')
    .option('--topK <n>', 'at most this many tags per image', wholeNumber(LIMITS.topK.min))
    .option('--minScore <x>', `keep tags scoring at least this (${scoreMin}..${scoreMax})`, score)
    .addOption(new Option('--pool <how>', 'how a class map becomes one score').choices(SCORE_POOLINGS))
    .option('--scales <list>', "scales relative to the model's short side, e.g. 0.5,1,2", numberList)
    .addOption(new Option('--fuse <how>', 'how maps of several scales are fused').choices(FUSE_MODES))
    .option('--maxSide <px>', 'scale images down to at most this long side first', wholeNumber(LIMITS.maxSide.min))
    .option(
      '--density <d>',
      'shift-and-stitch: d x d passes give cells every stride/d px',
      wholeNumber(LIMITS.density.min),
    )
    .option('--include <labels>', 'only these labels as tags (comma-separated, repeatable)', nameList)
    .option('--exclude <labels>', 'never these labels as tags (comma-separated, repeatable)', nameList)
    .addOption(
      new Option('--vocabulary <which>', "photo labels (the model's vocabulary) or raw classes").choices(
        VOCABULARY_MODES,
      ),
    )
    .addOption(
      new Option('--task <task>', 'tag, or parse (scene-parsing label PNGs into --masks)')
        .choices(CARD_TASKS)
        .default('tag'),
    )
    .option('--masks <dir>', 'folder for the label PNGs of --task parse (created if missing)')
    .option('--out <file>', 'output file (default: stdout)')
    .addOption(
      new Option('--format <format>', 'output format (default: csv when --out ends in .csv, else jsonl)').choices(
        FORMAT_NAMES,
      ),
    )
    .option(
      '--concurrency <n>',
      'inputs in flight at once (default: 2 x workers in-process, 4 with --server)',
      wholeNumber(1),
    )
    .option('--resume', 'skip inputs that already have a row in --out, append the rest')
    .option('--shard <I/N>', 'take only shard I of N (stable hash of each input)', shardOption)
    .option('--server <url>', 'send images to a running tagmap instead of running models here', serverUrl)
    .option('--api-key-file <file>', '--server: send the API key in this file (default: the env TAGMAP_API_KEY)')
    .option(
      '--retries <n>',
      `--server: retries on 503 and connection errors (default ${DEFAULT_RETRY.retries})`,
      wholeNumber(0),
    )
    .option(
      '--urlAllow <list>',
      'in-process: hosts, addresses or CIDR blocks whose URLs may be fetched although private',
      nameList,
    )
    .option('--models <dir>', 'in-process: folder of model folders (default: the bundled model/zoo)')
    .addOption(new Option('--device <device>', 'in-process: execution provider').choices(DEVICES))
    .option(
      '--workers <n>',
      'in-process: inference worker threads (default: one per two cores, at most 4)',
      wholeNumber(1),
    )
    .exitOverride();
}

export interface CliResult {
  settings?: BatchSettings;
  /** --help or --version text: print it and exit 0 */
  info?: string;
}

function settingsFrom(command: Command, env: NodeJS.ProcessEnv): BatchSettings {
  const o = command.opts();
  const inputs = command.args;
  const usage = (message: string) => new UsageError(message, command.helpInformation());
  if (inputs.length === 0) throw usage('no inputs given: name files, folders, globs, URLs, - or @list.txt');
  if (inputs.filter((i) => i === '-').length > 1) throw usage('- (stdin) may be given only once');
  const missingList = inputs.find((i) => i.startsWith('@') && !existsSync(i.slice(1)));
  if (missingList) throw usage(`list file ${missingList.slice(1)} does not exist`);
  if (o.resume && !o.out) throw usage('--resume needs --out FILE (the rows of the earlier run)');
  if (o.task === 'parse' && !o.masks) throw usage('--task parse needs --masks DIR for the label PNGs');
  if (o.task !== 'parse' && o.masks) throw usage('--masks is only for --task parse');
  if (o.server && (o.models || o.device || o.workers || o.urlAllow))
    throw usage('--models, --device, --workers and --urlAllow are for in-process runs, not with --server');
  if (o.apiKeyFile && !o.server) throw usage('--api-key-file is for --server runs; in-process runs need no key');
  let apiKey: ApiKey | undefined;
  try {
    apiKey = o.server ? readApiKey(o.apiKeyFile, env) : undefined;
  } catch (error) {
    throw usage((error as Error).message);
  }
  const format: FormatName = o.format ?? (/\.csv$/i.test(o.out ?? '') ? 'csv' : 'jsonl');
  const options: TagOptions = {
    model: o.model,
    topK: o.topK,
    minScore: o.minScore,
    pool: o.pool,
    scales: o.scales,
    fuse: o.fuse,
    maxSide: o.maxSide,
    density: o.density,
    include: o.include,
    exclude: o.exclude,
    vocabulary: o.vocabulary,
  };
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as TagOptions;
  return {
    inputs,
    task: o.task,
    options: defined,
    masksDir: o.masks,
    out: o.out,
    format,
    concurrency: o.concurrency ?? (o.server ? 4 : 2 * (o.workers ?? defaultConfig().workers)),
    resume: Boolean(o.resume),
    shard: o.shard,
    server: o.server,
    apiKey,
    retries: o.retries ?? DEFAULT_RETRY.retries,
    local: { modelsDir: o.models, device: o.device, workers: o.workers, urlAllow: o.urlAllow ?? [] },
  };
}

/**
 * Parses argv (without node and the script) and the TAGMAP_API_KEY of `env`; throws UsageError on anything
 * wrong.
 */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  const command = program();
  let info = '';
  command.configureOutput({ writeOut: (text) => void (info += text), writeErr: () => undefined });
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return { info };
      throw new UsageError(error.message.replace(/^error: /, ''), command.helpInformation());
    }
    throw error;
  }
  return { settings: settingsFrom(command, env) };
}
