#!/usr/bin/env node
// Runs the Python interpreter that has PyTorch. Debian's python3-torch installs for /usr/bin/python3, while
// the python3 first on PATH may be another interpreter without it. TAGMAP_PYTHON overrides the choice.
import { spawnSync } from 'node:child_process';

const candidates = [process.env.TAGMAP_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean);
const hasTorch = (python) => spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
const python = candidates.find(hasTorch);
if (!python) {
  console.error(
    `No Python with PyTorch found (tried ${candidates.join(', ')}). ` +
      'Install it with: sudo apt-get install python3-torch python3-torchvision, or set TAGMAP_PYTHON.',
  );
  process.exit(2);
}
const result = spawnSync(python, process.argv.slice(2), { stdio: 'inherit' });
process.exit(result.status ?? 1);
