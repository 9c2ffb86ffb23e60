"""Scene-parsing metrics at full image resolution: global pixel accuracy, class average, mean IoU.

The prediction follows the card and the server: scale the image to shortSide, pad it by edge replication
(half a window before, and after until a cell centre lies past the last pixel), run dense(), place each
cell's logits at its window centre mapped back to the original image, interpolate bilinearly to every pixel,
take the argmax. Void pixels are not scored.
"""
import torch
import torch.nn.functional as F

from .data.scenes import scale_to_short_side


def cell_interpolation(cells, stride, window, pad, scaled_side, original_side):
    """[original_side, cells] matrix: bilinear weights of each pixel centre between the cell centres."""
    factor = original_side / scaled_side
    centres = (torch.arange(cells, dtype=torch.float64) * stride + window / 2 - pad) * factor
    pixels = torch.arange(original_side, dtype=torch.float64) + 0.5
    position = ((pixels - centres[0]) / (stride * factor)).clamp(0, cells - 1)
    low = position.floor().long().clamp(max=cells - 1)
    high = (low + 1).clamp(max=cells - 1)
    frac = position - low
    weights = torch.zeros(original_side, cells, dtype=torch.float64)
    weights[torch.arange(original_side), low] += 1 - frac
    weights[torch.arange(original_side), high] += frac
    return weights.float()


def border_after(side, pad, window, stride):
    """Padding after the image so that the last cell centre reaches past the last pixel, as the server pads."""
    cells = -(-(pad + side - window / 2) // stride) + 1
    return int((cells - 1) * stride + window - pad - side)


@torch.no_grad()
def full_resolution_logits(net, image, short_side, mean, std, device='cpu'):
    """uint8 [3,H,W] -> logits [K,H,W] at the image's own resolution."""
    scaled = scale_to_short_side(image, short_side)
    mean = torch.tensor(mean).view(3, 1, 1) * 255
    std = torch.tensor(std).view(3, 1, 1) * 255
    pad = net.window // 2
    after = [border_after(side, pad, net.window, net.stride) for side in scaled.shape[1:]]
    padded = F.pad(((scaled - mean) / std)[None], (pad, after[1], pad, after[0]), mode='replicate')
    logits = net.dense(padded.to(device))[0].cpu()
    rows = cell_interpolation(logits.shape[1], net.stride, net.window, pad, scaled.shape[1], image.shape[1])
    cols = cell_interpolation(logits.shape[2], net.stride, net.window, pad, scaled.shape[2], image.shape[2])
    return torch.einsum('hi,kij,wj->khw', rows, logits, cols)


def confusion(prediction, label, num_classes, ignore):
    """[K,K] counts, rows = true class, columns = predicted; void pixels skipped."""
    keep = label != ignore
    index = label[keep].long() * num_classes + prediction[keep].long()
    return torch.bincount(index, minlength=num_classes * num_classes).view(num_classes, num_classes)


def scores(matrix):
    """Global accuracy, class average (mean per-class recall) and mean IoU over classes present."""
    matrix = matrix.double()
    true = matrix.sum(1)
    present = true > 0
    hits = matrix.diag()
    recall = hits[present] / true[present]
    iou = hits[present] / (true + matrix.sum(0) - hits)[present]
    return {'globalAccuracy': float(hits.sum() / matrix.sum()), 'classAverage': float(recall.mean()),
            'meanIoU': float(iou.mean())}


def evaluate_scenes(net, data, short_side, mean, std, device='cpu'):
    """Metrics of net on every image of a SceneSet, at full resolution; returns (scores, per-class recall)."""
    was_training = net.training
    net.eval()
    matrix = torch.zeros(data.num_classes, data.num_classes, dtype=torch.long)
    for image, label in zip(data.images, data.labels):
        prediction = full_resolution_logits(net, image, short_side, mean, std, device).argmax(0)
        matrix += confusion(prediction, label, data.num_classes, data.ignore)
    net.train(was_training)
    per_class = (matrix.diag().double() / matrix.sum(1).double().clamp(min=1)).tolist()
    return scores(matrix), per_class
