// A client typed from /openapi.json compiles against real answers: openapi-typescript turns the served document
// into `paths` types, and every operation's real JSON (and a real 400 problem) is assigned, as a literal, to
// the type the document gives it. An object literal gets excess-property checks, so a field the server sends
// but the document lacks fails, as does a documented required field it does not send or a wrong type.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { photo, postJson, shared, startServer, upload, type TestServer } from './server.ts';

let server: TestServer;
let folder: string;

beforeAll(async () => {
  server = await startServer(['imagenet', 'camvid']);
  folder = mkdtempSync(path.join(tmpdir(), 'tagmap-openapi-client-'));
});
afterAll(async () => {
  await server?.close();
  if (folder) rmSync(folder, { recursive: true, force: true });
});

/** One real answer and the `paths` type the document gives it. */
interface Sample {
  name: string;
  type: string;
  value: unknown;
}

const JSON_TYPE = 'application/json';
const PROBLEM = 'application/problem+json';

/** `paths[route][method]['responses'][status]['content'][media]`, as TypeScript source. */
const typeOf = (route: string, method: string, status = 200, media = status < 400 ? JSON_TYPE : PROBLEM) =>
  `paths['${route}']['${method}']['responses'][${status}]['content']['${media}']`;

/** The answer's body, checked for the status and media type the sample says. */
async function sample(name: string, type: string, answer: Promise<Response>, status = 200, media = JSON_TYPE) {
  const res = await answer;
  const text = await res.text();
  expect(res.status, `${name}: ${text.slice(0, 500)}`).toBe(status);
  expect(res.headers.get('content-type')).toContain(media);
  return { name, type, value: media.endsWith('json') ? JSON.parse(text) : text };
}

async function realAnswers(url: string): Promise<Sample[]> {
  const get = (route: string) => fetch(`${url}${route}`);
  const cat = photo('chelsea.png');
  const street = shared('data/camvid/test/images/0001TP_008550.jpg');
  const classmapRequest = { model: 'camvid', maxSide: 160, imageBase64: photo('coffee.png').toString('base64') };
  const model = '/v1/models/{name}';
  return [
    await sample('models', typeOf('/v1/models', 'get'), get('/v1/models')),
    await sample('card', typeOf(model, 'get'), get('/v1/models/camvid')),
    await sample('tags', typeOf('/v1/tags', 'post'), upload(`${url}/v1/tags?topK=5`, cat, 'chelsea.png')),
    await sample(
      'parse',
      typeOf('/v1/parse', 'post'),
      upload(`${url}/v1/parse?model=camvid&format=json`, street, 'street.jpg'),
    ),
    {
      name: 'classmapRequest',
      type: `paths['/v1/classmap']['post']['requestBody']['content']['${JSON_TYPE}']`,
      value: classmapRequest,
    },
    await sample('classmap', typeOf('/v1/classmap', 'post'), postJson(`${url}/v1/classmap`, classmapRequest)),
    await sample('health', typeOf('/healthz', 'get'), get('/healthz')),
    await sample('ready', typeOf('/readyz', 'get'), get('/readyz')),
    await sample('metrics', typeOf('/metrics', 'get', 200, 'text/plain'), get('/metrics'), 200, 'text/plain'),
    await sample(
      'badOptions',
      typeOf('/v1/tags', 'post', 400),
      upload(`${url}/v1/tags?topK=0`, cat, 'chelsea.png'),
      400,
      PROBLEM,
    ),
    await sample('unknownModel', typeOf(model, 'get', 404), get('/v1/models/nope'), 404, PROBLEM),
    // the two 400s the document gives GET /v1/models/{name}: a name over 64 characters, a bad percent-encoding
    await sample('longName', typeOf(model, 'get', 400), get(`/v1/models/${'a'.repeat(65)}`), 400, PROBLEM),
    await sample('badEncoding', typeOf(model, 'get', 400), get('/v1/models/%E0%A4%A'), 400, PROBLEM),
  ];
}

/** Type-checks the files the way a strict client project would; returns the diagnostics, formatted. */
function typecheck(files: string[]): string {
  const program = ts.createProgram(files, {
    noEmit: true,
    strict: true,
    exactOptionalPropertyTypes: false,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    lib: ['lib.es2022.d.ts'],
    types: [],
    skipLibCheck: true,
  });
  return ts.formatDiagnostics(ts.getPreEmitDiagnostics(program), {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => folder,
    getNewLine: () => '\n',
  });
}

it('a client typed by openapi-typescript from /openapi.json compiles against the real responses', async () => {
  const { value: document } = await sample('document', '', fetch(`${server.url}/openapi.json`));
  const api = path.join(folder, 'api.ts');
  writeFileSync(api, astToString(await openapiTS(document as OpenAPI3, { silent: true })));

  const samples = await realAnswers(server.url);
  const check = path.join(folder, 'check.ts');
  writeFileSync(
    check,
    [
      "import type { paths } from './api.ts';",
      ...samples.map((s) => `export const ${s.name}: ${s.type} = ${JSON.stringify(s.value, null, 1)};`),
      '',
    ].join('\n'),
  );

  expect(typecheck([check])).toBe('');
});
