// GET / and its assets. web/app.ts is bundled by esbuild into memory when the router is made (tens of ms), so
// `npm start` needs no build step and can never serve a stale bundle; index.html and style.css are served as
// they are. Everything comes from this server: the policy below lets the page talk to nothing else.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { Router } from 'express';

const WEB_DIR = fileURLToPath(new URL('../web/', import.meta.url));

/** Same origin only; blob: for showing the file the user chose, data: for the empty favicon. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const PAGE_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  // small files that change with every deploy: always revalidate (express answers 304 on a matching ETag)
  'Cache-Control': 'no-cache',
};

interface Asset {
  type: string;
  body: string | Buffer;
}

async function bundleScript(): Promise<string> {
  const result = await build({
    entryPoints: [`${WEB_DIR}app.ts`],
    bundle: true,
    format: 'esm',
    target: 'es2022',
    minify: true,
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** The page's routes; rejects (naming the file) when web/ cannot be read or bundled. */
export async function webRouter(): Promise<Router> {
  const [html, css, script] = await Promise.all([
    readFile(`${WEB_DIR}index.html`),
    readFile(`${WEB_DIR}style.css`),
    bundleScript(),
  ]);
  const assets: Record<string, Asset> = {
    '/': { type: 'text/html; charset=utf-8', body: html },
    '/style.css': { type: 'text/css; charset=utf-8', body: css },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: script },
  };
  const router = Router();
  for (const [route, asset] of Object.entries(assets)) {
    router.get(route, (_req, res) => {
      res.set(PAGE_HEADERS).type(asset.type).send(asset.body);
    });
  }
  return router;
}
