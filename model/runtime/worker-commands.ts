// Load and unload commands for every worker of a pool at once. piscina hands each job to one worker, so a
// BroadcastChannel (one per pool) reaches them all; each answers on its parentPort, which piscina re-emits as
// its 'message' event. A command is done when every worker that had said ready has answered (or exited).
import { BroadcastChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import type { CommandDone, ModelCommand, WorkerReady } from './job.ts';

export class WorkerCommands {
  private readonly channel: BroadcastChannel;
  private readonly readyThreads = new Set<number>();
  private lastId = 0;
  private pending = 0;

  constructor(
    private readonly piscina: Piscina,
    channelName: string,
  ) {
    this.channel = new BroadcastChannel(channelName);
    this.channel.unref();
    piscina.on('message', (message: WorkerReady) => {
      if (message?.kind === 'tagmap-worker-ready') this.readyThreads.add(message.threadId);
    });
    piscina.on('workerDestroy', (worker: { id: number }) => this.readyThreads.delete(worker.id));
  }

  send(kind: ModelCommand['kind'], model: string): Promise<void> {
    const id = ++this.lastId;
    const waiting = new Set(this.readyThreads);
    const errors: string[] = [];
    return new Promise((resolve, reject) => {
      const settle = () => {
        if (waiting.size > 0) return;
        // idle piscina workers do not keep the process alive; the channel does while a command waits for them
        if (--this.pending === 0) this.channel.unref();
        this.piscina.off('message', onDone);
        this.piscina.off('workerDestroy', onExit);
        if (errors.length > 0) reject(new Error(`${kind} ${model}: ${errors[0]}`));
        else resolve();
      };
      const onDone = (message: CommandDone) => {
        if (message?.kind !== 'tagmap-worker-done' || message.id !== id) return;
        if (message.error) errors.push(message.error);
        waiting.delete(message.threadId);
        settle();
      };
      const onExit = (worker: { id: number }) => {
        waiting.delete(worker.id);
        settle();
      };
      this.piscina.on('message', onDone);
      this.piscina.on('workerDestroy', onExit);
      if (this.pending++ === 0) this.channel.ref();
      this.channel.postMessage({ kind, id, model } satisfies ModelCommand);
      settle();
    });
  }

  close(): void {
    this.channel.close();
  }
}
