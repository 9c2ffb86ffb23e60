"""PNG plots of a training run: loss and error curves, first-layer filters (matplotlib, Agg backend)."""
import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen before pyplot loads)
import torch.nn as nn  # noqa: E402


def plot_curves(history, path):
    """history: [{'epoch', 'train_loss', 'val_loss', 'train_error', 'val_error'}]."""
    epochs = [row['epoch'] for row in history]
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    for axis, metric in zip(axes, ['loss', 'error']):
        for split in ['train', 'val']:
            axis.plot(epochs, [row[f'{split}_{metric}'] for row in history], marker='o', label=split)
        axis.set_xlabel('epoch')
        axis.set_ylabel(metric)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def plot_filters(net, path):
    """The first conv layer's kernels in a grid, each scaled to its own range (RGB when 3 input channels)."""
    conv = next(module for module in net.modules() if isinstance(module, nn.Conv2d))
    weights = conv.weight.detach().cpu()
    columns = min(8, len(weights))
    rows = -(-len(weights) // columns)
    figure, axes = plt.subplots(rows, columns, figsize=(columns, rows), squeeze=False)
    for axis in axes.flat:
        axis.axis('off')
    for axis, kernel in zip(axes.flat, weights):
        kernel = (kernel - kernel.min()) / (kernel.max() - kernel.min() + 1e-12)
        if kernel.shape[0] == 3:
            axis.imshow(kernel.permute(1, 2, 0).numpy(), interpolation='nearest')
        else:
            axis.imshow(kernel[0].numpy(), cmap='gray', interpolation='nearest')
    figure.suptitle(f'first-layer filters ({weights.shape[2]}x{weights.shape[3]})')
    figure.savefig(path, dpi=100)
    plt.close(figure)
