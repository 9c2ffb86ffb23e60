import torch

from training.data.augment import RandomAffine


def test_without_shift_or_zoom_each_image_is_kept_or_mirrored():
    torch.manual_seed(0)
    images = torch.rand(64, 1, 28, 28)
    out = RandomAffine(translate=0, scale=0, flip=True)(images)
    kept = (out - images).abs().flatten(1).max(1).values < 1e-5
    mirrored = (out - images.flip(3)).abs().flatten(1).max(1).values < 1e-5
    assert bool((kept | mirrored).all())
    assert 10 < int(mirrored.sum()) < 54


def test_shifts_stay_within_the_allowed_share_of_the_side():
    torch.manual_seed(0)
    dot = torch.zeros(32, 1, 28, 28)
    dot[:, :, 14, 14] = 1
    out = RandomAffine(translate=0.1, scale=0, flip=False)(dot)
    rows = (out.sum(3).squeeze(1) * torch.arange(28)).sum(1) / out.sum((1, 2, 3))
    assert float((rows - 14).abs().max()) <= 2.8 + 0.5
    assert float((rows - 14).abs().max()) > 0.5
