// QOperator nodes (QLinearConv, QLinearMatMul, QGemm, com.microsoft's QLinearAdd and friends) as their float op
// followed by a Clip to the output's int8 range. Constant operands are dequantized into float weights; the others
// already carry float values in the converted graph.
import { ImportError } from '../import-error.ts';
import { describeNode, intAttribute, toNumber, type Node } from '../onnx-file.ts';
import type { FloatContext } from './float-context.ts';
import { elementTypeName, intValues } from './int-tensors.ts';
import { dequantizeConstant, readQuantization, type Quantization } from './quant-params.ts';

/** Input positions: each operand with its scale, the output scale (undefined: float output), the bias, if any. */
interface Layout {
  float: string;
  operands: Array<[data: number, scale: number]>;
  output?: number;
  bias?: number;
  /** attributes that only the quantized op has */
  drop?: string[];
}

const LAYOUTS: Record<string, Layout> = {
  QLinearConv: {
    float: 'Conv',
    operands: [
      [0, 1],
      [3, 4],
    ],
    output: 6,
    bias: 8,
  },
  QLinearMatMul: {
    float: 'MatMul',
    operands: [
      [0, 1],
      [3, 4],
    ],
    output: 6,
  },
  QGemm: {
    float: 'Gemm',
    operands: [
      [0, 1],
      [3, 4],
    ],
    output: 7,
    bias: 6,
  },
  QLinearAdd: {
    float: 'Add',
    operands: [
      [0, 1],
      [3, 4],
    ],
    output: 6,
  },
  QLinearMul: {
    float: 'Mul',
    operands: [
      [0, 1],
      [3, 4],
    ],
    output: 6,
  },
  QLinearGlobalAveragePool: { float: 'GlobalAveragePool', operands: [[0, 1]], output: 3, drop: ['channels_last'] },
  QLinearAveragePool: { float: 'AveragePool', operands: [[0, 1]], output: 3, drop: ['channels_last'] },
  QLinearSigmoid: { float: 'Sigmoid', operands: [[0, 1]], output: 3 },
  QLinearLeakyRelu: { float: 'LeakyRelu', operands: [[0, 1]], output: 3 },
};

export const isQLinearOp = (node: Node): boolean => node.opType in LAYOUTS || node.opType === 'QLinearConcat';

/** Where the scale of input `at` of a quantized node sits (undefined when that input is not a quantized operand). */
export function scaleInputOf(node: Node, at: number): number | undefined {
  if (node.opType === 'DequantizeLinear') return at === 0 ? 1 : undefined;
  if (node.opType === 'QLinearConcat') return at >= 2 && (at - 2) % 3 === 0 ? at + 1 : undefined;
  return LAYOUTS[node.opType]?.operands.find(([data]) => data === at)?.[1];
}

/** The axis a per-channel scale runs along for a constant operand: output channels of a conv, columns of a matrix. */
function channelAxis(node: Node, operand: number, rank: number): number {
  if (node.opType === 'QLinearConv') return 0;
  if (node.opType === 'QGemm' && operand === 1) return intAttribute(node, 'transB', 0) ? 0 : 1;
  return rank - 1;
}

export function convertQLinear(node: Node, context: FloatContext): string {
  const name = node.name || node.output[0];
  if (intAttribute(node, 'channels_last', 0) !== 0)
    throw new ImportError(`unsupported quantized op: ${describeNode(node)} is channels_last`);
  if (node.opType === 'QLinearConcat') return convertConcat(node, context, name);
  const layout = LAYOUTS[node.opType];
  const scales: Quantization[] = [];
  const inputs = layout.operands.map(([data, scaleAt], operand) => {
    const constant = context.constants.get(node.input[data]);
    const dims = constant?.dims.map(toNumber) ?? [];
    const axis = channelAxis(node, operand, dims.length);
    const q = readQuantization(node, scaleAt, context.constants, { axisSize: constant ? dims[axis] : undefined });
    scales.push(q);
    if (!constant) return node.input[data];
    return context.addConstant(`${node.input[data]}_dequantized`, dims, dequantizeConstant(constant, q, axis, node));
  });
  if (layout.bias !== undefined && node.input[layout.bias])
    inputs.push(dequantizeBias(node, layout.bias, scales, context));
  const attribute = node.attribute.filter((a) => !layout.drop?.includes(a.name));
  const hasOutputScale = layout.output !== undefined && node.input[layout.output];
  if (!hasOutputScale) {
    context.emit(layout.float, name, inputs, node.output[0], attribute);
    return layout.float;
  }
  context.emit(layout.float, `${name}_float`, inputs, `${node.output[0]}_float`, attribute);
  context.emitClip(
    `${name}_range`,
    `${node.output[0]}_float`,
    node.output[0],
    readQuantization(node, layout.output!, context.constants),
  );
  return `${layout.float} + Clip`;
}

/** int32 bias of a conv or gemm: its scale is input scale x weight scale (per channel), its zero point 0. */
function dequantizeBias(node: Node, at: number, [input, weight]: Quantization[], context: FloatContext): string {
  const tensor = context.constants.get(node.input[at]);
  if (!tensor) throw new ImportError(`${describeNode(node)}: bias '${node.input[at]}' is not a constant initializer`);
  const values = intValues(tensor);
  if (tensor.dataType !== 6)
    throw new ImportError(
      `${describeNode(node)}: bias '${tensor.name}' is ${elementTypeName(tensor.dataType)}, expected int32`,
    );
  const scale = (c: number) => input.scale[0] * weight.scale[weight.scale.length > 1 ? c : 0];
  const dims = tensor.dims.map(toNumber);
  return context.addConstant(
    `${tensor.name}_dequantized`,
    dims,
    Float32Array.from(values, (v, c) => v * scale(c)),
  );
}

/** QLinearConcat(Y_scale, Y_zero_point, then X, X_scale, X_zero_point for each input). */
function convertConcat(node: Node, context: FloatContext, name: string): string {
  const output = readQuantization(node, 0, context.constants);
  const inputs: string[] = [];
  for (let i = 2; i < node.input.length; i += 3) {
    readQuantization(node, i + 1, context.constants);
    if (context.constants.has(node.input[i]))
      throw new ImportError(`unsupported quantized op: ${describeNode(node)} concatenates a constant`);
    inputs.push(node.input[i]);
  }
  context.emit('Concat', `${name}_float`, inputs, `${node.output[0]}_float`, node.attribute);
  context.emitClip(`${name}_range`, `${node.output[0]}_float`, node.output[0], output);
  return 'Concat + Clip';
}
