// Test helpers: the real app on real bundled models (a missing model fails the suite), listening on an
// ephemeral port, with quiet logs and lean settings for the 2-core test machine.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { Tagmap } from '../../model/index.ts';
import { createTagmap } from '../../model/index.ts';
import { createApp, type AppDeps } from '../../server/app.ts';
import { loadConfig } from '../../server/config.ts';
import type { Lifecycle } from '../../server/routes/health.ts';
import { modelsFolder } from '../model/zoo.ts';

export { photo } from '../model/zoo.ts';
export const SHARED = path.resolve(import.meta.dirname, '../../../shared');
export const shared = (file: string) => readFileSync(path.join(SHARED, file));

export interface TestServer {
  app: ReturnType<typeof createApp>;
  tagmap: Tagmap;
  lifecycle: Lifecycle;
  /** base URL of the listening server, e.g. http://127.0.0.1:41234 */
  url: string;
  close(): Promise<void>;
}

/** Starts the app on the named bundled models; env holds settings exactly as the process would read them. */
export async function startServer(
  models: string[],
  env: Record<string, string> = {},
  extra: Pick<AppDeps, 'web'> = {},
): Promise<TestServer> {
  const folder = modelsFolder(models);
  const config = loadConfig({
    TAGMAP_MODELS: folder.dir,
    TAGMAP_DEVICE: 'cpu',
    TAGMAP_WORKERS: '1',
    TAGMAP_THREADS: '1',
    LOG_LEVEL: 'silent',
    ...env,
  });
  const tagmap = await createTagmap({ ...config.tagmap, logger: { info: () => undefined, warn: () => undefined } });
  await tagmap.ready();
  const lifecycle: Lifecycle = { draining: false };
  const app = createApp({
    tagmap,
    config,
    logger: pino({ level: 'silent' }),
    registry: new Registry(),
    lifecycle,
    ...extra,
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    app,
    tagmap,
    lifecycle,
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await tagmap.close();
      folder.remove();
    },
  };
}

/** A multipart upload of one file in field "image", through fetch. */
export function upload(
  url: string,
  bytes: Buffer,
  filename = 'image.jpg',
  headers: Record<string, string> = {},
): Promise<Response> {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)]), filename);
  return fetch(url, { method: 'POST', body: form, headers });
}

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });

/** A supertest parser that keeps a binary answer (a PNG, float32 bytes) as one Buffer; in Node, superagent
 * hands the parser the response stream itself. */
export function bodyBytes(stream: unknown, done: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  (stream as NodeJS.ReadableStream)
    .on('data', (c: Buffer) => chunks.push(c))
    .on('end', () => done(null, Buffer.concat(chunks)));
}
