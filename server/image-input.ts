// How an image reaches a route: a multipart upload (field "image", options in the query string or as form
// fields) or a JSON body ({"url"} or {"imageBase64"} plus options). Both end as the bytes and zod-parsed options.
import express, { type Request, type RequestHandler } from 'express';
import multer from 'multer';
import type { z } from 'zod';
import { TagmapError, type UrlFetcher } from '../model/index.ts';
import { HttpError } from './errors.ts';
import { requestSchemas, type Endpoint } from './schemas.ts';

export const IMAGE_FIELD = 'image';

/** Parses multipart or JSON bodies with every limit explicit; any other content type is a 415. */
export function receiveImageBody(maxUploadBytes: number): RequestHandler {
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: {
      fileSize: maxUploadBytes,
      files: 1,
      fields: 16,
      fieldNameSize: 64,
      fieldSize: 4096,
      parts: 17,
      headerPairs: 100,
    },
  }).single(IMAGE_FIELD);
  // base64 is 4/3 of the bytes, plus room for the options
  const json = express.json({ limit: Math.ceil((maxUploadBytes * 4) / 3) + 64 * 1024, strict: true });

  return (req, res, next) => {
    if (req.is('multipart/form-data')) {
      upload(req, res, (error?: unknown) => {
        // busboy's own parse errors (bad boundary, cut-off body) are not MulterErrors: they are the client's
        if (error instanceof Error && !(error instanceof multer.MulterError)) {
          return next(new HttpError(400, 'bad_request', `malformed multipart body: ${error.message}`));
        }
        next(error);
      });
    } else if (req.is('application/json')) {
      json(req, res, next);
    } else {
      next(
        new HttpError(
          415,
          'unsupported_content_type',
          `send multipart/form-data with the image in field "${IMAGE_FIELD}", ` +
            'or application/json with "url" or "imageBase64" ' +
            `(got ${req.headers['content-type'] ?? 'no content type'})`,
        ),
      );
    }
  };
}

type OptionsOf<E extends Endpoint> = z.output<(typeof requestSchemas)[E]['query']>;

export interface ImageRequest<E extends Endpoint> {
  image: Buffer;
  options: OptionsOf<E>;
}

/** The bytes and the validated options of a request that went through receiveImageBody. */
export async function readImageRequest<E extends Endpoint>(
  req: Request,
  endpoint: E,
  fetchUrl: UrlFetcher,
  maxUploadBytes: number,
): Promise<ImageRequest<E>> {
  const schemas = requestSchemas[endpoint];
  const query = schemas.query.parse(req.query) as OptionsOf<E>;
  if (req.is('multipart/form-data')) {
    const fields = schemas.query.parse(req.body ?? {}) as OptionsOf<E>;
    if (!req.file)
      throw new HttpError(400, 'bad_request', `no image: upload it in the multipart field "${IMAGE_FIELD}"`);
    return { image: req.file.buffer, options: { ...query, ...fields } };
  }
  const { url, imageBase64, ...fields } = schemas.json.parse(req.body ?? {}) as OptionsOf<E> & {
    url?: string;
    imageBase64?: string;
  };
  const options = { ...query, ...fields } as OptionsOf<E>;
  if (url !== undefined) return { image: (await fetchUrl(url)).bytes, options };
  const image = Buffer.from(imageBase64!, 'base64');
  if (image.length > maxUploadBytes) {
    throw new TagmapError('too_large', `the image is ${image.length} bytes; at most ${maxUploadBytes} are accepted`, {
      maxBytes: maxUploadBytes,
    });
  }
  return { image, options };
}
