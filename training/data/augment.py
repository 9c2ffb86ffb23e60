"""Batch augmentation by random affine warps: translation, scaling and left/right flips, one draw per image."""
import torch
import torch.nn.functional as F


class RandomAffine:
    """translate: largest shift as a share of the side; scale: largest relative zoom; flip: mirror half the images.

    Pixels moved in from outside the image are zero (the background of Fashion-MNIST before normalisation).
    """

    def __init__(self, translate, scale, flip=True):
        self.translate, self.scale, self.flip = translate, scale, flip

    def __call__(self, images):
        n = images.shape[0]
        zoom = 1 + (torch.rand(n) * 2 - 1) * self.scale
        mirror = torch.where(torch.rand(n) < 0.5, -1.0, 1.0) if self.flip else torch.ones(n)
        # affine_grid maps output to input coordinates in [-1, 1]: a shift t moves the content by -t * side / 2.
        shift = (torch.rand(n, 2) * 2 - 1) * self.translate * 2
        theta = torch.zeros(n, 2, 3)
        theta[:, 0, 0] = mirror / zoom
        theta[:, 1, 1] = 1 / zoom
        theta[:, :, 2] = shift
        grid = F.affine_grid(theta.to(images), list(images.shape), align_corners=False)
        return F.grid_sample(images, grid, mode='bilinear', padding_mode='zeros', align_corners=False)
