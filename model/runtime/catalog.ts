// Which model serves a request: the one it names (if meant for the task), else the default model, else the
// first loaded model meant for the task.
import type { CardTask } from '../contract/card.ts';
import { TagmapError } from '../contract/errors.ts';
import type { ModelSummary } from '../contract/results.ts';
import { pickDefault, type ModelEntry } from './registry.ts';

export type { CardTask };

export interface Catalog {
  entries: ModelEntry[];
  defaultName: string;
  named(name: string): ModelEntry;
  pick(name: string | undefined, task?: CardTask): ModelEntry;
  summaries(isLoaded: (name: string) => boolean): ModelSummary[];
}

export function createCatalog(entries: ModelEntry[], wantedDefault?: string): Catalog {
  const defaultName = pickDefault(entries, wantedDefault);
  const byName = new Map(entries.map((e) => [e.name, e]));
  const meantFor = (task: CardTask) => entries.filter((e) => e.card.tasks.includes(task));

  function named(name: string): ModelEntry {
    const entry = byName.get(name);
    if (entry) return entry;
    const available = [...byName.keys()];
    throw new TagmapError('unknown_model', `no model "${name}"; available: ${available.join(', ')}`, { available });
  }

  function pick(name: string | undefined, task?: CardTask): ModelEntry {
    if (name !== undefined) {
      const entry = named(name);
      if (task && !entry.card.tasks.includes(task)) {
        const able = meantFor(task).map((e) => e.name);
        throw new TagmapError(
          'bad_options',
          `model "${name}" is not meant for ${task} (its tasks: ${entry.card.tasks.join(', ')}); ` +
            `models for ${task}: ${able.join(', ') || 'none'}`,
        );
      }
      return entry;
    }
    const preferred = byName.get(defaultName)!;
    if (!task || preferred.card.tasks.includes(task)) return preferred;
    const fallback = meantFor(task)[0];
    if (!fallback) throw new TagmapError('bad_options', `no loaded model is meant for ${task}`);
    return fallback;
  }

  const summaries = (isLoaded: (name: string) => boolean): ModelSummary[] =>
    entries.map((e) => ({
      name: e.name,
      version: e.card.version,
      sha256: e.sha256,
      description: e.card.description,
      tasks: e.card.tasks,
      labels: e.card.labels.length,
      window: e.card.geometry.window,
      default: e.name === defaultName,
      loaded: isLoaded(e.name),
    }));

  return { entries, defaultName, named, pick, summaries };
}
