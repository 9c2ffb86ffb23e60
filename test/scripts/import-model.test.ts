// The import-model and verify-model command lines: usage errors exit 2 with the usage, a good import prints its
// rewrites and checks, verify-model prints the numbers and fails (exit 1) when the golden file disagrees.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { labelsFile, scratchDir, sharedModel } from '../model/import-fixtures.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const scratch = scratchDir();
afterAll(() => scratch.remove());
const run = (script: string, args: string[]) =>
  spawnSync('node', ['--import', 'tsx', `scripts/${script}.ts`, ...args], { cwd: REPO, encoding: 'utf8' });

describe('npm run import-model', () => {
  it('exits 2 with the usage when a required option is missing or a value is bad', () => {
    const missing = run('import-model', [sharedModel('mnist-cntk.onnx'), '--name', 'x']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("required option '--labels <file>' not specified");
    expect(missing.stderr).toContain('Usage: import-model [options] <file>');
    const withRequired = (...extra: string[]) => [
      ...[sharedModel('mnist-cntk.onnx'), '--name', 'x', '--labels', 'l', '--out', 'o'],
      ...extra,
    ];
    const color = run('import-model', withRequired('--color', 'purple'));
    expect(color.status).toBe(2);
    expect(color.stderr).toContain("argument 'purple' is invalid. Allowed choices are rgb, bgr, gray.");
    const window = run('import-model', withRequired('--window', '-3'));
    expect(window.status).toBe(2);
    expect(window.stderr).toContain('expected a positive integer');
  });

  it('exits 1 with the reason when the model cannot be imported', () => {
    const result = run('import-model', [
      path.join(REPO, 'package.json'),
      '--name',
      'x',
      '--labels',
      'l',
      '--out',
      path.join(scratch.dir, 'x'),
    ]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^import-model: .*package\.json is not an ONNX model/);
  });

  it('imports a model, then verify-model prints the checks and catches a golden file that disagrees', () => {
    const out = path.join(scratch.dir, 'mnist');
    const labels = labelsFile(scratch.dir, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const imported = run('import-model', [
      sharedModel('mnist-cntk.onnx'),
      '--name',
      'mnist',
      '--labels',
      labels,
      '--out',
      out,
      '--pool',
      'max',
      '--scales',
      '1,2',
    ]);
    expect(imported.stderr).toBe('');
    expect(imported.status).toBe(0);
    expect(imported.stdout).toContain("rewrite: MatMul node 'Times212' + Add 'Plus214' (256 -> 10) -> Conv 10x16x4x4");
    expect(JSON.parse(readFileSync(path.join(out, 'card.json'), 'utf8')).defaults).toEqual({
      pool: 'max',
      scales: [1, 2],
    });

    const verified = run('verify-model', [out, '--original', sharedModel('mnist-cntk.onnx')]);
    expect(verified.status).toBe(0);
    expect(verified.stdout).toMatch(/ok +window 1x1 map +max \|diff\| \S+ \(tol \S+\) vs the original/);
    expect(verified.stdout).toMatch(/ok {3}golden case 1 /);

    const goldenFile = path.join(out, 'golden.json');
    const golden = JSON.parse(readFileSync(goldenFile, 'utf8'));
    golden.cases[1].output[0] += 1;
    writeFileSync(goldenFile, JSON.stringify(golden));
    const broken = run('verify-model', [out]);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toMatch(/FAIL golden case 2 +max \|diff\| 1\.00e\+0/);
  });
});
