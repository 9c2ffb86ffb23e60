// The inference pool: piscina worker threads, each owning its own onnxruntime sessions (session.run blocks
// the thread that calls it, so the main thread never does). Admission is bounded: at most workers +
// maxQueue jobs are taken at once, the rest are refused at once with 'overloaded'.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import { TagmapError } from '../contract/errors.ts';
import type { InferJob, InferResult, WorkerInit, WorkerReady } from './job.ts';
import type { Provider } from './ort.ts';
import { WorkerCommands } from './worker-commands.ts';

export interface PoolOptions extends Omit<WorkerInit, 'channel'> {
  workers: number;
  maxQueue: number;
  /** called once with the reason when device=auto fell back from CUDA to the CPU */
  onFallback?: (reason: string) => void;
  /** a worker failed outside any job after start-up (piscina starts a new one) */
  onWorkerError?: (error: Error) => void;
}

// `npm run build` bundles worker.ts as dist/worker-entry.mjs, next to the bundled server, so this finds it there
const workerFile = new URL('./worker-entry.mjs', import.meta.url).href;

export class InferencePool {
  private readonly piscina: Piscina<InferJob, InferResult>;
  private readonly commands: WorkerCommands;
  private readonly capacity: number;
  private admitted = 0;
  private closing = false;
  private provider: Provider | undefined;
  private abandonWarmUp: (error: Error) => void = () => undefined;
  readonly ready: Promise<void>;

  constructor(private readonly options: PoolOptions) {
    this.capacity = options.workers + options.maxQueue;
    const channel = `tagmap-pool-${randomUUID()}`;
    this.piscina = new Piscina({
      filename: workerFile,
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Infinity,
      maxQueue: Math.max(1, options.maxQueue),
      // A job that finds no free worker goes back to the front of the queue, not the back: piscina's default
      // (false) re-queues at the tail the job it could not hand out when a worker frees up, so under
      // sustained load the job second in line is passed over again and again (seconds of queueMs with one
      // worker at 35 ms a job). Strict FIFO keeps every wait near (jobs ahead) x (time per job).
      stricterFIFO: true,
      // an idle worker waits for jobs without blocking its event loop, so that load and unload commands reach it
      atomics: 'async',
      workerData: {
        models: options.models,
        preload: options.preload,
        channel,
        device: options.device,
        intraOpThreads: options.intraOpThreads,
      } satisfies WorkerInit,
    });
    this.commands = new WorkerCommands(this.piscina, channel);
    this.ready = this.waitForWorkers();
    // without a listener, an 'error' event from piscina would end the process
    this.piscina.on('error', (error: Error) => {
      if (this.provider) options.onWorkerError?.(error);
    });
    // a rejected ready() is reported to whoever awaits it; keep it from counting as unhandled meanwhile
    this.ready.catch(() => undefined);
  }

  private waitForWorkers(): Promise<void> {
    return new Promise((resolve, reject) => {
      let warmed = 0;
      const onMessage = (message: WorkerReady) => {
        if (message?.kind !== 'tagmap-worker-ready') return;
        if (!this.provider && message.fallbackReason) this.options.onFallback?.(message.fallbackReason);
        this.provider = message.provider;
        if (++warmed === this.options.workers) {
          this.piscina.off('error', onError);
          resolve();
        }
      };
      const onError = (error: Error) => {
        this.piscina.off('message', onMessage);
        reject(new Error(`an inference worker failed to start: ${error.message}`, { cause: error }));
      };
      this.abandonWarmUp = reject;
      this.piscina.on('message', onMessage);
      this.piscina.once('error', onError);
    });
  }

  providerName(): Provider | undefined {
    return this.provider;
  }

  /** Jobs waiting for a free worker. */
  queueDepth(): number {
    return this.piscina.queueSize;
  }

  /**
   * Takes a slot for one request, or throws 'overloaded' / 'shutting_down' at once. Call before any
   * costly work (decoding) and always release it.
   */
  admit(): () => void {
    if (this.closing)
      throw new TagmapError('shutting_down', 'the server is shutting down; try another replica or retry later');
    if (this.admitted >= this.capacity) {
      throw new TagmapError(
        'overloaded',
        `all ${this.options.workers} inference workers are busy and ${this.options.maxQueue} requests are waiting; ` +
          'retry shortly',
        { workers: this.options.workers, maxQueue: this.options.maxQueue },
      );
    }
    this.admitted++;
    let released = false;
    return () => {
      if (!released) this.admitted--;
      released = true;
    };
  }

  async run(job: InferJob): Promise<InferResult> {
    const transferList = job.scales.map((s) => s.pixels);
    try {
      return await this.piscina.run(job, { transferList });
    } catch (error) {
      if (this.closing && error instanceof Error && error.name === 'AbortError') {
        throw new TagmapError('shutting_down', 'the server is shutting down; this queued request was not run');
      }
      throw error;
    }
  }

  /** Opens and warms (load) or releases (unload) a model's session in every worker. */
  command(kind: 'load' | 'unload', model: string): Promise<void> {
    return this.commands.send(kind, model);
  }

  /** Closes once every admitted request has finished: a pool that a reload replaced. */
  async retire(): Promise<void> {
    while (this.admitted > 0 && !this.closing) await sleep(50);
    await this.close();
  }

  /** Stops taking work, lets running jobs finish, rejects queued ones, then ends the threads. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.abandonWarmUp(new TagmapError('shutting_down', 'closed before the models were warmed'));
    this.commands.close();
    await this.piscina.close({ force: true });
  }
}
