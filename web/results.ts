// The findings as page content: the model picker's options, the tag list, the scene legend and how it ran.
import type { ModelRef, Plan, Tag, Timings } from '../model/contract/index.ts';
import type { ModelSummary, SceneResult } from './api.ts';
import { bar, element } from './dom.ts';

const percent = (share: number) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

export function fillModels(select: HTMLSelectElement, about: HTMLElement, models: ModelSummary[]): void {
  select.replaceChildren(
    ...models.map((model) => {
      const what = model.tasks.includes('parse') ? 'tags, scene map' : 'tags';
      const option = element('option', '', `${model.name}: ${what}`);
      option.value = model.name;
      option.selected = model.default;
      return option;
    }),
  );
  select.disabled = false;
  const describe = () => {
    about.textContent = models.find((m) => m.name === select.value)?.description ?? '';
  };
  select.addEventListener('change', describe);
  describe();
}

/** A photo tag's raw classes with their scores, e.g. "Egyptian cat 0.73 · tabby 0.10". */
const classesLine = (tag: Tag) =>
  element('span', 'classes', (tag.classes ?? []).map((c) => `${c.label} ${c.score.toFixed(2)}`).join(' · '));

/**
 * One button per tag (name, score as a number and a bar, coverage, the finer label or broader names) and, for
 * photo labels, the raw classes behind it, shown when the list has the class "with-classes".
 */
export function renderTags(list: HTMLOListElement, tags: Tag[]): HTMLButtonElement[] {
  if (tags.length === 0) {
    list.replaceChildren(element('li', 'none', 'No label scored above the threshold for this image.'));
    return [];
  }
  const buttons = tags.map((tag) => {
    const button = element(
      'button',
      'tag',
      element('span', 'name', tag.label),
      element('span', 'score', tag.score.toFixed(3)),
      bar(tag.score),
      element(
        'span',
        'about',
        [`covers ${percent(tag.coverage)}`, ...[tag.finer ?? [], tag.parents].flat().slice(0, 3)].join(' · '),
      ),
      ...(tag.classes && tag.classes[0]?.label !== tag.label ? [classesLine(tag)] : []),
    );
    button.type = 'button';
    button.setAttribute('aria-pressed', 'false');
    return button;
  });
  list.replaceChildren(...buttons.map((button) => element('li', '', button)));
  return buttons;
}

export function renderLegend(list: HTMLUListElement, scene: SceneResult): void {
  list.replaceChildren(
    ...scene.legend.map((entry) => {
      const colour = `rgb(${entry.color.join(' ')})`;
      const swatch = element('span', 'swatch');
      swatch.style.backgroundColor = colour;
      return element(
        'li',
        '',
        swatch,
        element('span', 'name', entry.name),
        element('span', 'score', percent(entry.share)),
        bar(entry.share, colour),
      );
    }),
  );
}

const ms = (value: number) => `${Math.round(value)} ms`;

/** What ran (model, provider, input size, grid) and each request's timings. */
export function renderRun(
  ran: HTMLElement,
  timings: HTMLDListElement,
  model: ModelRef,
  plan: Plan,
  calls: Array<[string, Timings]>,
): void {
  const input = plan.inputs.map((i) => `${i.width}×${i.height}`).join(', ');
  ran.textContent =
    `${model.name} ${model.version} (sha256 ${model.sha256.slice(0, 12)}…) ran on ${plan.provider}: ` +
    `a ${plan.image.width}×${plan.image.height} image, fed as ${input}, ` +
    `gave a ${plan.grid.rows}×${plan.grid.cols} grid of cells.`;
  timings.replaceChildren(
    ...calls.flatMap(([name, t]) => [
      element('dt', '', name),
      element(
        'dd',
        '',
        element('strong', '', ms(t.totalMs)),
        ` (decode ${ms(t.decodeMs)}, queue ${ms(t.queueMs)}, inference ${ms(t.inferMs)}, post ${ms(t.postMs)})`,
      ),
    ]),
  );
}
