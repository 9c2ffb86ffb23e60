// The builtin option tables of the ops the converter handles (schema.fbs: Conv2DOptions, DepthwiseConv2DOptions,
// Pool2DOptions, FullyConnectedOptions, SoftmaxOptions, ConcatenationOptions, AddOptions, ReshapeOptions,
// ReducerOptions, SqueezeOptions), read into one flat record with the schema's defaults.
import { ImportError } from '../import-error.ts';
import type { FlatTable } from './flatbuffer-table.ts';
import type { TfliteOperator } from './reader.ts';
import { ACTIVATIONS, FIELDS, PADDINGS, type Activation, type Padding } from './schema.ts';

export interface OpOptions {
  padding: Padding;
  strideW: number;
  strideH: number;
  dilationW: number;
  dilationH: number;
  depthMultiplier: number;
  filterW: number;
  filterH: number;
  activation: Activation;
  beta: number;
  axis: number;
  keepDims: boolean;
  newShape: number[];
  squeezeDims: number[];
}

const DEFAULTS: OpOptions = {
  padding: 'SAME',
  strideW: 1,
  strideH: 1,
  dilationW: 1,
  dilationH: 1,
  depthMultiplier: 1,
  filterW: 1,
  filterH: 1,
  activation: 'NONE',
  beta: 1,
  axis: 0,
  keepDims: false,
  newShape: [],
  squeezeDims: [],
};

function enumValue<T extends string>(list: readonly T[], value: number, what: string, op: TfliteOperator): T {
  const name = list[value];
  if (!name) throw new ImportError(`${op.op} at operator ${op.index}: unknown ${what} ${value}`);
  return name;
}

function readTable(t: FlatTable, op: TfliteOperator): Partial<OpOptions> {
  const act = (field: number) => enumValue(ACTIVATIONS, t.int8(field), 'fused activation', op);
  const pad = (field: number) => enumValue(PADDINGS, t.int8(field), 'padding', op);
  /** the fields every windowed op has: padding, strides and a fused activation */
  const windowed = (f: { padding: number; strideW: number; strideH: number; activation: number }) => ({
    padding: pad(f.padding),
    strideW: t.int32(f.strideW),
    strideH: t.int32(f.strideH),
    activation: act(f.activation),
  });
  const dilations = (f: { dilationW: number; dilationH: number }) => ({
    dilationW: t.int32(f.dilationW, 1),
    dilationH: t.int32(f.dilationH, 1),
  });
  switch (op.op) {
    case 'CONV_2D':
      return { ...windowed(FIELDS.conv2d), ...dilations(FIELDS.conv2d) };
    case 'DEPTHWISE_CONV_2D': {
      const f = FIELDS.depthwise;
      return { ...windowed(f), ...dilations(f), depthMultiplier: t.int32(f.depthMultiplier) };
    }
    case 'AVERAGE_POOL_2D':
    case 'MAX_POOL_2D': {
      const f = FIELDS.pool2d;
      return { ...windowed(f), filterW: t.int32(f.filterW), filterH: t.int32(f.filterH) };
    }
    case 'FULLY_CONNECTED':
      return { activation: act(FIELDS.fullyConnected.activation) };
    case 'SOFTMAX':
      return { beta: t.float32(FIELDS.softmax.beta) };
    case 'CONCATENATION':
      return { axis: t.int32(FIELDS.concatenation.axis), activation: act(FIELDS.concatenation.activation) };
    case 'ADD':
      return { activation: act(FIELDS.add.activation) };
    case 'RESHAPE':
      return { newShape: t.int32s(FIELDS.reshape.newShape) };
    case 'MEAN':
      return { keepDims: t.bool(FIELDS.reducer.keepDims) };
    case 'SQUEEZE':
      return { squeezeDims: t.int32s(FIELDS.squeeze.squeezeDims) };
    default:
      return {};
  }
}

export function readOptions(op: TfliteOperator): OpOptions {
  const options = { ...DEFAULTS, ...(op.options ? readTable(op.options, op) : {}) };
  const strides = [options.strideW, options.strideH, options.dilationW, options.dilationH, options.depthMultiplier];
  if (strides.some((n) => !(n >= 1)))
    throw new ImportError(`${op.op} at operator ${op.index}: strides, dilations and depth multiplier must be >= 1`);
  return options;
}
