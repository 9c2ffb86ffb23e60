// Which models are open in the workers: the preload set from the start, the others from their first request,
// and any idle past its TTL (settings.modelTtl) released again in every worker. A request holds its model while
// it runs, so no session is released under one; a request for a model being loaded or released waits for it.
import { performance } from 'node:perf_hooks';

type State = 'loading' | 'loaded' | 'unloading' | 'unloaded';

interface Resident {
  state: State;
  /** the load or unload under way */
  pending?: Promise<void>;
  users: number;
  ttlMs: number;
  timer?: NodeJS.Timeout;
}

export interface Held {
  /** how long this request waited for the model to load (0: it was loaded) */
  loadMs: number;
  release(): void;
}

export interface Residency {
  acquire(name: string): Promise<Held>;
  isLoaded(name: string): boolean;
  /** no more unloads (the pool is closing or replaced) */
  close(): void;
}

export interface ResidencyOptions {
  names: string[];
  preload: string[];
  ttlSeconds: (name: string) => number;
  /** the workers are up with the preload set warmed */
  ready: Promise<void>;
  command(kind: 'load' | 'unload', name: string): Promise<void>;
  log(message: string): void;
}

export function createResidency(options: ResidencyOptions): Residency {
  const { ready, command, log } = options;
  const residents = new Map<string, Resident>(
    options.names.map((name) => {
      const preloaded = options.preload.includes(name);
      const ttlMs = options.ttlSeconds(name) * 1000;
      const resident: Resident = preloaded
        ? { state: 'loading', pending: ready, users: 0, ttlMs }
        : { state: 'unloaded', users: 0, ttlMs };
      return [name, resident];
    }),
  );
  let closed = false;

  ready.then(
    () => {
      for (const [name, resident] of residents) {
        if (resident.pending !== ready) continue;
        resident.state = 'loaded';
        resident.pending = undefined;
        idle(name, resident);
      }
    },
    () => undefined,
  );

  function idle(name: string, resident: Resident): void {
    clearTimeout(resident.timer);
    if (resident.ttlMs <= 0 || closed) return;
    resident.timer = setTimeout(() => unload(name, resident), resident.ttlMs).unref();
  }

  function load(name: string, resident: Resident): void {
    const started = performance.now();
    resident.state = 'loading';
    resident.pending = ready
      .then(() => command('load', name))
      .then(
        () => {
          resident.state = 'loaded';
          log(`model ${name} loaded in every worker in ${(performance.now() - started).toFixed(0)} ms`);
        },
        (error: unknown) => {
          resident.state = 'unloaded';
          throw error;
        },
      );
    resident.pending.catch(() => undefined);
  }

  function unload(name: string, resident: Resident): void {
    if (closed || resident.users > 0 || resident.state !== 'loaded') return;
    resident.state = 'unloading';
    resident.pending = command('unload', name).then(
      () => {
        resident.state = 'unloaded';
        log(`model ${name} unloaded after ${resident.ttlMs / 1000} s idle`);
      },
      (error: unknown) => {
        resident.state = 'unloaded';
        log(`model ${name}: unloading failed: ${error instanceof Error ? error.message : String(error)}`);
      },
    );
  }

  return {
    async acquire(name) {
      const resident = residents.get(name);
      if (!resident) throw new Error(`no model "${name}" in this pool`);
      const started = performance.now();
      let waited = false;
      while (resident.state !== 'loaded') {
        waited = true;
        if (resident.state === 'unloaded') load(name, resident);
        await resident.pending;
      }
      resident.users++;
      clearTimeout(resident.timer);
      let released = false;
      return {
        loadMs: waited ? performance.now() - started : 0,
        release() {
          if (released) return;
          released = true;
          if (--resident.users === 0) idle(name, resident);
        },
      };
    },
    isLoaded: (name) => residents.get(name)?.state === 'loaded',
    close() {
      closed = true;
      for (const resident of residents.values()) clearTimeout(resident.timer);
    },
  };
}
