// parse(): the per-pixel label map with its legend, as a grey label PNG, a colour overlay PNG, or RLE masks.
import type { ParseOptions } from '../contract/options.ts';
import type { ParseResult } from '../contract/results.ts';
import { encodeLabelPng, encodeOverlayPng } from '../io/image.ts';
import { resolveParse, type ResolvedParse } from '../runtime/options.ts';
import { modelRefOf, timingsOf } from '../runtime/run.ts';
import { colourLayer, legendOf } from './legend.ts';
import { encodeMasks } from './rle.ts';
import type { Task } from './task.ts';

export const parseTask: Task<ParseOptions, ResolvedParse, ParseResult> = {
  cardTask: 'parse',
  labelMap: true,
  resolve: resolveParse,
  async answer(ran, request, { maxPixels }) {
    const { entry } = ran;
    const labels = ran.result.labels!;
    const { width, height } = ran.plan.image;
    const legend = legendOf(labels, entry.card);
    const result: ParseResult = {
      model: modelRefOf(entry),
      plan: ran.plan,
      timings: timingsOf(ran),
      width,
      height,
      legend,
      labels,
    };
    if (request.format === 'png') result.png = await encodeLabelPng(labels, width, height);
    if (request.format === 'overlay')
      result.png = await encodeOverlayPng(ran.image, colourLayer(labels, entry.card), maxPixels);
    if (request.format === 'json') {
      const byId = new Map(legend.map((l) => [l.id, l]));
      result.masks = [...encodeMasks(labels, width, height)].map(([id, rle]) => {
        const { name, share } = byId.get(id)!;
        return { id, name, share, rle };
      });
    }
    result.timings = timingsOf(ran);
    return result;
  },
};
