// The picture and what is drawn over it: the chosen file (or, for a URL, a dark frame of the image's size,
// since this page fetches nothing but tagmap's own answers), a tag's heat map with its box and peak, or the
// scene map. The caption says in words what is shown.
import type { Tag } from '../model/contract/index.ts';
import type { ClassMap, ImageSource } from './api.ts';
import { heatCanvas } from './heatmap.ts';

const BOX_COLOUR = '#3ee0ff';

export class Stage {
  private objectUrl: string | undefined;

  constructor(
    private readonly frame: HTMLElement,
    private readonly photo: HTMLImageElement,
    private readonly overlay: HTMLCanvasElement,
    private readonly caption: HTMLElement,
  ) {
    photo.addEventListener('error', () => {
      if (!photo.getAttribute('src')) return;
      this.blank();
      this.caption.textContent =
        'This browser cannot show this image format; the maps are drawn on a dark frame instead.';
    });
  }

  show(source: ImageSource, name: string): void {
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = undefined;
    this.clear('');
    if (!('file' in source)) return this.blank();
    this.objectUrl = URL.createObjectURL(source.file);
    this.photo.src = this.objectUrl;
    this.photo.alt = `The chosen image, ${name}`;
    this.photo.hidden = false;
  }

  /** Size of the upright image in px, as the server saw it: the overlay draws in those coordinates. The frame
   * keeps the image's proportions, as wide as the column allows and at most 72% of the window's height. */
  resize(width: number, height: number): void {
    this.overlay.width = width;
    this.overlay.height = height;
    this.frame.style.aspectRatio = `${width} / ${height}`;
    this.frame.style.width = `min(100%, ${((72 * width) / height).toFixed(2)}vh)`;
  }

  clear(caption: string): CanvasRenderingContext2D {
    const context = this.overlay.getContext('2d')!;
    context.clearRect(0, 0, this.overlay.width, this.overlay.height);
    this.caption.textContent = caption;
    return context;
  }

  /**
   * The tag's box and peak, and its heat map once the class map is there; cells are stretched between their
   * centres. Without `hasHeat` (a tag the class map's model does not score) only the box and peak.
   */
  heat(tag: Tag, map: ClassMap | undefined, hasHeat = true): void {
    const context = this.clear('');
    if (!hasHeat) {
      // a combined tag that only another model than the class map's gave (e.g. voc's "person")
      this.caption.textContent =
        `“${tag.label}”, from ${(tag.models ?? []).map((m) => m.name).join(' · ')}: the box marks where it is ` +
        `found, the ring its peak (no heat map: the class map's model does not score this label).`;
    } else if (map) {
      // a photo tag's heat map sums the raw classes it lists (its best few members)
      const { canvas, peak } = heatCanvas(map, tag.classes?.map((c) => c.id) ?? [tag.id]);
      const { originX, originY, stepX, stepY } = map.grid;
      const [, rows, cols] = map.shape;
      context.imageSmoothingEnabled = true;
      context.drawImage(canvas, originX - stepX / 2, originY - stepY / 2, cols * stepX, rows * stepY);
      this.caption.textContent =
        `Heat map of “${tag.label}”: brighter where the model is surer, full strength at its best cell ` +
        `(p = ${peak.toFixed(2)}). The box marks where it is found, the ring its peak.`;
    } else {
      this.caption.textContent =
        `“${tag.label}”: the box marks where it is found, the ring its peak. ` + 'Drawing its heat map…';
    }
    this.outline(context, tag);
  }

  scene(map: HTMLCanvasElement): void {
    const context = this.clear(
      'Scene map: every pixel coloured by its most likely class; the legend names the colours.',
    );
    context.drawImage(map, 0, 0, this.overlay.width, this.overlay.height);
  }

  private outline(context: CanvasRenderingContext2D, { box, peak }: Tag): void {
    const line = Math.max(2, Math.round(Math.max(this.overlay.width, this.overlay.height) / 250));
    for (const [colour, width] of [
      ['rgba(0, 0, 0, 0.65)', line + 2],
      [BOX_COLOUR, line],
    ] as const) {
      context.strokeStyle = colour;
      context.lineWidth = width;
      context.strokeRect(box.x, box.y, box.width, box.height);
      context.beginPath();
      context.arc(peak.x, peak.y, line * 3, 0, 2 * Math.PI);
      context.stroke();
    }
  }

  private blank(): void {
    this.photo.hidden = true;
    this.photo.removeAttribute('src');
    this.photo.alt = '';
  }
}
