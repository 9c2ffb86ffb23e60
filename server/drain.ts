// SIGTERM/SIGINT: a drain that resets no connection. Readiness goes false at once and every answer from then
// on says Connection: close; the listener stays open, so a late request gets 503 shutting_down (once its body
// is in) rather than a refused connection. Running inferences finish, queued ones get 503; the keep-alive sockets of before the
// signal are let go by their clients or by keepAliveTimeout (closing them ourselves races a client that is
// sending on one); then the listener closes and the process exits, well within Kubernetes' 30 s.
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Tagmap } from '../model/index.ts';
import type { Lifecycle } from './routes/health.ts';
import { FIXED_TIMEOUTS } from './timeouts.ts';

const after = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function drainOnSignals(server: Server, tagmap: Tagmap, lifecycle: Lifecycle, logger: Logger): void {
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const unanswered = new Set<ServerResponse>();
  // The app's own listeners, wrapped. While draining, a request's body is read to its end before the app
  // answers: a 503 sent while the client is still uploading, on a connection that then closes, is an EPIPE
  // or a reset for that client.
  const app = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const answer = (req: IncomingMessage, res: ServerResponse) => {
    for (const listener of app) listener.call(server, req, res);
  };
  server.on('request', (req, res) => {
    if (!lifecycle.draining) {
      unanswered.add(res);
      res.once('close', () => unanswered.delete(res));
      return answer(req, res);
    }
    res.setHeader('Connection', 'close');
    const hasBody = (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined;
    if (req.complete || !hasBody) return answer(req, res);
    req.once('end', () => answer(req, res)).resume();
  });

  const drain = async (signal: string) => {
    if (lifecycle.draining) return;
    lifecycle.draining = true;
    const started = Date.now();
    logger.info({ signal }, 'draining: not ready, finishing running requests, answering the rest 503');
    setTimeout(() => {
      logger.error('drain deadline passed; exiting with requests still open');
      process.exit(1);
    }, FIXED_TIMEOUTS.drainDeadline.ms).unref();
    for (const res of unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
    const before = new Set(sockets);
    await tagmap.close();
    const idleUntil = started + server.keepAliveTimeout + 1000;
    while ([...before].some((socket) => sockets.has(socket)) && Date.now() < idleUntil) await after(50);
    await new Promise((resolve) => server.close(resolve));
    logger.info({ ms: Date.now() - started }, 'drained; bye');
    process.exit(0);
  };
  process.once('SIGTERM', () => void drain('SIGTERM'));
  process.once('SIGINT', () => void drain('SIGINT'));
}
