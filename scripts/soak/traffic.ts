// Mixed traffic until a deadline: `clients` closed loops, each picking its next request from the mix, plus
// a burst of more uploads than the workers and the queue hold every few seconds (every second early in the
// warm-up).
import { badOptions, hangUp, slowUpload, uploadBad, uploadGood, urlInput, type Outcome } from './clients.ts';
import type { SoakImages } from './images.ts';

export interface TrafficPlan {
  base: string;
  images: SoakImages;
  /** the URL of image n on the local test host, when there is one */
  imageUrl?: (n: number) => string;
  clients: number;
  burstSize: number;
  burstEveryMs: number;
  /**
   * until then (the first 60% of the warm-up) a burst comes every second, so that the server's pools and
   * allocator reach the high-water mark of the heaviest traffic of the run before RSS is held to the gate;
   * the rest of the warm-up is the ordinary mix, which can set a mark of its own (a 60-min run on tcmalloc
   * stepped up 50 MB 90 s after the fast bursts stopped, when they lasted the whole warm-up)
   */
  fastBurstsUntil: number;
  until: number;
}

/** How often each kind is picked, out of the sum. */
const MIX = { upload: 50, url: 15, bad: 20, slow: 5, hangUp: 5 } as const;

export async function driveTraffic(plan: TrafficPlan, record: (outcome: Outcome) => void): Promise<void> {
  const { base, images } = plan;
  let n = 0;
  const good = () => images.good[n++ % images.good.length];
  const kinds = Object.entries(MIX).filter(([kind]) => kind !== 'url' || plan.imageUrl);
  const total = kinds.reduce((sum, [, weight]) => sum + weight, 0);

  const pick = (): Promise<Outcome> => {
    let roll = Math.random() * total;
    const [kind] = kinds.find(([, weight]) => (roll -= weight) < 0) ?? kinds[0];
    switch (kind) {
      case 'url':
        return urlInput(base, plan.imageUrl!(n++));
      case 'bad': {
        const which = n++ % (images.bad.length + 1);
        return which === images.bad.length ? badOptions(base, good()) : uploadBad(base, images.bad[which]);
      }
      case 'slow':
        return slowUpload(base, good());
      case 'hangUp':
        return hangUp(base, good());
      default:
        return uploadGood(base, good());
    }
  };

  const client = async () => {
    while (Date.now() < plan.until) record(await pick());
  };
  const bursts = async () => {
    for (;;) {
      const every = Date.now() < plan.fastBurstsUntil ? 1000 : plan.burstEveryMs;
      if (Date.now() + every >= plan.until) break;
      await new Promise((resolve) => setTimeout(resolve, every));
      const burst = Array.from({ length: plan.burstSize }, () => uploadGood(base, good(), 'burst'));
      for (const outcome of await Promise.all(burst)) record(outcome);
    }
  };
  await Promise.all([...Array.from({ length: plan.clients }, client), bursts()]);
}
