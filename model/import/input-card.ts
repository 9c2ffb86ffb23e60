// The card's input block for an import: the convention from the flags, else from the file (a TFLite input
// tensor's quantization), else scale 1, mean 0, std 1.
import type { Card } from '../contract/card.ts';
import { ImportError } from './import-error.ts';
import type { ImportOptions } from './importer.ts';
import type { SourceModel } from './source.ts';

/** Keeps golden.json compact: 7 significant digits, applied before the numbers are used. */
export const rounded = (values: ArrayLike<number>) => Float32Array.from(values, (v) => Number(v.toPrecision(7)));

function perChannel(values: number[] | undefined, channels: number, fallback: number, flag: string): number[] {
  if (!values) return Array(channels).fill(fallback);
  if (values.length === 1) return Array(channels).fill(values[0]);
  if (values.length !== channels) throw new ImportError(`${flag} needs 1 or ${channels} values, got ${values.length}`);
  return values;
}

export function inputCard(
  options: ImportOptions,
  source: SourceModel,
  name: string,
  channels: 1 | 3,
  sides: { minSide: number; shortSide: number },
): Card['input'] {
  return {
    name,
    channels,
    color: options.color ?? (channels === 3 ? 'rgb' : 'gray'),
    scale: options.scale ?? source.inputDefaults?.scale ?? 1,
    mean: perChannel(options.mean ?? source.inputDefaults?.mean, channels, 0, '--mean'),
    std: perChannel(options.std ?? source.inputDefaults?.std, channels, 1, '--std'),
    minSide: sides.minSide,
    shortSide: options.shortSide ?? sides.shortSide,
    ...(options.pad && { pad: options.pad }),
  };
}
