// URL inputs of in-process runs, fetched under the server's own rules (server/fetch-url.ts): no private,
// loopback, link-local or metadata addresses unless allowed, capped redirects, time and bytes.
import { createUrlFetcher } from '../../model/index.ts';

const URL_TIMEOUT_MS = 10_000;
const URL_MAX_BYTES = 20 * 1024 * 1024;

export type UrlReader = (url: string) => Promise<Buffer>;

export function urlReader(allow: string[]): UrlReader {
  const fetchImage = createUrlFetcher({ allow, timeoutMs: URL_TIMEOUT_MS, maxBytes: URL_MAX_BYTES });
  return async (url) => (await fetchImage(url)).bytes;
}
