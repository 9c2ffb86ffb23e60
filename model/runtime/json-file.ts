// A JSON file read and checked against its zod schema, every problem named by its field; cards and
// vocabularies are read this way at start-up.
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';

/** `fail` turns the problem (unreadable, not JSON, or the bad fields) into the caller's error type. */
export async function readCheckedJson<S extends z.ZodType>(
  file: string,
  schema: S,
  what: string,
  fail: (detail: string) => Error,
): Promise<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw fail(error instanceof Error ? error.message : String(error));
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw fail(`invalid ${what}: ${problems.join('; ')}`);
  }
  return parsed.data;
}
