// npm run lint:openapi: Redocly's recommended lint on the OpenAPI document server/openapi.ts builds (the one
// GET /openapi.json serves, with keys off and on), offline. Fails on any error or warning. Rule settings and
// exceptions: redocly.yaml.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openApiDocument } from '../server/openapi.ts';

interface LintReport {
  totals: { errors: number; warnings: number; ignored: number };
  problems: Array<{ ruleId: string; severity: string; message: string; location: Array<{ pointer?: string }> }>;
}

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);
const root = path.resolve(import.meta.dirname, '..');
const redocly = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'redocly.cmd' : 'redocly');

/** The document as served with keys off, and with keys and a rate on (security schemes, 401s and 429s). */
const DOCUMENTS = {
  'keys off': openApiDocument(),
  'keys on': openApiDocument({ keys: true, openRoutes: ['/healthz', '/readyz', '/metrics'], rateLimited: true }),
};

const folder = mkdtempSync(path.join(tmpdir(), 'tagmap-openapi-'));
try {
  for (const [variant, document] of Object.entries(DOCUMENTS)) {
    const file = path.join(folder, 'openapi.json');
    writeFileSync(file, JSON.stringify(document, null, 2));
    const run = spawnSync(
      redocly,
      ['lint', file, `--config=${path.join(root, 'redocly.yaml')}`, '--extends=recommended', '--format=json'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 120_000,
        env: {
          ...process.env,
          // no usage data, no version check against the npm registry, no announcements: nothing leaves the machine
          REDOCLY_TELEMETRY: 'off',
          REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
          REDOCLY_SUPPRESS_NOTIFICATIONS: 'true',
        },
      },
    );
    let report: LintReport | undefined;
    try {
      report = JSON.parse(run.stdout) as LintReport;
    } catch {
      report = undefined;
    }
    if (!report) {
      process.stderr.write(`redocly lint gave no report (exit ${run.status ?? run.signal ?? run.error?.message})\n`);
      process.stderr.write(`${run.stdout ?? ''}${run.stderr ?? ''}`);
      process.exitCode = 1;
    } else {
      for (const p of report.problems) {
        const where = p.location.map((l) => l.pointer ?? '').join(', ');
        console.error(`${p.severity} ${p.ruleId} at ${where}: ${p.message}`);
      }
      const { errors, warnings } = report.totals;
      const operations = Object.values(document.paths ?? {}).reduce(
        (n, item) => n + Object.keys(item ?? {}).filter((key) => METHODS.has(key)).length,
        0,
      );
      console.log(
        `openapi (${variant}): ${operations} operations, ${errors} errors, ${warnings} warnings (redocly recommended)`,
      );
      if (errors + warnings > 0 || run.status !== 0) process.exitCode = 1;
    }
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
