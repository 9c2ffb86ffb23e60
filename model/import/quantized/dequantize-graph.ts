// int8 ONNX (QDQ or QOperator) to a float32 graph that computes the same function up to rounding: DequantizeLinear
// of constants becomes float weights, a QuantizeLinear -> DequantizeLinear pair becomes a Clip to the int8 range
// (which is where a quantizer keeps the fused ReLUs), QLinear* ops become their float ops. The float head finder
// and rewrite then work unchanged.
import { pruneUnused } from '../graph.ts';
import { ImportError } from '../import-error.ts';
import { describeNode, intAttribute, toNumber, type Model, type Node } from '../onnx-file.ts';
import { tensorValues } from '../tensors.ts';
import { FloatContext } from './float-context.ts';
import { convertQLinear, isQLinearOp } from './qlinear-ops.ts';
import { dequantizeConstant, fakeQuantize, readQuantization } from './quant-params.ts';

/** Integer-arithmetic ops of dynamic quantization: not int8 models with fixed scales. */
const UNSUPPORTED = new Set(['DynamicQuantizeLinear', 'MatMulInteger', 'ConvInteger', 'DynamicQuantizeMatMul']);

export const isQuantized = (model: Model): boolean =>
  (model.graph?.node ?? []).some(
    (node) => ['QuantizeLinear', 'DequantizeLinear'].includes(node.opType!) || isQLinearOp(node as Node),
  );

/** A quantized tensor that enters the converted part: dequantized once, as its consumers would. */
export interface FloatEntry {
  tensor: string;
  /** the node whose inputs hold its scale and zero point, and their position */
  node: Node;
  scaleAt: number;
}

/**
 * Converts the nodes in `scope` (all when omitted) in place; the others stay int8. Returns lines for the card's
 * rewrites (none when the model has no quantized ops). keepUnknown: leave quantized ops it cannot convert as they
 * are (when only checking the parameters of a trunk that onnxruntime will run as it is).
 */
export function dequantizeModel(
  model: Model,
  scope?: Set<Node>,
  entries: FloatEntry[] = [],
  keepUnknown = false,
): string[] {
  if (!isQuantized(model)) return [];
  const context = new FloatContext(model);
  const counts = new Map<string, number>();
  const count = (line: string) => counts.set(line, (counts.get(line) ?? 0) + 1);
  let entered = false;
  for (const node of context.graph.node) {
    if (scope && !scope.has(node)) {
      context.nodes.push(node);
      continue;
    }
    if (!entered) for (const entry of entries) count(enter(entry, context));
    entered = true;
    if (UNSUPPORTED.has(node.opType))
      throw new ImportError(`unsupported quantized op: ${describeNode(node)} (dynamic quantization)`);
    if (node.opType === 'QuantizeLinear') count(quantize(node, context));
    else if (node.opType === 'DequantizeLinear') count(dequantize(node, context));
    else if (isQLinearOp(node)) count(`${node.opType} -> ${convertQLinear(node, context)}`);
    else if (/^(QLinear|QGemm|QAttention)/.test(node.opType) && !keepUnknown)
      throw new ImportError(`unsupported quantized op: ${describeNode(node)}`);
    else context.nodes.push({ ...node, input: node.input.map((input) => input && context.resolve(input)) });
  }
  context.finish();
  pruneUnused(context.graph);
  return [...counts].map(([line, n]) => `int8 -> float32: ${n} x ${line}`);
}

function enter({ tensor, node, scaleAt }: FloatEntry, context: FloatContext): string {
  readQuantization(node, scaleAt, context.constants);
  const inputs = [tensor, node.input[scaleAt], node.input[scaleAt + 1]].filter(Boolean);
  context.emit('DequantizeLinear', `${tensor}_DequantizeLinear`, inputs, `${tensor}_dequantized`);
  context.alias(tensor, `${tensor}_dequantized`);
  return `DequantizeLinear of the trunk's int8 output '${tensor}' added`;
}

/** A QuantizeLinear of activations clips them to the int8 range; of a float constant, rounds it as int8 would. */
function quantize(node: Node, context: FloatContext): string {
  const constant = context.constants.get(node.input[0]);
  const axis = intAttribute(node, 'axis', 1);
  const dims = constant?.dims.map(toNumber) ?? [];
  const q = readQuantization(node, 1, context.constants, {
    axisSize: constant ? dims[axis < 0 ? axis + dims.length : axis] : undefined,
  });
  if (constant) {
    context.addConstant(node.output[0], dims, fakeQuantize(tensorValues(constant), dims, q, axis));
    return 'QuantizeLinear of a float constant -> the constant rounded to int8';
  }
  context.emitClip(node.name || node.output[0], node.input[0], node.output[0], q);
  return 'QuantizeLinear -> Clip to its int8 range';
}

/** A DequantizeLinear of an integer constant becomes a float constant; of activations, nothing (its input is float). */
function dequantize(node: Node, context: FloatContext): string {
  const constant = context.constants.get(node.input[0]);
  const axis = intAttribute(node, 'axis', 1);
  if (constant && constant.dataType !== 1) {
    const dims = constant.dims.map(toNumber);
    const along = axis < 0 ? axis + dims.length : axis;
    const q = readQuantization(node, 1, context.constants, { axisSize: dims[along], allowInt32: true });
    context.addConstant(node.output[0], dims, dequantizeConstant(constant, q, axis, node));
    return 'DequantizeLinear of a constant -> float weights';
  }
  readQuantization(node, 1, context.constants, { allowInt32: true });
  context.alias(node.output[0], node.input[0]);
  return 'DequantizeLinear of activations -> removed';
}
