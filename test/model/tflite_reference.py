"""Reference outputs of a TFLite classifier from Arm NN (Debian's python3-pyarmnn), an independent runtime.

Usage: /usr/bin/python3 test/model/tflite_reference.py MODEL.tflite PIXELS.raw [BACKEND]
PIXELS.raw holds N images of the model's input size as uint8 RGB, row by row (HWC). Prints one JSON line:
{"backend": ..., "outputs": [[p0, p1, ...], ...]} with the outputs dequantized (scale * (q - zero point)).
"""
import json
import sys

import numpy as np
import pyarmnn as ann


def open_network(model, backend):
    parser = ann.ITfLiteParser()
    network = parser.CreateNetworkFromBinaryFile(model)
    input_info = parser.GetNetworkInputBindingInfo(0, parser.GetSubgraphInputTensorNames(0)[0])
    output_info = parser.GetNetworkOutputBindingInfo(0, parser.GetSubgraphOutputTensorNames(0)[0])
    runtime = ann.IRuntime(ann.CreationOptions())
    optimized, _ = ann.Optimize(network, [ann.BackendId(backend)], runtime.GetDeviceSpec(), ann.OptimizerOptions())
    net_id, _ = runtime.LoadNetwork(optimized)
    return runtime, net_id, input_info, output_info


def main(model, pixels, backend="CpuRef"):
    runtime, net_id, input_info, output_info = open_network(model, backend)
    shape = tuple(input_info[1].GetShape()[i] for i in range(input_info[1].GetNumDimensions()))
    size = int(np.prod(shape))
    data = np.fromfile(pixels, dtype=np.uint8)
    if data.size % size:
        sys.exit(f"{pixels}: {data.size} bytes is not a whole number of {shape} inputs")
    scale = output_info[1].GetQuantizationScale()
    zero = output_info[1].GetQuantizationOffset()
    outputs = []
    for image in data.reshape((-1,) + shape):
        inputs = ann.make_input_tensors([input_info], [image.copy()])
        results = ann.make_output_tensors([output_info])
        runtime.EnqueueWorkload(net_id, inputs, results)
        raw = ann.workload_tensors_to_ndarray(results)[0].reshape(-1).astype(np.float64)
        outputs.append([round(float(v), 6) for v in scale * (raw - zero)])
    print(json.dumps({"backend": backend, "outputs": outputs}))


if __name__ == "__main__":
    main(*sys.argv[1:])
