"""Offline data for the lessons: nothing is downloaded, ever.

* ``digits()``: scikit-learn's bundled 8×8 handwritten digits (1,797 images, 10 classes) as tensors.
* ``sample_photo()``: a real photo that ships inside matplotlib (Grace Hopper's portrait by default).
* ``synthetic_feature_maps()``: feature maps whose per-pixel channel vectors lie near a known subspace.
* ``nuisance_feature_maps()``: channel vectors whose strongest directions are a nuisance, beside a weak signal
  direction (lesson 02's stress test; exercise 02's "what does PCA keep of the signal?").
* ``conv_features()``: real multi-channel feature maps, a fixed seeded conv bank + ReLU run on a photo.
* ``textured_shapes()``: a harder seeded image set, 10 classes of 32×32 textured shapes with colour cues,
  clutter and a class-irrelevant nuisance channel (lesson 09).

Every tensor is ``float32``; image-like tensors are ``(N, C, H, W)`` or ``(C, H, W)`` as PyTorch expects.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ._validate import finite_number, flag, integer, positive_int

__all__ = [
    "digits",
    "train_test_split",
    "sample_photos",
    "sample_photo",
    "SyntheticMaps",
    "synthetic_feature_maps",
    "NuisanceMaps",
    "nuisance_feature_maps",
    "conv_features",
    "textured_shapes",
    "TEXTURED_SHAPES_CLASSES",
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


class NuisanceMaps(NamedTuple):
    """Feature maps with a high-variance nuisance beside a weak signal (see ``nuisance_feature_maps``)."""

    x: np.ndarray  #: (n, channels, height, width) float32 feature maps
    signal: np.ndarray  #: (channels,) float64 unit vector: the direction a task needs


_NUISANCE_SCALES = (5.0, 4.0, 3.0)  # standard deviations of the nuisance directions (variance 25, 16, 9)


def nuisance_feature_maps(
    n: int = 2,
    channels: int = 8,
    height: int = 6,
    width: int = 6,
    nuisance: int = 3,
    angle: float = 0.96,
    offset: float = 3.0,
    seed: int | np.random.Generator = 0,
) -> NuisanceMaps:
    """Pixels whose ``nuisance`` strongest directions carry nothing a task needs, and a weak signal direction.

    In a random orthonormal basis ``q`` of the channel space, each pixel has standard deviation 5, 4, 3 along the
    first ``nuisance`` (≤ 3) basis vectors, 1 along the next one (the signal's own direction) and 0.05 along the
    rest, plus a random offset of size about ``offset``. ``signal`` points ``angle`` radians away from the strongest
    nuisance direction towards its own: PCA's top-``nuisance`` subspace keeps about cos²(angle) of it (sampling
    moves it a little).
    ``seed`` is an int or a NumPy ``Generator`` (drawn from, as the checks do). Returns
    ``NuisanceMaps(x, signal)`` with ``x: (n, channels, height, width)`` float32 and ``signal: (channels,)``.
    """
    n = positive_int("n", n)
    channels = positive_int("channels", channels)
    height = positive_int("height", height)
    width = positive_int("width", width)
    nuisance = positive_int("nuisance", nuisance)
    if nuisance > len(_NUISANCE_SCALES) or nuisance >= channels:
        raise ValueError(f"nuisance={nuisance} must be at most {len(_NUISANCE_SCALES)} and below channels={channels}")
    angle = finite_number("angle", angle)
    offset = finite_number("offset", offset)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(integer("seed", seed))
    q, _ = np.linalg.qr(rng.standard_normal((channels, channels)))
    scales = np.full(channels, 0.05)
    scales[:nuisance] = _NUISANCE_SCALES[:nuisance]
    scales[nuisance] = 1.0
    pixels = rng.standard_normal((n * height * width, channels)) * scales @ q.T + offset * rng.standard_normal(channels)
    x = np.ascontiguousarray(pixels.reshape(n, height, width, channels).transpose(0, 3, 1, 2)).astype(np.float32)
    signal = np.cos(angle) * q[:, 0] + np.sin(angle) * q[:, nuisance]
    return NuisanceMaps(x, signal)


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


#: Class ``k`` of :func:`textured_shapes`: a grating at angle ``(k % 5) · 36°`` inside a disk (k < 5) or a square.
TEXTURED_SHAPES_CLASSES: tuple[str, ...] = tuple(
    f"{shape} {angle}°" for shape in ("disk", "square") for angle in range(0, 180, 36)
)
_PALETTE = np.array(  # one colour per class: the (unreliable) colour cue
    [
        [1.0, 0.2, 0.2],
        [0.2, 1.0, 0.2],
        [0.2, 0.2, 1.0],
        [1.0, 1.0, 0.2],
        [1.0, 0.2, 1.0],
        [0.2, 1.0, 1.0],
        [1.0, 0.6, 0.2],
        [0.6, 0.2, 1.0],
        [0.2, 0.6, 1.0],
        [0.6, 1.0, 0.2],
    ],
    dtype=np.float32,
)


def textured_shapes(
    n: int = 1500, size: int = 32, noise: float = 0.2, colour_cue: float = 0.4, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded 10-class image set that a small CNN cannot solve by colour or by one pixel.

    Class ``k`` (names in ``TEXTURED_SHAPES_CLASSES``) is a patch striped by a cosine grating at angle
    ``(k % 5) · 36°`` (± 5° jitter), shaped as a disk (``k < 5``) or a square tilted by up to 22.5°; position,
    radius (7–12 px), stripe frequency (0.45–0.75 rad/px) and phase are random. What makes it hard:

    * **orientation and outline** are the only reliable cues: they are spatial, so a model must learn oriented
      filters and the shape of the patch;
    * **a colour cue**: the patch takes its class's colour with probability ``colour_cue``, else a random
      class's colour, so colour alone gives ``colour_cue + (1 - colour_cue) / 10`` accuracy at best;
    * **clutter**: a faint grating (amplitude 0.15) of random angle fills the background of the colour channels;
    * **a nuisance channel**: channel 3 is a full-size grating of random angle, unrelated to the class;
    * pixel noise of standard deviation ``noise`` on the colour channels.

    Returns ``(x, y)``: ``x: (n, 4, size, size)`` float32 (RGB + the nuisance channel), ``y: (n,)`` int64 in
    0..9, classes drawn uniformly. The same arguments always give the same tensors.
    """
    n = positive_int("n", n)
    size = positive_int("size", size)
    if size < 24:
        raise ValueError(f"size={size} must be >= 24 so a patch of radius 12 fits")
    for name, value, upper in (("noise", noise, np.inf), ("colour_cue", colour_cue, 1.0)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= upper:
            raise ValueError(f"{name}={value!r} must be a number in [0, {upper}]")
    seed = integer("seed", seed)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    grid = np.arange(size, dtype=np.float32)
    rows, cols = grid[None, :, None], grid[None, None, :]  # broadcast against (n, 1, 1) per-image values

    def per_image(values: np.ndarray) -> np.ndarray:
        return values.astype(np.float32)[:, None, None]

    def grating(angle: np.ndarray, low: float, high: float) -> np.ndarray:
        """(n, size, size) cosine gratings at ``angle`` (radians), frequency in [low, high] rad/px, random phase."""
        freq, phase = per_image(rng.uniform(low, high, n)), per_image(rng.uniform(0, 2 * np.pi, n))
        waves: np.ndarray = np.cos(freq * (cols * per_image(np.cos(angle)) + rows * per_image(np.sin(angle))) + phase)
        return waves

    radius = rng.uniform(7, 12, n)
    cy, cx, tilt = rng.uniform(radius, size - radius), rng.uniform(radius, size - radius), rng.uniform(0, np.pi / 8, n)
    dy, dx = rows - per_image(cy), cols - per_image(cx)
    disk = dy**2 + dx**2 <= per_image(radius) ** 2
    u = dx * per_image(np.cos(tilt)) + dy * per_image(np.sin(tilt))
    v = -dx * per_image(np.sin(tilt)) + dy * per_image(np.cos(tilt))
    square = (np.abs(u) <= per_image(0.85 * radius)) & (np.abs(v) <= per_image(0.85 * radius))
    mask = np.where((y >= 5)[:, None, None], square, disk).astype(np.float32)  # (n, size, size)

    angle = (y % 5) * np.pi / 5 + rng.normal(0, np.deg2rad(5), n)
    patch = mask * (0.5 + 0.5 * grating(angle, 0.45, 0.75))
    clutter = 0.15 * grating(rng.uniform(0, np.pi, n), 0.45, 0.75) * (1 - mask)
    colour = _PALETTE[np.where(rng.random(n) < colour_cue, y, rng.integers(0, 10, n))]  # (n, 3)
    x = np.empty((n, 4, size, size), dtype=np.float32)
    clutter_gain = rng.uniform(0.3, 1.0, (n, 3, 1, 1)).astype(np.float32)
    x[:, :3] = colour[:, :, None, None] * patch[:, None] + clutter[:, None] * clutter_gain
    x[:, :3] += noise * rng.standard_normal((n, 3, size, size)).astype(np.float32)
    x[:, 3] = grating(rng.uniform(0, np.pi, n), 0.5, 1.2)  # the nuisance channel
    return torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
