// The findings as page content: the model picker's options, the tag list, the scene legend and how it ran.
import type { ModelRef, Plan, Tag, Timings } from '../model/contract/index.ts';
import type { ModelList, SceneResult } from './api.ts';
import { bar, element } from './dom.ts';

const percent = (share: number) => `${(share * 100).toFixed(share < 0.1 ? 1 : 0)}%`;

/** What one option of the model picker asks for. */
export interface Choice {
  /** the option's value: a model's name, or the tag models joined by "+" for the combination */
  value: string;
  /** in the status line, e.g. "imagenet" or "imagenet + voc" */
  name: string;
  /** the model named in the tag request; undefined: none, so the server combines its tag models */
  tagModel: string | undefined;
  /** the model whose class map gives the heat maps */
  classMapModel: string;
  /** whether to ask for a scene map too */
  scene: boolean;
  description: string;
}

/**
 * One choice per model and, when the server combines several for a tag request naming none (tagModels), first
 * that combination, chosen by default: its heat maps come from the tagger (the first), and it has no scene map.
 */
function modelChoices({ models, tagModels }: ModelList): Choice[] {
  const each = models.map((model) => ({
    value: model.name,
    name: model.name,
    tagModel: model.name,
    classMapModel: model.name,
    scene: model.tasks.includes('parse'),
    description: model.description,
  }));
  const [tagger, ...parsers] = tagModels;
  if (!tagger || parsers.length === 0) return each;
  const combined: Choice = {
    value: tagModels.join('+'),
    name: tagModels.join(' + '),
    tagModel: undefined,
    classMapModel: tagger,
    scene: false,
    description:
      `The ${tagger} tagger's tags, joined by what the ${parsers.join(' and ')} scene parser finds (people, ` +
      `animals, vehicles, furniture) with its masks' boxes. Heat maps come from ${tagger}.`,
  };
  return [combined, ...each];
}

/** The picker's options from the choices; the first of them is the combination when there is one. */
export function fillModels(select: HTMLSelectElement, about: HTMLElement, list: ModelList): Choice[] {
  const choices = modelChoices(list);
  const combined = choices[0]?.tagModel === undefined;
  select.replaceChildren(
    ...choices.map((choice, i) => {
      const model = list.models.find((m) => m.name === choice.tagModel);
      const what =
        choice.tagModel === undefined ? 'tags with people (default)' : choice.scene ? 'tags, scene map' : 'tags';
      const option = element('option', '', `${choice.name}: ${what}`);
      option.value = choice.value;
      option.selected = combined ? i === 0 : Boolean(model?.default);
      return option;
    }),
  );
  select.disabled = false;
  const describe = () => {
    about.textContent = choices.find((c) => c.value === select.value)?.description ?? '';
  };
  select.addEventListener('change', describe);
  describe();
  return choices;
}

/** A photo tag's raw classes with their scores, e.g. "Egyptian cat 0.73 · tabby 0.10". */
const classesLine = (tag: Tag) =>
  element('span', 'classes', (tag.classes ?? []).map((c) => `${c.label} ${c.score.toFixed(2)}`).join(' · '));

/**
 * A combined tag's models, e.g. "from imagenet · voc"; each model's own score (and a gated label's agreement
 * of the tagger) is in a span shown with the raw classes: "from imagenet 0.02 · voc 0.99 (agreed 0.31)".
 */
function modelsLine(models: NonNullable<Tag['models']>): HTMLSpanElement {
  const parts = models.flatMap((m, i) => [
    ...(i > 0 ? [' · '] : []),
    m.name,
    element(
      'span',
      'model-score',
      ` ${m.score.toFixed(2)}${m.agreement === undefined ? '' : ` (agreed ${m.agreement.toFixed(2)})`}`,
    ),
  ]);
  return element('span', 'models', 'from ', ...parts);
}

/**
 * One button per tag (name, score as a number and a bar, coverage, the finer label or broader names) and, for
 * photo labels, the raw classes behind it, shown when the list has the class "with-classes"; for combined
 * tags, the models behind it (their own scores shown with the raw classes).
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
      ...(tag.models ? [modelsLine(tag.models)] : []),
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

const described = (model: ModelRef) => `${model.name} ${model.version} (sha256 ${model.sha256.slice(0, 12)}…)`;

/** What ran (the model, or every model of a combination, provider, input size, grid) and each request's timings. */
export function renderRun(
  ran: HTMLElement,
  timings: HTMLDListElement,
  model: ModelRef,
  plan: Plan,
  calls: Array<[string, Timings]>,
  models?: ModelRef[],
): void {
  const input = plan.inputs.map((i) => `${i.width}×${i.height}`).join(', ');
  const others = (models ?? []).filter((m) => m.name !== model.name);
  ran.textContent =
    others.length === 0
      ? `${described(model)} ran on ${plan.provider}: ` +
        `a ${plan.image.width}×${plan.image.height} image, fed as ${input}, ` +
        `gave a ${plan.grid.rows}×${plan.grid.cols} grid of cells.`
      : `${[model, ...others].map(described).join(' and ')} ran on ${plan.provider}, their tags combined: ` +
        `a ${plan.image.width}×${plan.image.height} image, fed to ${model.name} as ${input}, ` +
        `gave a ${plan.grid.rows}×${plan.grid.cols} grid of cells.`;
  timings.replaceChildren(
    ...calls.flatMap(([name, t]) => [
      element('dt', '', name),
      element(
        'dd',
        '',
        element('strong', '', ms(t.totalMs)),
        ` (${t.loadMs > 0 ? `model load ${ms(t.loadMs)}, ` : ''}decode ${ms(t.decodeMs)}, queue ${ms(t.queueMs)}, ` +
          `inference ${ms(t.inferMs)}, post ${ms(t.postMs)})`,
      ),
    ]),
  );
}
