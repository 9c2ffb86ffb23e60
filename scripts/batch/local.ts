// In-process back end: model/'s Tagmap with its own worker pool, on this machine's models.
import { createTagmap, defaultConfig, type Tagmap, type TagmapConfig } from '../../model/index.ts';
import { isUrl } from './inputs.ts';
import { writeMask } from './masks.ts';
import type { Outcome } from './rows.ts';
import { readImageFile } from './source.ts';
import type { Job, Tagger } from './tagger.ts';
import { urlReader } from './url.ts';

export interface LocalSettings {
  modelsDir?: string;
  device?: TagmapConfig['device'];
  workers?: number;
  concurrency: number;
  /** hosts, addresses or CIDR blocks whose URLs may be fetched although private */
  urlAllow: string[];
}

async function outcome(tagmap: Tagmap, job: Job, input: string, bytes: Buffer): Promise<Outcome> {
  if (job.task === 'tag') {
    const result = await tagmap.tag(bytes, job.options);
    return { tags: result.tags, width: result.plan.image.width, height: result.plan.image.height };
  }
  const { model, scales, maxSide, density, fuse } = job.options;
  const result = await tagmap.parse(bytes, { model, scales, maxSide, density, fuse, format: 'png' });
  const mask = await writeMask(job.masksDir!, input, result.png!);
  const legend = result.legend.map(({ id, name, share }) => ({ id, name, share }));
  return { mask, legend, width: result.width, height: result.height };
}

export async function openLocalTagger(settings: LocalSettings, job: Job): Promise<Tagger> {
  const config = defaultConfig({
    ...(settings.modelsDir && { modelsDir: settings.modelsDir }),
    ...(settings.device && { device: settings.device }),
    ...(settings.workers && { workers: settings.workers }),
    // every input the runner has in flight may wait in the pool's queue
    maxQueue: settings.concurrency,
    logger: { info: () => undefined, warn: (message) => void process.stderr.write(`tag: ${message}\n`) },
  });
  const tagmap = await createTagmap(config);
  try {
    await tagmap.ready();
  } catch (error) {
    await tagmap.close();
    throw error;
  }
  const readUrl = urlReader(settings.urlAllow);
  return {
    async run(input) {
      const bytes = isUrl(input) ? await readUrl(input) : await readImageFile(input);
      return outcome(tagmap, job, input, bytes);
    },
    close: () => tagmap.close(),
  };
}
