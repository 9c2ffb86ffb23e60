// The command line's checks, in-process: every wrong option is a UsageError that names the option and
// what is allowed; good options arrive typed.
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../model/index.ts';
import { parseCommandLine, UsageError } from '../../scripts/batch/cli.ts';

const usageError = (argv: string[]) => {
  try {
    parseCommandLine(argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as UsageError).message;
  }
  throw new Error(`no usage error for ${argv.join(' ')}`);
};

describe('command line', () => {
  it('types the options and picks the format from the --out name', () => {
    const { settings } = parseCommandLine([
      'photos',
      '-',
      '--topK',
      '3',
      '--minScore',
      '0.2',
      '--scales',
      '0.5,1',
      '--include',
      'tabby,espresso',
      '--include',
      'cup',
      '--shard',
      '1/4',
      '--out',
      'rows.CSV',
      '--resume',
      '--pool',
      'mean',
    ]);
    expect(settings).toMatchObject({
      inputs: ['photos', '-'],
      task: 'tag',
      format: 'csv',
      resume: true,
      shard: { index: 1, count: 4 },
      out: 'rows.CSV',
      options: { topK: 3, minScore: 0.2, scales: [0.5, 1], include: ['tabby', 'espresso', 'cup'], pool: 'mean' },
    });
    expect(parseCommandLine(['a.jpg']).settings).toMatchObject({ format: 'jsonl', resume: false, options: {} });
  });

  it('keeps two inputs in flight per in-process worker, four with --server, unless told', () => {
    const workers = defaultConfig().workers;
    expect(parseCommandLine(['a.jpg']).settings!.concurrency).toBe(2 * workers);
    expect(parseCommandLine(['a.jpg', '--workers', '3']).settings!.concurrency).toBe(6);
    expect(parseCommandLine(['a.jpg', '--server', 'http://tagmap:8080']).settings!.concurrency).toBe(4);
    expect(parseCommandLine(['a.jpg', '--concurrency', '7']).settings!.concurrency).toBe(7);
  });

  it('names the option and the allowed values for bad values', () => {
    expect(usageError(['a.jpg', '--topK', '0'])).toMatch(
      /'--topK <n>' argument '0' is invalid\. a whole number >= 1 is needed/,
    );
    expect(usageError(['a.jpg', '--minScore', '1.5'])).toMatch(
      /'--minScore <x>' argument '1.5' is invalid\. a number from 0 to 1/,
    );
    expect(usageError(['a.jpg', '--scales', '1,,2'])).toMatch(/comma-separated positive numbers/);
    expect(usageError(['a.jpg', '--pool', 'median'])).toMatch(/Allowed choices are max, mean, topk/);
    expect(usageError(['a.jpg', '--format', 'xml'])).toMatch(/Allowed choices are jsonl, csv/);
    expect(usageError(['a.jpg', '--server', 'ftp://x'])).toMatch(/an http\(s\) URL of a running tagmap is needed/);
    expect(usageError(['a.jpg', '--shard', '4/4'])).toMatch(
      /--shard must be I\/N with N >= 1 and 0 <= I < N, e\.g\. 0\/4 \(got "4\/4"\)/,
    );
    expect(usageError(['a.jpg', '--shard', '1'])).toMatch(/--shard must be I\/N/);
    expect(usageError(['a.jpg', '--nonesuch'])).toMatch(/unknown option '--nonesuch'/);
  });

  it('refuses options that do not go together', () => {
    expect(usageError(['a.jpg', '--resume'])).toMatch(/--resume needs --out FILE/);
    expect(usageError(['a.jpg', '--task', 'parse'])).toMatch(/--task parse needs --masks DIR/);
    expect(usageError(['a.jpg', '--masks', 'm'])).toMatch(/--masks is only for --task parse/);
    expect(usageError(['a.jpg', '--server', 'http://tagmap:8080', '--workers', '2'])).toMatch(
      /are for in-process runs, not with --server/,
    );
    expect(usageError(['-', '-'])).toMatch(/- \(stdin\) may be given only once/);
    expect(usageError(['@/nonexistent/list.txt'])).toMatch(/list file \/nonexistent\/list.txt does not exist/);
    expect(usageError([])).toMatch(/no inputs given/);
  });

  it('answers --help with the usage', () => {
    expect(parseCommandLine(['--help']).info).toContain('Usage: npm run tag -- [options] [inputs...]');
  });
});
