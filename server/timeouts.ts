// The server's fixed time limits, each with what it does: server/main.ts and server/drain.ts use them,
// docs/reliability.md lists them (npm run docs).
export const FIXED_TIMEOUTS = {
  requestTimeout: {
    ms: 30_000,
    what: 'a whole request, headers and body, must arrive within this; a slower client gets 408 and the connection closes',
  },
  headersTimeout: {
    ms: 10_000,
    what: 'the request headers must arrive within this, else 408 and the connection closes',
  },
  keepAliveTimeout: {
    ms: 5_000,
    what: 'an idle keep-alive connection is closed after this (sent as `Keep-Alive: timeout=5`)',
  },
  drainDeadline: {
    ms: 20_000,
    what: 'after SIGTERM/SIGINT, whatever still runs then is cut off and the process exits 1, before the 30 s SIGKILL of Kubernetes',
  },
} as const;

/** The settings of node:http's Server that FIXED_TIMEOUTS names. */
export const httpServerTimeouts = () => ({
  requestTimeout: FIXED_TIMEOUTS.requestTimeout.ms,
  headersTimeout: FIXED_TIMEOUTS.headersTimeout.ms,
  keepAliveTimeout: FIXED_TIMEOUTS.keepAliveTimeout.ms,
});
