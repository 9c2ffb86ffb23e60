"""`python3 -m training gradcheck`: autograd against finite differences, in float64, on small window nets.

Checks the gradients of each net's window classifier and dense pass with respect to the input and to every
parameter, for max, average and L2 pooling, and of L2 pooling alone.
"""
import argparse

import torch

from .errors import CheckFailed
from .nets import ClassicNet, L2Pool2d, POOLS

try:  # PyTorch 2
    from torch.func import functional_call
except ImportError:  # PyTorch 1.13
    from torch.nn.utils.stateless import functional_call


def small_net(pool):
    """Two stages (3x3 conv, 2x2 pool) and one hidden FC layer: a 14 px window, stride 4, 3 classes."""
    return ClassicNet(2, 3, [(3, 3, pool, 2), (4, 3, pool, 2)], [5], last_map=1).double().eval()


def check(module, x):
    """gradcheck of f(x, parameters...) = module(x), every parameter swapped in by functional_call."""
    names = [name for name, _ in module.named_parameters()]
    params = [param.detach().clone().requires_grad_() for _, param in module.named_parameters()]

    def run(inputs, *values):
        return functional_call(module, dict(zip(names, values)), (inputs,))

    return torch.autograd.gradcheck(run, (x.requires_grad_(), *params), eps=1e-6, atol=1e-5, raise_exception=False)


class DenseView(torch.nn.Module):
    """Calls net.dense() from forward(), so functional_call can swap the parameters of the dense pass."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net.dense(x)


def checks(seed=0):
    """[(description, passed)] for every check."""
    generator = torch.Generator().manual_seed(seed)
    results = []
    pool_input = torch.rand(2, 3, 6, 6, generator=generator, dtype=torch.float64) + 0.1
    results.append(('L2 pooling', check(L2Pool2d(2), pool_input)))
    for pool in POOLS:
        torch.manual_seed(seed)
        net = small_net(pool)
        window = torch.randn(1, 2, net.window, net.window, generator=generator, dtype=torch.float64)
        image = torch.randn(1, 2, net.window + 2 * net.stride, net.window + net.stride, generator=generator,
                            dtype=torch.float64)
        results.append((f'{pool} pooling net, window classifier', check(net, window)))
        results.append((f'{pool} pooling net, dense pass', check(DenseView(net), image)))
    return results


def run(argv):
    parser = argparse.ArgumentParser(prog='python3 -m training gradcheck', description=__doc__.splitlines()[0])
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # tiny tensors: extra threads only wait on each other
    failed = []
    for name, passed in checks(args.seed):
        print(f"{'ok  ' if passed else 'FAIL'} {name}")
        if not passed:
            failed.append(name)
    if failed:
        raise CheckFailed(f'gradients differ from finite differences for: {", ".join(failed)}')
    print('all gradients match finite differences')
