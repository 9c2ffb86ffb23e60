// API keys and the file that holds their hashes (TAGMAP_API_KEYS_FILE, written by `npm run key`). A key is 32
// random bytes, so a plain sha256 of it cannot be reversed or guessed: a slow password hash (scrypt, argon2)
// guards low-entropy secrets and would only cost time on every request here.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';

const KEY_PREFIX = 'tgm_';

/** Names go into logs and metric labels: short, plain and unique. */
export const keyNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][\w.-]{0,63}$/,
    'a name is 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit',
  );

const keyEntrySchema = z.strictObject({
  name: keyNameSchema,
  sha256: z.string().regex(/^[0-9a-f]{64}$/, "must be the key's sha256 as 64 lower-case hex digits"),
  ratePerSec: z.number().min(0).max(1_000_000).optional().describe("this key's requests per second (0: no limit)"),
  burst: z.number().int().min(0).max(1_000_000).optional().describe("this key's burst"),
});

export type ApiKey = z.infer<typeof keyEntrySchema>;

const keysFileSchema = z.strictObject({ keys: z.array(keyEntrySchema) }).superRefine(({ keys }, ctx) => {
  const seen = new Map<string, number>();
  keys.forEach((key, i) => {
    for (const [field, value] of [
      ['name', key.name],
      ['sha256', key.sha256],
    ] as const) {
      const first = seen.get(`${field}:${value}`);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path: ['keys', i, field], message: `the same ${field} as keys[${first}]` });
      else seen.set(`${field}:${value}`, i);
    }
  });
});

export type KeysFile = z.infer<typeof keysFileSchema>;

/** A new key: "tgm_" and 32 random bytes in base64url. */
export const makeKey = () => `${KEY_PREFIX}${randomBytes(32).toString('base64url')}`;

export const hashKey = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex');

/** "keys[1] (bob).sha256: ..." for each issue. */
function describeIssues(error: z.ZodError, data: unknown): string {
  const keys = (data as { keys?: Array<{ name?: unknown }> } | undefined)?.keys;
  return error.issues
    .map((issue) => {
      const [top, index, ...rest] = issue.path;
      if (top !== 'keys' || typeof index !== 'number') return `${issue.path.join('.') || 'the file'}: ${issue.message}`;
      const name = keys?.[index]?.name;
      const entry = `keys[${index}]${typeof name === 'string' ? ` (${name})` : ''}`;
      return `${[entry, ...rest].join('.')}: ${issue.message}`;
    })
    .join('; ');
}

/** Parses the text of a keys file; throws an Error whose message says which entry is wrong and why. */
export function parseKeysFile(text: string): KeysFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON (${(error as Error).message}); expected {"keys": [{"name": ..., "sha256": ...}]}`, {
      cause: error,
    });
  }
  const parsed = keysFileSchema.safeParse(data);
  if (!parsed.success) throw new Error(describeIssues(parsed.error, data));
  return parsed.data;
}

/** Reads the keys the server accepts; an empty list is refused, since it would lock every caller out. */
export function readKeysFile(file: string): ApiKey[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read it: ${(error as Error).message}`, { cause: error });
  }
  const { keys } = parseKeysFile(text);
  if (keys.length === 0) throw new Error('it holds no keys; add one with npm run key -- NAME --file FILE');
  return keys;
}
