"""Offline data for the lessons: nothing is downloaded, ever.

* ``digits()``: scikit-learn's bundled 8×8 handwritten digits (1,797 images, 10 classes) as tensors.
* ``sample_photo()``: a real photo that ships inside matplotlib (Grace Hopper's portrait by default).
* ``synthetic_feature_maps()``: feature maps whose per-pixel channel vectors lie near a known subspace.
* ``conv_features()``: real multi-channel feature maps, a fixed seeded conv bank + ReLU run on a photo.

Every tensor is ``float32``; image-like tensors are ``(N, C, H, W)`` or ``(C, H, W)`` as PyTorch expects.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ._validate import flag, integer, positive_int

__all__ = [
    "digits",
    "train_test_split",
    "sample_photos",
    "sample_photo",
    "SyntheticMaps",
    "synthetic_feature_maps",
    "conv_features",
]


def digits(as_images: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's bundled handwritten digits, scaled to ``[0, 1]``.

    Returns ``(x, y)``: ``x: (1797, 1, 8, 8)`` float32 (``(1797, 64)`` with ``as_images=False``) and
    ``y: (1797,)`` int64 class labels 0..9. The pixel values 0..16 of the original data are divided by 16.
    """
    flag("as_images", as_images)
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    bunch = load_digits()
    x = torch.tensor(bunch.data / 16.0, dtype=torch.float32)
    y = torch.tensor(bunch.target, dtype=torch.int64)
    if as_images:
        x = x.reshape(-1, 1, 8, 8)
    return x, y


def train_test_split(
    x: torch.Tensor, y: torch.Tensor, test_fraction: float = 0.25, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seeded random split of ``(x, y)`` along the first axis: returns ``x_train, x_test, y_train, y_test``.

    The same ``seed`` always gives the same split; ``test_fraction`` is the share of samples held out.
    """
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"x and y must be torch tensors, got {type(x).__name__} and {type(y).__name__}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same number of samples, got {x.shape[0]} and {y.shape[0]}")
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction={test_fraction!r} must be a number strictly between 0 and 1")
    seed = integer("seed", seed)
    n = x.shape[0]
    n_test = int(round(n * test_fraction))
    if n_test < 1 or n_test >= n:
        raise ValueError(f"test_fraction={test_fraction} leaves {n_test} of {n} samples for testing; need 1..{n - 1}")
    order = torch.from_numpy(np.random.default_rng(seed).permutation(n))
    test, train = order[:n_test], order[n_test:]
    return x[train], x[test], y[train], y[test]


def _sample_dir() -> str:
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "sample_data")


def sample_photos() -> list[str]:
    """Names of the photos (``.jpg``/``.png``) in matplotlib's ``sample_data`` folder."""
    return sorted(f for f in os.listdir(_sample_dir()) if f.lower().endswith((".jpg", ".jpeg", ".png")))


def sample_photo(name: str = "grace_hopper.jpg", downsample: int = 1) -> torch.Tensor:
    """A photo that ships with matplotlib as ``(3, H, W)`` float32 in ``[0, 1]`` (RGB; alpha dropped).

    name: a file of ``sample_photos()``; ``grace_hopper.jpg`` is 600×512 (H×W).
    downsample: integer factor; ``k`` averages each k×k block (``F.avg_pool2d``), so the result is
    ``(3, H // k, W // k)``.
    """
    import matplotlib.image as mpimg
    from matplotlib import cbook

    if not isinstance(name, str):
        raise TypeError(f"name must be a file name such as 'grace_hopper.jpg', got {name!r}")
    available = sample_photos()
    if name not in available:
        raise ValueError(f"name={name!r} is not a photo shipped with matplotlib; choose one of {available}")
    downsample = positive_int("downsample", downsample)
    img = np.asarray(mpimg.imread(cbook.get_sample_data(name, asfileobj=False)))
    if img.dtype == np.uint8:
        img = img.astype(np.float32) / 255.0
    img = img.astype(np.float32)
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    x = torch.from_numpy(np.ascontiguousarray(img[..., :3])).permute(2, 0, 1).contiguous()
    h, w = x.shape[1:]
    if downsample > min(h, w):
        raise ValueError(f"downsample={downsample} is larger than the photo ({h}×{w})")
    if downsample > 1:
        x = F.avg_pool2d(x[None], downsample)[0]
    return x.clamp(0.0, 1.0)


class SyntheticMaps(NamedTuple):
    """Feature maps with known low-rank channel structure (see ``synthetic_feature_maps``)."""

    x: torch.Tensor  #: (n, channels, height, width) feature maps
    basis: torch.Tensor  #: (channels, rank) orthonormal basis of the true subspace
    scales: torch.Tensor  #: (rank,) standard deviation of the signal along each basis vector
    mean: torch.Tensor  #: (channels,) per-channel offset added to every pixel


def synthetic_feature_maps(
    n: int = 8,
    channels: int = 16,
    height: int = 16,
    width: int = 16,
    rank: int = 4,
    noise: float = 0.05,
    seed: int = 0,
) -> SyntheticMaps:
    """Feature maps whose per-pixel channel vectors lie near a known ``rank``-dimensional subspace.

    Each pixel's channel vector is ``mean + basis @ (scales * z) + noise * e`` with ``z, e`` standard normal,
    ``basis: (channels, rank)`` orthonormal and ``scales`` decreasing linearly from 2 to 1, so PCA's top-``rank``
    subspace is ``span(basis)`` (up to the noise). Returns ``SyntheticMaps(x, basis, scales, mean)`` with
    ``x: (n, channels, height, width)``.
    """
    n = positive_int("n", n)
    channels = positive_int("channels", channels)
    height = positive_int("height", height)
    width = positive_int("width", width)
    rank = positive_int("rank", rank)
    if rank > channels:
        raise ValueError(f"rank={rank} must be <= channels={channels}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise={noise!r} must be a finite number >= 0")
    seed = integer("seed", seed)
    g = torch.Generator().manual_seed(int(seed))
    basis, _ = torch.linalg.qr(torch.randn(channels, rank, generator=g, dtype=torch.float64))
    scales = torch.linspace(2.0, 1.0, rank, dtype=torch.float64) if rank > 1 else torch.ones(1, dtype=torch.float64)
    mean = torch.randn(channels, generator=g, dtype=torch.float64) * 0.5
    pixels = n * height * width
    z = torch.randn(pixels, rank, generator=g, dtype=torch.float64) * scales
    e = torch.randn(pixels, channels, generator=g, dtype=torch.float64)
    vectors = mean + z @ basis.T + noise * e  # (pixels, channels)
    x = vectors.reshape(n, height, width, channels).permute(0, 3, 1, 2).contiguous()
    return SyntheticMaps(x.float(), basis.float(), scales.float(), mean.float())


def conv_features(
    image: torch.Tensor, out_channels: int = 16, seed: int = 0, kernel_size: int = 5, zero_mean: bool = True
) -> torch.Tensor:
    """Real multi-channel feature maps: a fixed, seeded bank of random filters + ReLU run on ``image``.

    image: ``(C, H, W)`` or ``(N, C, H, W)``; returns ``(out_channels, H, W)`` or ``(N, out_channels, H, W)``
    (``padding = kernel_size // 2``, ``kernel_size`` odd). The filters have unit L2 norm and a small seeded
    bias each; by default they are zero-mean (they respond to edges and textures, not to brightness),
    ``zero_mean=False`` keeps their random mean so they respond to brightness too. The same ``seed`` always
    gives the same bank, so lessons can rely on exact values.
    """
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"image must be a torch.Tensor of shape (C, H, W) or (N, C, H, W), got {type(image).__name__}")
    if image.ndim not in (3, 4):
        raise ValueError(f"image must have shape (C, H, W) or (N, C, H, W), got shape {tuple(image.shape)}")
    if not image.is_floating_point():
        raise TypeError(f"image must be a floating-point tensor, got dtype {image.dtype}")
    out_channels = positive_int("out_channels", out_channels)
    kernel_size = positive_int("kernel_size", kernel_size)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size={kernel_size} must be odd so the maps keep their size")
    seed = integer("seed", seed)
    flag("zero_mean", zero_mean)
    batched = image.ndim == 4
    x = image if batched else image[None]
    in_channels = x.shape[1]
    g = torch.Generator().manual_seed(int(seed))
    w = torch.randn(out_channels, in_channels, kernel_size, kernel_size, generator=g)
    if zero_mean:
        w = w - w.mean(dim=(1, 2, 3), keepdim=True)
    w = w / w.flatten(1).norm(dim=1).reshape(-1, 1, 1, 1)
    b = 0.05 * torch.randn(out_channels, generator=g)
    with torch.no_grad():
        out = F.relu(F.conv2d(x.float(), w, b, padding=kernel_size // 2))
    return out if batched else out[0]
