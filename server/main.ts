// The process: settings from the environment, the models, the app, the listening socket and the signals.
// On SIGTERM/SIGINT: the drain of server/drain.ts. On SIGHUP: the models folder read again,
// the new set in place once its cards pass and it is warm; a bad folder is logged and the old set kept.
import { createServer, type Server } from 'node:http';
import { pino, type Logger } from 'pino';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { createTagmap, ModelLoadError, type Tagmap } from '../model/index.ts';
import { mallocInUse } from './allocator.ts';
import { createApp } from './app.ts';
import { ConfigError, loadConfig, type ServerConfig } from './config.ts';
import { drainOnSignals } from './drain.ts';
import type { Lifecycle } from './routes/health.ts';
import { httpServerTimeouts } from './timeouts.ts';
import { webRouter } from './web.ts';

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
  Object.assign(server, httpServerTimeouts()); // slow clients are cut off: server/timeouts.ts
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
}

function reloadOnSighup(tagmap: Tagmap, lifecycle: Lifecycle, logger: Logger): void {
  process.on('SIGHUP', () => {
    if (lifecycle.draining) return;
    logger.info('SIGHUP: reloading the models folder');
    tagmap.reload().catch((error: Error) => {
      const kept = tagmap.models().map((m) => m.name);
      logger.error({ err: error, kept }, `reload refused, still serving the old models: ${error.message}`);
    });
  });
}

/** A bad card, a missing or changed model.onnx: logged with the file, exit 1. */
async function openModels(config: ServerConfig, logger: Logger): Promise<Tagmap> {
  try {
    return await createTagmap({
      ...config.tagmap,
      logger: { info: (message) => logger.info(message), warn: (message) => logger.warn(message) },
    });
  } catch (error) {
    if (!(error instanceof ModelLoadError)) throw error;
    logger.fatal({ file: error.file }, `the models could not be loaded: ${error.message}`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = readConfig();
  const logger = pino({ level: config.logLevel });
  const tagmap = await openModels(config, logger);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const lifecycle: Lifecycle = { draining: false };
  const app = createApp({ tagmap, config, logger, registry, lifecycle, web: await webRouter() });
  const server = createServer(app);
  drainOnSignals(server, tagmap, lifecycle, logger);
  reloadOnSighup(tagmap, lifecycle, logger);
  await listen(server, config);
  logger.info({ address: server.address(), malloc: mallocInUse() }, 'listening; loading and warming the models');
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
