// Fetches an image by URL for a request, safely: every hop goes through request-filtering-agent (no private,
// loopback, link-local or metadata addresses, however spelled, checked on the address actually connected to),
// redirects are followed by hand and capped, and time and bytes are capped while streaming. Bodies are asked
// for uncompressed and a compressed one is refused rather than inflated. No express in here: the batch
// script uses it too.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';
import { TagmapError } from '../contract/errors.ts';

export interface UrlFetchOptions {
  /** host names, IP addresses or CIDR blocks let through despite the filter (tests, private deployments) */
  allow: string[];
  timeoutMs: number;
  maxBytes: number;
  maxRedirects?: number;
}

interface FetchedImage {
  bytes: Buffer;
  /** where the bytes came from after redirects */
  url: string;
  contentType?: string;
}

export type UrlFetcher = (url: string) => Promise<FetchedImage>;

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The agent refuses a connection with an Error whose message says the address "is not allowed". */
const isRefusal = (error: unknown) => error instanceof Error && /is not allowed\. Because/.test(error.message);

/** The agent compares single addresses as text: write IPv6 ones the way node reports them (::1, not 0::1). */
const canonical = (entry: string) => (isIP(entry) === 6 ? new URL(`http://[${entry}]/`).hostname.slice(1, -1) : entry);

export function createUrlFetcher(options: UrlFetchOptions): UrlFetcher {
  const maxRedirects = options.maxRedirects ?? 3;
  const allowedHosts = new Set(
    options.allow.filter((e) => !e.includes('/') && isIP(e) === 0).map((h) => h.toLowerCase()),
  );
  const allowIPAddressList = options.allow.filter((e) => e.includes('/') || isIP(e) !== 0).map(canonical);
  const agents = {
    'http:': new RequestFilteringHttpAgent({ allowIPAddressList }),
    'https:': new RequestFilteringHttpsAgent({ allowIPAddressList }),
  };
  // a host allowed by name may resolve to any private address (that is the point); only 0.0.0.0 and :: stay refused
  const trustedAgents = {
    'http:': new RequestFilteringHttpAgent({ allowPrivateIPAddress: true }),
    'https:': new RequestFilteringHttpsAgent({ allowPrivateIPAddress: true }),
  };

  function checkUrl(raw: string | URL, base?: URL): URL {
    let url: URL;
    try {
      url = new URL(raw, base);
    } catch {
      throw new TagmapError('url_not_allowed', `not a valid URL: ${String(raw).slice(0, 200)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TagmapError('url_not_allowed', `only http and https URLs are fetched (got ${url.protocol})`, {
        url: url.href,
      });
    }
    if (url.username || url.password) throw new TagmapError('url_not_allowed', 'URLs with credentials are not fetched');
    return url;
  }

  function get(url: URL, signal: AbortSignal): Promise<http.IncomingMessage> {
    const scheme = url.protocol as 'http:' | 'https:';
    const agent = (allowedHosts.has(url.hostname.toLowerCase()) ? trustedAgents : agents)[scheme];
    const send = scheme === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const request = send(
        url,
        { agent, signal, headers: { 'accept-encoding': 'identity', accept: 'image/*' } },
        resolve,
      );
      request.on('error', reject);
      request.end();
    });
  }

  async function readCapped(response: http.IncomingMessage, url: URL): Promise<Buffer> {
    const declared = Number(response.headers['content-length']);
    const tooLarge = () =>
      new TagmapError(
        'too_large',
        `the image at ${url.host} is larger than the ${options.maxBytes}-byte limit for URLs`,
        { maxBytes: options.maxBytes },
      );
    if (declared > options.maxBytes) {
      response.destroy();
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of response as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > options.maxBytes) {
        response.destroy();
        throw tooLarge();
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, total);
  }

  async function follow(start: URL, signal: AbortSignal): Promise<FetchedImage> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const response = await get(url, signal);
      const status = response.statusCode ?? 0;
      if (REDIRECTS.has(status)) {
        response.resume();
        const location = response.headers.location;
        if (!location)
          throw new TagmapError('url_fetch_failed', `${url.host} answered ${status} without a Location header`);
        if (hop >= maxRedirects)
          throw new TagmapError('url_fetch_failed', `more than ${maxRedirects} redirects, stopped at ${url.host}`, {
            maxRedirects,
          });
        url = checkUrl(location, url);
        continue;
      }
      if (status < 200 || status >= 300) {
        response.resume();
        throw new TagmapError(
          'url_fetch_failed',
          `${url.host} answered ${status} ${response.statusMessage ?? ''}`.trim(),
          { upstreamStatus: status },
        );
      }
      const encoding = (response.headers['content-encoding'] ?? 'identity').toLowerCase();
      if (encoding !== 'identity') {
        response.destroy();
        throw new TagmapError(
          'url_fetch_failed',
          `${url.host} sent a ${encoding}-compressed body although identity was asked for; ` +
            'compressed bodies are not inflated',
        );
      }
      return { bytes: await readCapped(response, url), url: url.href, contentType: response.headers['content-type'] };
    }
  }

  return async function fetchImage(raw: string): Promise<FetchedImage> {
    const start = checkUrl(raw);
    const deadline = AbortSignal.timeout(options.timeoutMs);
    try {
      return await follow(start, deadline);
    } catch (error) {
      if (error instanceof TagmapError) throw error;
      if (deadline.aborted) {
        throw new TagmapError('url_timeout', `fetching the image took longer than ${options.timeoutMs} ms`, {
          timeoutMs: options.timeoutMs,
        });
      }
      if (isRefusal(error)) {
        throw new TagmapError(
          'url_not_allowed',
          'the URL leads to a private, loopback, link-local or metadata address, which is not fetched',
        );
      }
      const reason = error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
      throw new TagmapError('url_fetch_failed', `could not fetch the image from ${start.host}: ${reason}`);
    }
  };
}
