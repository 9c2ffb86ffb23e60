import pytest
import torch

from training.errors import UsageError
from training.export import ConvolutionalNet, check_equivalence
from training.nets import ClassicNet
from training.recipes import last_map_for


@pytest.mark.parametrize('pool', ['max', 'avg', 'l2'])
def test_dense_cells_equal_the_window_classifier_on_their_crops(pool):
    torch.manual_seed(0)
    net = ClassicNet(3, 4, [(6, 5, pool, 2), (8, 3, pool, 2)], [16, 12], last_map=2).eval()
    assert (net.window, net.stride) == (16, 4)
    image = torch.randn(1, 3, net.window + 5 * net.stride + 3, net.window + 2 * net.stride)
    scores = net.dense(image)
    assert scores.shape == (1, 4, 6, 3)
    for i in range(6):
        for j in range(3):
            crop = image[:, :, 4 * i:4 * i + 16, 4 * j:4 * j + 16]
            assert torch.allclose(net(crop), scores[:, :, i, j], atol=1e-5)


@pytest.mark.parametrize('pool', ['max', 'avg', 'l2'])
def test_linear_layers_rewritten_as_convolutions_keep_every_output(pool):
    torch.manual_seed(1)
    net = ClassicNet(1, 10, [(8, 5, pool, 2), (16, 5, pool, 2)], [32], last_map=4).eval()
    model = ConvolutionalNet(net).eval()
    convs = [layer for layer in model.head if isinstance(layer, torch.nn.Conv2d)]
    assert [conv.kernel_size for conv in convs] == [(4, 4), (1, 1)]
    assert not any(isinstance(layer, torch.nn.Linear) for layer in model.modules())
    assert check_equivalence(net, model, seed=0) < 1e-4


def test_a_window_that_leaves_a_pool_an_odd_map_is_refused():
    with pytest.raises(UsageError, match='a 28 px window does not fit stages.*a pool gets a 11 px map'):
        last_map_for(28, [(32, 3, 'max', 2), (64, 3, 'max', 2)])
