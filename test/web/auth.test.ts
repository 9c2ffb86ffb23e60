// The web page with keys on, in headless Chromium: the real app on the bundled fashion model (small: quick to start) with a keys file.
// The page loads, is refused its model list (401), asks for a key, forgets a wrong one, and with the right one
// lists the models and tags a photo, sending the key as Authorization: Bearer. The key lives in sessionStorage:
// it survives a reload of the tab, and a new tab asks again.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashKey, makeKey } from '../../server/auth-keys.ts';
import { webRouter } from '../../server/web.ts';
import { SHARED, startServer, type TestServer } from '../server/server.ts';
import { launchBrowser, type WatchedBrowser } from './browser.ts';

const CHELSEA = path.join(SHARED, 'photos/chelsea.png');
const dir = mkdtempSync(path.join(tmpdir(), 'tagmap-web-auth-'));
const key = makeKey();

let server: TestServer;
let browser: WatchedBrowser;

beforeAll(async () => {
  const keysFile = path.join(dir, 'keys.json');
  writeFileSync(keysFile, JSON.stringify({ keys: [{ name: 'browser', sha256: hashKey(key) }] }));
  server = await startServer(['fashion'], { TAGMAP_API_KEYS_FILE: keysFile }, { web: await webRouter() });
  browser = await launchBrowser(server.url);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => {
  const { outside, errors } = browser;
  expect({ outside: outside.splice(0), errors: errors.splice(0) }).toEqual({ outside: [], errors: [] });
});

const storedKey = (page: Page) => page.evaluate(() => sessionStorage.getItem('tagmap.apiKey'));

async function expectKeyPrompt(page: Page): Promise<void> {
  await page.getByLabel('API key').waitFor({ state: 'visible' });
  await expect(page.getByLabel('API key').evaluate((input) => input === document.activeElement)).resolves.toBe(true);
  await expect(page.locator('#model').isDisabled()).resolves.toBe(true);
}

describe('a server that needs a key', () => {
  it('asks for the key, refuses a wrong one, and with the right one tags a photo', async () => {
    const page = await browser.open();
    const sentKeys: Array<string | undefined> = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.startsWith('/v1/')) sentKeys.push(request.headers().authorization);
    });
    await page.goto(server.url);
    await expectKeyPrompt(page);
    await expect(page.locator('#error-text').textContent()).resolves.toContain('This server needs an API key');
    expect(browser.failedLoads.splice(0)).toEqual([401]);

    await page.getByLabel('API key').fill(makeKey());
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.locator('#error-detail').filter({ hasText: 'that API key is not valid' }).waitFor();
    await expectKeyPrompt(page);
    expect(await storedKey(page)).toBeNull();
    expect(browser.failedLoads.splice(0)).toEqual([401]);

    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.locator('#model:enabled').waitFor();
    expect(await page.getByLabel('API key').isHidden()).toBe(true);
    expect(await page.locator('#error').isHidden()).toBe(true);
    expect(await storedKey(page)).toBe(key);

    await page.getByLabel('Image file').setInputFiles(CHELSEA);
    await page.getByRole('status').filter({ hasText: 'maps drawn' }).waitFor({ timeout: 20_000 });
    await expect(page.locator('#ran').textContent()).resolves.toMatch(/fashion 1\.0\.0 .* ran on cpu/);
    expect(await page.locator('#tags .tag').count()).toBeGreaterThan(0);
    expect(browser.failedLoads.splice(0)).toEqual([]);
    // the first model list went without a key, the wrong key's was refused; every call since carried the right one
    expect(sentKeys.slice(0, 2)).toEqual([undefined, expect.stringMatching(/^Bearer tgm_/)]);
    expect(sentKeys.slice(2).length).toBeGreaterThanOrEqual(3); // models, tags, class map
    expect(new Set(sentKeys.slice(2))).toEqual(new Set([`Bearer ${key}`]));

    // sessionStorage: a reload of the tab keeps the key, a new tab does not have it
    await page.reload();
    await page.locator('#model:enabled').waitFor();
    expect(await page.getByLabel('API key').isHidden()).toBe(true);
    const other = await browser.open();
    await other.goto(server.url);
    await expectKeyPrompt(other);
    expect(browser.failedLoads.splice(0)).toEqual([401]);
    await other.close();
    await page.close();
  });
});
