// A local HTTP host that serves the soak's images for URL inputs (the server must be told to allow it:
// TAGMAP_URL_ALLOW=127.0.0.1).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface UrlHost {
  /** the URL of image n (modulo the number of images) */
  imageUrl(n: number): string;
  close(): Promise<void>;
}

export async function startUrlHost(images: Buffer[]): Promise<UrlHost> {
  const server: Server = createServer((req, res) => {
    const n = Number(/^\/image\/(\d+)\.jpg$/.exec(req.url ?? '')?.[1]);
    const image = images[n];
    if (!image) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': image.length }).end(image);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    imageUrl: (n) => `http://127.0.0.1:${port}/image/${n % images.length}.jpg`,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
