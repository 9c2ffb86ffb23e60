// Test helper: Debian's Chromium driven by playwright-core, headless, with a fresh profile and nothing that
// phones home, plus a watch on the page: every request that leaves the server, every error it throws or logs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface WatchedBrowser {
  context: BrowserContext;
  /** a new page; its requests to anything but the allowed origins and its errors are recorded */
  open(viewport?: { width: number; height: number }): Promise<Page>;
  /** URLs requested from anywhere but the server (blob: and data: are the page's own) */
  outside: string[];
  /** lets pages also talk to another server of the test (a second app on other models) */
  allow(origin: string): void;
  /** uncaught exceptions and console errors, except the browser's own notes of 4xx/5xx answers */
  errors: string[];
  /** statuses of the answers the browser noted as failed loads ("Failed to load resource: ... status of 400") */
  failedLoads: number[];
  close(): Promise<void>;
}

export async function launchBrowser(origin: string): Promise<WatchedBrowser> {
  const profile = mkdtempSync(path.join(tmpdir(), 'tagmap-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  const outside: string[] = [];
  const errors: string[] = [];
  const failedLoads: number[] = [];
  const origins = new Set([origin]);
  return {
    context,
    outside,
    errors,
    failedLoads,
    allow: (other) => void origins.add(other),
    async open(viewport) {
      const page = await context.newPage();
      if (viewport) await page.setViewportSize(viewport);
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (url.protocol !== 'blob:' && url.protocol !== 'data:' && !origins.has(url.origin))
          outside.push(request.url());
      });
      page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() !== 'error') return;
        const failedLoad = /^Failed to load resource: the server responded with a status of (\d+)/.exec(message.text());
        if (failedLoad) failedLoads.push(Number(failedLoad[1]));
        else errors.push(`console: ${message.text()}`);
      });
      return page;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
