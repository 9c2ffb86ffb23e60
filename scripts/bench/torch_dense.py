"""ortVsTorch, the PyTorch side: one model.onnx rebuilt as a torch module (training/onnx_torch.py: real nn.Conv2d,
nn.MaxPool2d and nn.ReLU layers) and run eagerly on the CPU under torch.no_grad, over the float32 input the bench
wrote. Prints one JSON line: the median time of the timed passes after a warm-up, and the torch version. The map
goes to --output so the bench can check that both sides computed the same thing."""
import argparse
import json
import time

import numpy as np
import torch

from training.onnx_torch import OnnxNet


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--model', required=True)
    parser.add_argument('--input', required=True, help='raw float32, [1, C, H, W]')
    parser.add_argument('--dims', required=True, help='N,C,H,W')
    parser.add_argument('--threads', type=int, required=True)
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--output', required=True, help='raw float32 map written here')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dims = [int(d) for d in args.dims.split(',')]
    x = torch.from_numpy(np.fromfile(args.input, dtype=np.float32).reshape(dims))
    net = OnnxNet(args.model).eval()
    times = []
    with torch.no_grad():
        out = net(x)
        for _ in range(args.repeats):
            started = time.perf_counter()
            net(x)
            times.append((time.perf_counter() - started) * 1000)
    out.numpy().astype(np.float32).tofile(args.output)
    print(json.dumps({'torchMs': sorted(times)[len(times) // 2], 'torch': torch.__version__,
                      'dims': list(out.shape), 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    main()
