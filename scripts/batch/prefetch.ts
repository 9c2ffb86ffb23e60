// Reads an async stream ahead of its consumer, up to a bound: the listing of inputs runs ahead of the slow
// tagging (so the progress bar knows a total and an ETA early) while memory stays bounded.

export function prefetch<T>(source: AsyncIterable<T>, limit: number): AsyncGenerator<T> {
  let items: T[] = [];
  let head = 0;
  let finished = false;
  let failure: { error: unknown } | undefined;
  let wakeConsumer: (() => void) | undefined;
  let wakeProducer: (() => void) | undefined;
  const wake = (which: 'consumer' | 'producer') => {
    const resume = which === 'consumer' ? wakeConsumer : wakeProducer;
    if (which === 'consumer') wakeConsumer = undefined;
    else wakeProducer = undefined;
    resume?.();
  };

  void (async () => {
    try {
      for await (const item of source) {
        items.push(item);
        wake('consumer');
        if (items.length - head >= limit) await new Promise<void>((resolve) => (wakeProducer = resolve));
      }
    } catch (error) {
      failure = { error };
    } finally {
      finished = true;
      wake('consumer');
    }
  })();

  async function* consume(): AsyncGenerator<T> {
    for (;;) {
      if (head < items.length) {
        const item = items[head++];
        // drop the consumed front now and then instead of shifting every time
        if (head >= 4096 && head * 2 >= items.length) {
          items = items.slice(head);
          head = 0;
        }
        wake('producer');
        yield item;
      } else if (failure) {
        throw failure.error;
      } else if (finished) {
        return;
      } else {
        await new Promise<void>((resolve) => (wakeConsumer = resolve));
      }
    }
  }

  return consume();
}
