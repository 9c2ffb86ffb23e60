// ONNX op sets the importer reasons about.

/** Per-channel operations, equally valid on [N, C] and on [N, C, H, W]. */
export const CHANNELWISE_OPS = new Set([
  'Relu',
  'LeakyRelu',
  'PRelu',
  'Sigmoid',
  'Tanh',
  'Elu',
  'Selu',
  'Clip',
  'HardSigmoid',
  'HardSwish',
  'Dropout',
  'Identity',
  'BatchNormalization',
  'Add',
  'Sub',
  'Mul',
  'Div',
]);
