// The page's controller: an image in (file, drop or URL), tags first, then the class map (heat maps) and,
// for scene models, the scene map; tags are previewed on hover or focus and chosen by click or Enter.
import type { Tag, Timings } from '../model/contract/index.ts';
import {
  ProblemError,
  fetchModels,
  requestClassMap,
  requestScene,
  requestTags,
  saveApiKey,
  type ClassMap,
  type ImageSource,
  type TagResult,
} from './api.ts';
import { explain } from './messages.ts';
import { fillModels, renderLegend, renderRun, renderTags, type Choice } from './results.ts';
import { sceneCanvas } from './scene.ts';
import { Stage } from './stage.ts';

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = byId<HTMLFormElement>('request');
const keyForm = byId<HTMLFormElement>('key-form');
const keyInput = byId<HTMLInputElement>('api-key');
const modelSelect = byId<HTMLSelectElement>('model');
const urlInput = byId<HTMLInputElement>('url');
const fileInput = byId<HTMLInputElement>('file');
const dropZone = byId('drop');
const status = byId('status');
const errorBox = byId('error');
const results = byId('results');
const tagList = byId<HTMLOListElement>('tags');
const classesToggle = byId<HTMLInputElement>('show-classes');
const sceneSection = byId('scene');
const stage = new Stage(
  byId('frame'),
  byId<HTMLImageElement>('photo'),
  byId<HTMLCanvasElement>('overlay'),
  byId('caption'),
);

let choices: Choice[] = [];
let input: { source: ImageSource; name: string } | undefined;
let running: AbortController | undefined;

/** What is drawn over the image: a previewed tag wins, then the chosen view. */
const view = {
  tags: [] as Tag[],
  buttons: [] as HTMLButtonElement[],
  classMap: undefined as ClassMap | undefined,
  /** the model whose class map gives the heat maps */
  classMapModel: '',
  scene: undefined as HTMLCanvasElement | undefined,
  chosen: 0,
  preview: undefined as number | undefined,
  showScene: false,
};

/**
 * Whether the class map can show this tag: not for a combined tag that the class map's model (the tagger) had
 * no part in, since its ids are another model's (e.g. voc's "person"); its box and peak are drawn all the same.
 */
const heatOf = (tag: Tag) => !tag.models || tag.models.some((m) => m.name === view.classMapModel);

function paint(): void {
  const index = view.preview ?? (view.showScene && view.scene ? undefined : view.chosen);
  const tag = index === undefined ? undefined : view.tags[index];
  if (tag) stage.heat(tag, view.classMap, heatOf(tag));
  else if (view.scene && view.showScene) stage.scene(view.scene);
  else stage.clear('');
  view.buttons.forEach((button, i) =>
    button.setAttribute('aria-pressed', String(i === view.chosen && !view.showScene)),
  );
  for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="view"]')) {
    radio.checked = radio.value === (view.showScene ? 'scene' : 'tag');
  }
}

function tell(text: string, detail = ''): void {
  byId('error-text').textContent = text;
  byId('error-detail').textContent = detail;
  errorBox.hidden = false;
  status.textContent = '';
}

function showError(error: unknown): void {
  const { text, detail } = explain(error);
  tell(text, detail);
  if (error instanceof ProblemError && error.problem.code === 'unauthorized') {
    keyForm.hidden = false;
    keyInput.focus();
  }
}

function showTags(result: TagResult, isScene: boolean): void {
  view.tags = result.tags;
  view.chosen = 0;
  view.preview = undefined;
  view.showScene = isScene;
  view.buttons = renderTags(tagList, result.tags);
  classesToggle.closest('label')!.hidden = !result.tags.some((tag) => tag.classes || tag.models);
  view.buttons.forEach((button, i) => {
    const preview = () => {
      view.preview = i;
      paint();
    };
    const unpreview = () => {
      if (view.preview === i) view.preview = undefined;
      paint();
    };
    button.addEventListener('pointerenter', preview);
    button.addEventListener('focus', preview);
    button.addEventListener('pointerleave', unpreview);
    button.addEventListener('blur', unpreview);
    button.addEventListener('click', () => {
      view.chosen = i;
      view.showScene = false;
      paint();
    });
  });
  stage.resize(result.plan.image.width, result.plan.image.height);
  sceneSection.hidden = !isScene;
  results.hidden = false;
  paint();
}

async function analyse(source: ImageSource, name: string): Promise<void> {
  running?.abort();
  const controller = (running = new AbortController());
  const { signal } = controller;
  input = { source, name };
  const choice = choices.find((c) => c.value === modelSelect.value);
  if (!choice) return;
  const isScene = choice.scene;
  view.classMapModel = choice.classMapModel;
  errorBox.hidden = true;
  results.hidden = true;
  view.classMap = view.scene = undefined;
  status.textContent = `Tagging ${name} with ${choice.name}…`;
  stage.show(source, name);
  try {
    const tags = await requestTags(source, choice.tagModel, signal);
    showTags(tags, isScene);
    const best = tags.tags
      .slice(0, 3)
      .map((t) => `${t.label} ${t.score.toFixed(2)}`)
      .join(', ');
    status.textContent =
      `${name}: ${tags.tags.length} tags (${best || 'none above the threshold'}). ` + 'Drawing the maps…';
    results.setAttribute('aria-busy', 'true');
    const [classMap, scene] = await Promise.all([
      requestClassMap(source, choice.classMapModel, signal),
      isScene ? requestScene(source, choice.classMapModel, signal) : undefined,
    ]);
    view.classMap = classMap;
    const calls: Array<[string, Timings]> = [
      ['tags', tags.timings],
      ['class map', classMap.timings],
    ];
    if (scene) {
      view.scene = sceneCanvas(scene);
      renderLegend(byId<HTMLUListElement>('legend'), scene);
      calls.push(['scene map', scene.timings]);
    }
    renderRun(byId('ran'), byId<HTMLDListElement>('timings'), tags.model, tags.plan, calls, tags.models);
    paint();
    status.textContent = `${name}: ${tags.tags.length} tags (${best || 'none above the threshold'}); maps drawn.`;
  } catch (error) {
    if (signal.aborted) return;
    results.hidden = true;
    showError(error);
  } finally {
    if (running === controller) results.removeAttribute('aria-busy');
  }
}

function chooseFile(file: File | undefined): void {
  if (!file) return;
  urlInput.value = '';
  void analyse({ file }, file.name);
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const url = urlInput.value.trim();
  if (url && urlInput.checkValidity()) {
    fileInput.value = '';
    void analyse({ url }, url);
  } else if (url) {
    tell('That is not a URL: paste a full address starting with http:// or https://.');
  } else if (fileInput.files?.[0]) {
    chooseFile(fileInput.files[0]);
  } else {
    tell('Paste an image URL, or choose a file instead.');
  }
});
fileInput.addEventListener('change', () => chooseFile(fileInput.files?.[0]));
modelSelect.addEventListener('change', () => {
  if (input) void analyse(input.source, input.name);
});
classesToggle.addEventListener('change', () => tagList.classList.toggle('with-classes', classesToggle.checked));
for (const radio of document.querySelectorAll<HTMLInputElement>('input[name="view"]')) {
  radio.addEventListener('change', () => {
    view.showScene = radio.value === 'scene';
    paint();
  });
}

// a file dropped anywhere on the page is taken (and never opened by the browser in place of the page)
document.addEventListener('dragover', (event) => {
  event.preventDefault();
  dropZone.classList.add('dragging');
});
document.addEventListener('dragleave', (event) => {
  if (!event.relatedTarget) dropZone.classList.remove('dragging');
});
document.addEventListener('drop', (event) => {
  event.preventDefault();
  dropZone.classList.remove('dragging');
  const files = event.dataTransfer?.files;
  if (!files?.length) return;
  fileInput.files = files;
  chooseFile(files[0]);
});

const loadModels = () =>
  fetchModels().then((list) => {
    choices = fillModels(modelSelect, byId('model-about'), list);
  }, showError);

// the key is tried at once: the models load if they had not, and the image that was refused is sent again
keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  if (!key) return;
  saveApiKey(key);
  keyInput.value = '';
  keyForm.hidden = true;
  errorBox.hidden = true;
  if (choices.length === 0) void loadModels();
  else if (input) void analyse(input.source, input.name);
});

void loadModels();
