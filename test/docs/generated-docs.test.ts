// The reference tables in docs/ are made from the code (npm run docs); a page that no longer matches fails here.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DOCS_DIR, generateDocs } from '../../scripts/gen-docs.ts';

const copies: string[] = [];
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of docs/ to edit, brought up to date first so that each test sees only its own edit. */
function docsCopy(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-docs-'));
  copies.push(dir);
  cpSync(DOCS_DIR, dir, { recursive: true });
  generateDocs({ dir });
  return dir;
}

describe('generated docs', () => {
  it('docs/ holds every generated section and each matches the code (else run npm run docs)', () => {
    expect(generateDocs({ check: true })).toEqual({ stale: [], missing: [] });
  });

  it('a hand edit inside a generated table makes its page stale, and npm run docs puts it back', () => {
    const dir = docsCopy();
    const page = path.join(dir, 'configuration.md');
    const original = readFileSync(page, 'utf8');
    const edited = original.replace('| `TAGMAP_MAX_QUEUE` | 16 |', '| `TAGMAP_MAX_QUEUE` | 32 |');
    expect(edited).not.toBe(original);
    writeFileSync(page, edited);

    expect(generateDocs({ dir, check: true }).stale).toEqual(['configuration.md']);
    expect(readFileSync(page, 'utf8')).toBe(edited); // check mode writes nothing
    expect(generateDocs({ dir }).stale).toEqual(['configuration.md']);
    expect(readFileSync(page, 'utf8')).toBe(original);
  });

  it('text outside the markers is the writer’s own: editing it is not staleness', () => {
    const dir = docsCopy();
    const page = path.join(dir, 'http-api.md');
    writeFileSync(page, readFileSync(page, 'utf8').replace('# HTTP API', '# HTTP API (edited)'));
    expect(generateDocs({ dir, check: true }).stale).toEqual([]);
  });

  it('a page that lost its markers is reported as missing the section', () => {
    const dir = docsCopy();
    const page = path.join(dir, 'http-api.md');
    writeFileSync(page, readFileSync(page, 'utf8').replace(/<!-- \/?generated:errors -->/g, ''));
    expect(generateDocs({ dir, check: true }).missing).toEqual(['errors']);
  });

  it('an unclosed or unknown marker is an error naming the page', () => {
    const dir = docsCopy();
    const page = path.join(dir, 'configuration.md');
    writeFileSync(page, `${readFileSync(page, 'utf8')}\n<!-- generated:settings -->\n`);
    expect(() => generateDocs({ dir, check: true })).toThrow(/configuration\.md: .*no closing marker/);
    writeFileSync(page, '<!-- generated:colours -->\n<!-- /generated:colours -->\n');
    expect(() => generateDocs({ dir, check: true })).toThrow(/unknown generated section "colours"/);
  });
});
