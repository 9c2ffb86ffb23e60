// The API key that --server clients send as `Authorization: Bearer KEY`: from TAGMAP_API_KEY, or read from
// --api-key-file (e.g. a mounted Secret). There is no --api-key flag: a key on a command line shows in `ps`
// and in shell history.
import { readFileSync } from 'node:fs';

export const API_KEY_ENV = 'TAGMAP_API_KEY';

export interface ApiKey {
  key: string;
  /** where the key came from, for messages: TAGMAP_API_KEY or the file */
  from: string;
}

/** What the server's Bearer parsing takes: one token of visible ASCII, no spaces or line breaks inside. */
const TOKEN = /^[\x21-\x7e]+$/;

function checked(text: string, from: string): ApiKey {
  const key = text.trim();
  if (key === '') throw new Error(`${from} holds no API key`);
  if (!TOKEN.test(key))
    throw new Error(`${from} must hold one API key, such as npm run key prints: no spaces or line breaks inside it`);
  return { key, from };
}

/**
 * The key from `file` (whitespace around it trimmed) or from TAGMAP_API_KEY (an empty value counts as unset);
 * undefined when neither is given. Throws an Error whose message names the source.
 */
export function readApiKey(file: string | undefined, env: NodeJS.ProcessEnv): ApiKey | undefined {
  const fromEnv = env[API_KEY_ENV]?.trim() ? env[API_KEY_ENV] : undefined;
  if (file !== undefined && fromEnv !== undefined)
    throw new Error(`give the API key once: --api-key-file or ${API_KEY_ENV}, not both`);
  if (fromEnv !== undefined) return checked(fromEnv, API_KEY_ENV);
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read --api-key-file ${file}: ${(error as Error).message}`, { cause: error });
  }
  return checked(text, `--api-key-file ${file}`);
}

/** The request header that carries the key, or none. */
export const authorization = (apiKey: ApiKey | undefined): Record<string, string> =>
  apiKey ? { authorization: `Bearer ${apiKey.key}` } : {};
