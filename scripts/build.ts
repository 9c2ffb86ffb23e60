// `npm run build`: esbuild bundles the server, the batch CLI and the inference worker into dist/, so that the
// images run them with plain node, without a TypeScript loader. Packages stay external (the images install
// the production ones). dist/ sits one folder below the root, as server/ and model/ do, so the paths the code
// builds from import.meta.url (web/, package.json, model/zoo) resolve the same; the worker is named
// worker-entry.mjs, the file that model/runtime/worker-pool.ts starts from the folder it runs in.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const root = path.resolve(import.meta.dirname, '..');
const outdir = path.join(root, 'dist');
const result = await build({
  absWorkingDir: root,
  entryPoints: { server: 'server/main.ts', tag: 'scripts/tag.ts', 'worker-entry': 'model/runtime/worker.ts' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  outdir,
  outExtension: { '.js': '.mjs' },
  metafile: true,
  logLevel: 'warning',
});
// what each bundle imports: test/deploy/dockerfile.test.ts checks they are production dependencies
writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify(result.metafile));
