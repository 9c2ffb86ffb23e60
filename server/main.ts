// The process: settings from the environment, the models, the app, the listening socket and the signals.
// On SIGTERM/SIGINT: not ready at once, no new connections, running inferences finish, queued ones get 503,
// sessions released, exit well within Kubernetes' 30 s grace period.
import { createServer, type Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createTagmap, type Tagmap } from '../model/index.ts';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, type ServerConfig } from './config.ts';
import type { Lifecycle } from './routes/health.ts';
import { webRouter } from './web.ts';

/** Slow clients are cut off: whole request in 30 s, headers in 10 s; idle keep-alive sockets close after 5 s. */
const TIMEOUTS = { requestTimeout: 30_000, headersTimeout: 10_000, keepAliveTimeout: 5_000 };
/** Whatever is still running after this is cut off so the process exits before the 30 s SIGKILL. */
const DRAIN_DEADLINE_MS = 20_000;

function readConfig(): ServerConfig {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`tagmap: ${error.message}\n`);
    process.exit(2);
  }
}

function listen(server: Server, config: ServerConfig): Promise<void> {
  Object.assign(server, TIMEOUTS);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
}

function drainOnSignals(server: Server, tagmap: Tagmap, lifecycle: Lifecycle, logger: Logger): void {
  const drain = async (signal: string) => {
    if (lifecycle.draining) return;
    lifecycle.draining = true;
    logger.info({ signal }, 'draining: not ready, no new connections, finishing running requests');
    setTimeout(() => {
      logger.error('drain deadline passed; exiting with requests still open');
      process.exit(1);
    }, DRAIN_DEADLINE_MS).unref();
    const closed = new Promise((resolve) => server.close(resolve));
    // keep-alive sockets turn idle as their last responses go out; close them then, not after keepAliveTimeout
    const sweep = setInterval(() => server.closeIdleConnections(), 50);
    await tagmap.close();
    await closed;
    clearInterval(sweep);
    logger.info('drained; bye');
    process.exit(0);
  };
  process.once('SIGTERM', () => void drain('SIGTERM'));
  process.once('SIGINT', () => void drain('SIGINT'));
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = pino({ level: config.logLevel });
  const tagmap = await createTagmap({
    ...config.tagmap,
    logger: { info: (message) => logger.info(message), warn: (message) => logger.warn(message) },
  });
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const lifecycle: Lifecycle = { draining: false };
  const app = createApp({ tagmap, config, logger, registry, lifecycle, web: await webRouter() });
  const server = createServer(app);
  drainOnSignals(server, tagmap, lifecycle, logger);
  await listen(server, config);
  logger.info({ address: server.address() }, 'listening; loading and warming the models');
  try {
    await tagmap.ready();
  } catch (error) {
    if (lifecycle.draining) return; // a signal during warm-up closed the pool; the drain exits
    logger.fatal({ err: error }, 'the models could not be loaded');
    await tagmap.close();
    process.exit(1);
  }
}

await main();
