// The soak's kinds of client, each one request and the answers it may get. fetch for the ordinary ones;
// node:http for the two that fetch cannot be: the slow sender and the one that hangs up mid-upload.
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { BadInput } from './images.ts';

export interface Outcome {
  kind: string;
  /** an HTTP status, `aborted` (this client hung up on purpose) or `error:CODE` (the connection failed) */
  status: string;
  ms: number;
  /** false when the answer is not one this kind of request may get */
  expected: boolean;
  detail?: string;
}

/** A good request may succeed or meet a full queue. */
const GOOD = new Set(['200', '503']);

const networkError = (error: unknown) => {
  const cause = (error as { cause?: { code?: string } }).cause;
  return `error:${cause?.code ?? (error as { code?: string }).code ?? (error as Error).name}`;
};

async function timed(
  kind: string,
  send: () => Promise<Response>,
  check: (res: Response) => Promise<Outcome['expected']>,
): Promise<Outcome> {
  const started = performance.now();
  try {
    const res = await send();
    const expected = await check(res);
    return { kind, status: String(res.status), ms: performance.now() - started, expected };
  } catch (error) {
    return {
      kind,
      status: networkError(error),
      ms: performance.now() - started,
      expected: false,
      detail: String(error),
    };
  }
}

const form = (bytes: Buffer, filename: string) => {
  const body = new FormData();
  body.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), filename);
  return body;
};

const goodAnswer = async (res: Response) => {
  await res.arrayBuffer();
  return GOOD.has(String(res.status));
};

export function uploadGood(base: string, image: Buffer, kind = 'upload'): Promise<Outcome> {
  return timed(kind, () => fetch(`${base}/v1/tags`, { method: 'POST', body: form(image, 'photo.jpg') }), goodAnswer);
}

export function urlInput(base: string, url: string): Promise<Outcome> {
  return timed(
    'url',
    () =>
      fetch(`${base}/v1/tags`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url }),
      }),
    goodAnswer,
  );
}

/** A refusal must carry its status and its problem code; a full queue refuses before the bytes are read. */
const refusal = (status: number, code: string) => async (res: Response) => {
  const body = (await res.json().catch(() => ({}))) as { code?: string };
  return (res.status === status && body.code === code) || (res.status === 503 && body.code === 'overloaded');
};

export function uploadBad(base: string, bad: BadInput): Promise<Outcome> {
  return timed(
    `bad:${bad.name}`,
    () => fetch(`${base}/v1/tags`, { method: 'POST', body: form(bad.bytes, bad.filename) }),
    refusal(bad.status, bad.code),
  );
}

export function badOptions(base: string, image: Buffer): Promise<Outcome> {
  return timed(
    'bad:options',
    () => fetch(`${base}/v1/tags?topK=0&pool=avg`, { method: 'POST', body: form(image, 'photo.jpg') }),
    refusal(400, 'bad_options'),
  );
}

function multipart(image: Buffer): { body: Buffer; contentType: string } {
  const boundary = `----tagmap-soak-${image.length}`;
  const head = `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="slow.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
  const body = Buffer.concat([Buffer.from(head), image, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

interface RawSend {
  kind: string;
  base: string;
  image: Buffer;
  /** chunk size and pause between chunks */
  chunk: number;
  pauseMs: number;
  /** hang up after this many bytes of the body, without waiting for an answer */
  hangUpAfter?: number;
}

/** An upload written piece by piece over a raw connection (Connection: close, so nothing lingers). */
function rawUpload(send: RawSend): Promise<Outcome> {
  const { body, contentType } = multipart(send.image);
  const started = performance.now();
  const done = (status: string, expected: boolean, detail?: string): Outcome => ({
    kind: send.kind,
    status,
    ms: performance.now() - started,
    expected,
    ...(detail && { detail }),
  });
  return new Promise((resolve) => {
    const req = request(`${send.base}/v1/tags`, {
      method: 'POST',
      headers: { 'content-type': contentType, 'content-length': body.length, connection: 'close' },
    });
    let responded = false;
    req.on('response', (res) => {
      responded = true;
      res.resume();
      res.on('end', () => resolve(done(String(res.statusCode), GOOD.has(String(res.statusCode)))));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (send.hangUpAfter !== undefined) resolve(done('aborted', true));
      else resolve(done(`error:${error.code ?? error.name}`, false, String(error)));
    });
    // a connection that closes with neither an answer nor an error still ends this request (first call wins)
    req.on('close', () => {
      if (send.hangUpAfter !== undefined) resolve(done('aborted', true));
      else if (!responded) resolve(done('error:closed', false));
    });
    let sent = 0;
    const limit = send.hangUpAfter ?? body.length;
    const next = () => {
      if (sent >= limit) {
        if (send.hangUpAfter === undefined) return void req.end();
        return void req.destroy();
      }
      const piece = body.subarray(sent, Math.min(limit, sent + send.chunk));
      sent += piece.length;
      req.write(piece);
      setTimeout(next, send.pauseMs);
    };
    next();
  });
}

/** Trickles the upload in 20 pieces 100 ms apart (about 2 s), well inside the server's request timeout. */
export const slowUpload = (base: string, image: Buffer) =>
  rawUpload({ kind: 'slow', base, image, chunk: Math.ceil(image.length / 20), pauseMs: 100 });

/** Sends half the upload, then hangs up. */
export const hangUp = (base: string, image: Buffer) =>
  rawUpload({ kind: 'hang-up', base, image, chunk: 4096, pauseMs: 10, hangUpAfter: image.length >> 1 });
