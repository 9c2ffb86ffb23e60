// The web page end to end: the real app on the bundled imagenet and camvid models (and, for the combined
// default, a second app on imagenet and voc), the page bundled by server/web.ts, driven in headless Chromium. A screenshot of each state is kept in test-results/.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { webRouter } from '../../server/web.ts';
import { SHARED, startServer, type TestServer } from '../server/server.ts';
import { launchBrowser, type WatchedBrowser } from './browser.ts';

const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-results');
const CAMVID_STREET = path.join(SHARED, 'data/camvid/test/images/0001TP_008550.jpg');
const CHELSEA = path.join(SHARED, 'photos/chelsea.png');
const ROCKET = path.join(SHARED, 'photos/rocket.jpg');
const ASTRONAUT = path.join(SHARED, 'photos/astronaut.png');

let server: TestServer;
let browser: WatchedBrowser;
/** serves chelsea.png as the one image URL tagmap may fetch (allowed by the host name "localhost") */
let imageHost: Server;
let imageUrl: string;

beforeAll(async () => {
  server = await startServer(['imagenet', 'camvid'], { TAGMAP_URL_ALLOW: 'localhost' }, { web: await webRouter() });
  browser = await launchBrowser(server.url);
  mkdirSync(ARTIFACTS, { recursive: true });
  const chelsea = readFileSync(CHELSEA);
  imageHost = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(chelsea));
  await new Promise<void>((resolve) => imageHost.listen(0, '127.0.0.1', resolve));
  imageUrl = `http://localhost:${(imageHost.address() as AddressInfo).port}/chelsea.png`;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  imageHost?.close();
});

/** The refusals a test expects the browser to have seen, taken out so afterEach finds no others. */
const takeFailedLoads = () => browser.failedLoads.splice(0);

afterEach(() => {
  const { outside, errors, failedLoads } = browser;
  const seen = { outside: outside.splice(0), errors: errors.splice(0), failedLoads: failedLoads.splice(0) };
  expect(seen, 'requests that left the server, page errors, unexpected refusals').toEqual({
    outside: [],
    errors: [],
    failedLoads: [],
  });
});

async function openPage(viewport?: { width: number; height: number }): Promise<Page> {
  const page = await browser.open(viewport);
  await page.goto(server.url);
  await page.locator('#model:enabled').waitFor();
  return page;
}

/** Share of the overlay's pixels that are drawn (alpha > 0), and how many distinct colours they use. */
const overlayInk = (page: Page) =>
  page.$eval('#overlay', (canvas) => {
    const { width, height } = canvas as HTMLCanvasElement;
    const data = (canvas as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, width, height).data;
    let drawn = 0;
    const colours = new Set<number>();
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3]! > 0) drawn++;
      colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    }
    return { width, height, drawn: drawn / (width * height), colours: colours.size };
  });

const screenshot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, name), fullPage: true });

describe('the page itself', () => {
  it('is served with a self-only content security policy and the bundled script', async () => {
    const response = await fetch(`${server.url}/`);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).toContain("connect-src 'self'");
    expect(await response.text()).toContain('<script type="module" src="/app.js">');
    const script = await fetch(`${server.url}/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await script.text()).length).toBeGreaterThan(1000);
  });

  it('labels every control and lists the models from /v1/models', async () => {
    const page = await openPage();
    const unlabelled = await page.$$eval('input, select, button', (controls) =>
      controls.filter((c) => !(c as HTMLInputElement).labels?.length && !c.textContent?.trim()).map((c) => c.outerHTML),
    );
    expect(unlabelled).toEqual([]);
    const options = await page.$$eval('#model option', (list) =>
      list.map((o) => [(o as HTMLOptionElement).value, (o as HTMLOptionElement).selected]),
    );
    expect(options).toEqual([
      ['camvid', false],
      ['imagenet', true],
    ]);
    await page.close();
  });
});

describe('tagging a chosen photo', () => {
  it('shows plausible tags with scores and draws the top tag’s heat map within seconds', async () => {
    const page = await openPage();
    const started = Date.now();
    await page.getByLabel('Image file').setInputFiles(CHELSEA);
    await page.getByRole('status').filter({ hasText: 'maps drawn' }).waitFor({ timeout: 10_000 });
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeLessThan(10);

    const tags = await page.$$eval('#tags .tag', (buttons) =>
      buttons.map((b) => ({
        name: b.querySelector('.name')!.textContent,
        score: Number(b.querySelector('.score')!.textContent),
        about: b.querySelector('.about')!.textContent,
      })),
    );
    expect(tags.length).toBeGreaterThan(0);
    expect(tags[0]!.about).toContain('cat'); // chelsea is a cat: WordNet parents say so
    for (const { score } of tags) {
      expect(score).toBeGreaterThan(0);
      expect(score).toBeLessThanOrEqual(1);
    }
    expect(tags.map((t) => t.score)).toEqual([...tags.map((t) => t.score)].sort((a, b) => b - a));

    // the overlay is in image pixels and holds a heat map (many shades), not an empty canvas or a flat fill
    const ink = await overlayInk(page);
    expect([ink.width, ink.height]).toEqual([451, 300]);
    expect(ink.drawn).toBeGreaterThan(0.2);
    expect(ink.colours).toBeGreaterThan(50);
    await expect(page.locator('#caption').textContent()).resolves.toContain(`Heat map of “${tags[0]!.name}”`);
    await expect(page.locator('#tags .tag').first().getAttribute('aria-pressed')).resolves.toBe('true');
    await expect(page.locator('#ran').textContent()).resolves.toMatch(/imagenet 1\.0\.0 .* ran on cpu/);
    expect(await page.locator('#timings dt').allTextContents()).toEqual(['tags', 'class map']);
    await screenshot(page, 'web-page-tags.png');
    await page.close();
  });

  it('shows photo tags ("cat") and, when asked, the raw classes behind each with their scores', async () => {
    const page = await openPage();
    await page.getByLabel('Image file').setInputFiles(CHELSEA);
    await page.getByRole('status').filter({ hasText: 'maps drawn' }).waitFor({ timeout: 10_000 });
    const first = page.locator('#tags .tag').first();
    expect(await first.locator('.name').textContent()).toBe('cat');
    expect(await first.locator('.classes').isVisible()).toBe(false);
    await page.getByLabel('Show the raw classes behind each tag').check();
    expect(await first.locator('.classes').isVisible()).toBe(true);
    expect(await first.locator('.classes').textContent()).toMatch(
      /^Egyptian cat 0\.\d\d · [\w ]*cat 0\.\d\d · \w[\w ]* 0\.\d\d/,
    );
    await screenshot(page, 'web-page-raw-classes.png');
    await page.close();
  });

  it('tags an image named by URL, drawing its maps on a dark frame since the page fetches nothing itself', async () => {
    const page = await openPage();
    await page.getByLabel('Image URL').fill(imageUrl);
    await page.getByRole('button', { name: 'Tag it' }).click();
    await page.getByRole('status').filter({ hasText: 'maps drawn' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#tags .tag .about').first().textContent()).toContain('cat');
    expect(await page.locator('#photo').isHidden()).toBe(true);
    const ink = await overlayInk(page);
    expect([ink.width, ink.height]).toEqual([451, 300]);
    expect(ink.colours).toBeGreaterThan(50);
    await page.close();
  });

  it('takes an image file dropped on the page', async () => {
    const page = await openPage();
    const base64 = readFileSync(path.join(SHARED, 'photos/rocket.jpg')).toString('base64');
    const dataTransfer = await page.evaluateHandle((bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(
        new File([Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0))], 'rocket.jpg', { type: 'image/jpeg' }),
      );
      return transfer;
    }, base64);
    await page.dispatchEvent('main', 'dragover', { dataTransfer });
    expect(await page.locator('#drop').getAttribute('class')).toContain('dragging');
    await page.dispatchEvent('main', 'drop', { dataTransfer });
    await page
      .getByRole('status')
      .filter({ hasText: 'rocket.jpg' })
      .filter({ hasText: 'maps drawn' })
      .waitFor({ timeout: 10_000 });
    expect(await page.locator('#tags .tag').count()).toBeGreaterThan(0);
    expect(await page.$eval('#file', (input) => (input as HTMLInputElement).files?.[0]?.name)).toBe('rocket.jpg');
    expect(await page.locator('#drop').getAttribute('class')).not.toContain('dragging');
    await page.close();
  });

  it('draws the scene map with its legend for a scene model', async () => {
    const page = await openPage();
    await page.getByLabel('Model').selectOption('camvid');
    await page.getByLabel('Image file').setInputFiles(CAMVID_STREET);
    await page.getByRole('status').filter({ hasText: 'maps drawn' }).waitFor({ timeout: 10_000 });
    const legend = await page.$$eval('#legend li', (items) =>
      items.map((li) => ({
        name: li.querySelector('.name')!.textContent!,
        share: parseFloat(li.querySelector('.score')!.textContent!),
      })),
    );
    expect(legend.map((entry) => entry.name)).toEqual(expect.arrayContaining(['road', 'building']));
    const total = legend.reduce((sum, entry) => sum + entry.share, 0);
    expect(total).toBeGreaterThan(97);
    expect(total).toBeLessThan(103);
    // the scene map covers every pixel, in as many colours as the legend has classes
    const ink = await overlayInk(page);
    expect(ink.drawn).toBe(1);
    expect(ink.colours).toBe(legend.length);
    await expect(page.locator('#caption').textContent()).resolves.toContain('Scene map');
    expect(await page.locator('#timings dt').allTextContents()).toEqual(['tags', 'class map', 'scene map']);
    await screenshot(page, 'web-page-scene.png');
    await page.close();
  });
});

describe('the combined default (imagenet + voc)', () => {
  let combined: TestServer;
  beforeAll(async () => {
    combined = await startServer(['imagenet', 'voc'], {}, { web: await webRouter() });
    browser.allow(combined.url);
  });
  afterAll(() => combined?.close());

  it('offers the combination first, sends no model, and says which models found each tag', async () => {
    const page = await browser.open();
    await page.goto(combined.url);
    await page.locator('#model:enabled').waitFor();
    const options = await page.$$eval('#model option', (list) =>
      list.map((o) => [(o as HTMLOptionElement).value, (o as HTMLOptionElement).selected, o.textContent]),
    );
    expect(options[0]).toEqual(['imagenet+voc', true, 'imagenet + voc: tags with people (default)']);
    expect(options.slice(1).map(([value, selected]) => [value, selected])).toEqual([
      ['imagenet', false],
      ['voc', false],
    ]);

    const asked: string[] = [];
    page.on('request', (request) => asked.push(request.url().replace(combined.url, '')));
    await page.getByLabel('Image file').setInputFiles(ASTRONAUT);
    await page.getByRole('status').filter({ hasText: 'maps drawn' }).waitFor({ timeout: 20_000 });
    // the tags name no model (the server combines), the heat maps are the tagger's, and there is no scene map
    expect(asked.filter((url) => url.startsWith('/v1/'))).toEqual(
      expect.arrayContaining(['/v1/tags?', '/v1/classmap?model=imagenet']),
    );
    expect(asked.some((url) => url.startsWith('/v1/parse'))).toBe(false);
    expect(await page.locator('#scene').isHidden()).toBe(true);

    const person = page.locator('#tags .tag').filter({ has: page.locator('.name', { hasText: /^person$/ }) });
    expect(await person.count()).toBe(1);
    expect(await person.locator('.models').textContent()).toMatch(/^from (imagenet \d\.\d\d · )?voc/);
    expect(await person.locator('.models').innerText()).toMatch(/^from (imagenet · )?voc$/);
    await page.getByLabel('Show the raw classes behind each tag').check();
    expect(await person.locator('.models').innerText()).toMatch(/^from imagenet [01]\.\d\d · voc [01]\.\d\d$/);
    await expect(page.locator('#ran').textContent()).resolves.toMatch(
      /imagenet 1\.0\.0 .* and voc 1\.0\.0 .* ran on cpu/,
    );
    await person.click();
    await expect(page.locator('#caption').textContent()).resolves.toContain('“person”');
    await screenshot(page, 'web-page-combined.png');
    await page.close();
  });
});

describe('explaining failures', () => {
  for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://127.0.0.1:1/x.png']) {
    it(`says that private or internal addresses are not allowed for ${url}`, async () => {
      const page = await openPage();
      await page.getByLabel('Image URL').fill(url);
      await page.getByRole('button', { name: 'Tag it' }).click();
      const alert = page.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toContain('private or internal addresses are not allowed');
      expect(await alert.textContent()).toContain('[url_not_allowed]');
      expect(await page.locator('#results').isHidden()).toBe(true);
      expect(takeFailedLoads()).toEqual([400]);
      await page.close();
    });
  }

  it('says that a file which is not an image cannot be read', async () => {
    const page = await openPage();
    await page.getByLabel('Image file').setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: readFileSync(path.resolve(import.meta.dirname, '../../package.json')),
    });
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('That file is not an image we can read');
    expect(await alert.textContent()).toContain('[unsupported_media]');
    expect(takeFailedLoads()).toEqual([415]);
    await page.close();
  });
});

describe('keyboard and small screens', () => {
  it('reaches every control by Tab, sends a URL with Enter and chooses a tag with Enter', async () => {
    const page = await openPage();
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.className);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      order.push(String(await focused()));
    }
    expect(order).toEqual(['model', 'url', 'go', 'file']);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');

    await page.getByLabel('Image URL').focus();
    await page.keyboard.type('http://169.254.169.254/');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'private or internal addresses are not allowed' }).waitFor();
    expect(takeFailedLoads()).toEqual([400]);

    // rocket.jpg has several photo tags; chelsea.png has one (cat)
    await page.getByLabel('Image file').setInputFiles(ROCKET);
    await page.getByRole('status').filter({ hasText: 'maps drawn' }).waitFor({ timeout: 10_000 });
    const tags = page.locator('#tags .tag');
    expect(await tags.count()).toBeGreaterThan(1);
    await page.getByLabel('Image file').focus();
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('tag');
    await page.keyboard.press('Tab');
    const second = (await tags.nth(1).locator('.name').textContent())!;
    // focus alone previews the tag; Enter keeps it chosen
    await expect(page.locator('#caption').textContent()).resolves.toContain(`Heat map of “${second}”`);
    await page.keyboard.press('Enter');
    expect(await tags.nth(1).getAttribute('aria-pressed')).toBe('true');
    expect(await tags.nth(0).getAttribute('aria-pressed')).toBe('false');
    // once focus leaves the list, the chosen tag stays on the image
    for (let i = 1; i < (await tags.count()); i++) await page.keyboard.press('Tab');
    expect(await focused()).not.toBe('tag');
    await expect(page.locator('#caption').textContent()).resolves.toContain(`Heat map of “${second}”`);
    await page.close();
  });

  it('fits a 360 px wide screen without sideways scrolling', async () => {
    const page = await openPage({ width: 360, height: 740 });
    await page.getByLabel('Image file').setInputFiles(CHELSEA);
    await page.getByRole('status').filter({ hasText: 'maps drawn' }).waitFor({ timeout: 10_000 });
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      frame: document.getElementById('frame')!.getBoundingClientRect().width,
    }));
    expect(widths.page).toBeLessThanOrEqual(360);
    expect(widths.frame).toBeGreaterThan(300);
    await screenshot(page, 'web-page-360.png');
    await page.close();
  });
});
