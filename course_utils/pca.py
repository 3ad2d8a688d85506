"""PCA of per-pixel channel vectors, principal angles between subspaces, and a linear 1×1 autoencoder.

A 1×1 convolution treats every pixel's channel vector ``x[n, :, i, j]`` (length ``C``) as one sample, so
the natural statistical comparison is PCA on the ``(N·H·W, C)`` matrix of those vectors:

    X = channel_vectors(maps)             # (N·H·W, C)
    fit = pca(X, k)                       # components (k, C), explained variance, mean
    angles = principal_angles(fit.components.T, conv.weight[:, :, 0, 0].T)   # degrees

Everything is computed in float64 internally (results come back as float32 tensors unless the input was
float64), so small principal angles are accurate.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from ._validate import flag, integer, positive_int, positive_number

__all__ = [
    "channel_vectors",
    "PCAResult",
    "pca",
    "project",
    "reconstruct",
    "reconstruction_mse",
    "reconstruction_mse_curve",
    "subspace_reconstruction_mse",
    "code_reconstruction_mse",
    "principal_angles",
    "LinearAutoencoder",
    "train_linear_autoencoder",
    "BottleneckClassifier",
    "train_bottleneck_classifier",
    "accuracy",
]


def _as_matrix(X: object, name: str = "X") -> torch.Tensor:
    """Validate a ``(n_samples, n_features)`` matrix (tensor or NumPy array) and return it as float64."""
    if isinstance(X, np.ndarray):
        X = torch.from_numpy(X)
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor or NumPy array, got {type(X).__name__}")
    if X.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features), got shape {tuple(X.shape)}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must not be empty, got shape {tuple(X.shape)}")
    if not (X.is_floating_point() or X.dtype in (torch.int32, torch.int64, torch.uint8)):
        raise TypeError(f"{name} must hold real numbers, got dtype {X.dtype}")
    X = X.detach().to(torch.float64)
    if not torch.isfinite(X).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


def _out_dtype(X: object) -> torch.dtype:
    dtype = X.dtype if isinstance(X, torch.Tensor) else torch.from_numpy(np.asarray(X)).dtype
    return torch.float64 if dtype == torch.float64 else torch.float32


def channel_vectors(x: torch.Tensor) -> torch.Tensor:
    """Every pixel's channel vector as one row: ``x: (N, C, H, W) -> (N·H·W, C)`` (a ``(C, H, W)`` map is N=1).

    Row ``n·H·W + i·W + j`` is ``x[n, :, i, j]``: exactly the vector a 1×1 convolution multiplies by its
    ``(C_out, C)`` weight matrix.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W) or (C, H, W), got shape {tuple(x.shape)}")
    return x.permute(0, 2, 3, 1).reshape(-1, x.shape[1])


class PCAResult(NamedTuple):
    """A fitted PCA: rows of ``components`` are orthonormal directions, largest variance first."""

    components: torch.Tensor  #: (k, C) principal directions (unit rows)
    explained_variance: torch.Tensor  #: (k,) variance along each direction (divided by n_samples - 1)
    explained_variance_ratio: torch.Tensor  #: (k,) share of the total variance
    mean: torch.Tensor  #: (C,) the per-feature mean removed before the SVD
    singular_values: torch.Tensor  #: (k,) singular values of the centred data


def pca(X: object, k: int) -> PCAResult:
    """PCA of ``X: (n_samples, C)`` by SVD of the centred data; keeps the top ``k`` components.

    Same conventions as ``sklearn.decomposition.PCA``: variance divided by ``n_samples - 1``; the sign of each
    component is fixed so that its largest-magnitude entry is positive (deterministic output).
    """
    dtype = _out_dtype(X)
    Xd = _as_matrix(X)
    n, c = Xd.shape
    k = positive_int("k", k)
    if k > min(n, c):
        raise ValueError(f"k={k} must be <= min(n_samples, n_features) = min({n}, {c}) = {min(n, c)}")
    if n < 2:
        raise ValueError(f"X must have at least 2 samples to estimate a variance, got {n}")
    mean = Xd.mean(dim=0)
    _, s, vh = torch.linalg.svd(Xd - mean, full_matrices=False)
    idx = vh.abs().argmax(dim=1)
    signs = torch.sign(vh[torch.arange(vh.shape[0]), idx])
    signs[signs == 0] = 1.0
    vh = vh * signs[:, None]
    var = s**2 / (n - 1)
    total = var.sum()
    ratio = var / total if total > 0 else torch.zeros_like(var)
    return PCAResult(vh[:k].to(dtype), var[:k].to(dtype), ratio[:k].to(dtype), mean.to(dtype), s[:k].to(dtype))


def _check_fit(fit: object) -> PCAResult:
    if not isinstance(fit, PCAResult):
        raise TypeError(f"fit must be the PCAResult returned by pca(X, k), got {type(fit).__name__}")
    return fit


def project(X: object, fit: PCAResult) -> torch.Tensor:
    """Codes of ``X: (n, C)`` in a fitted PCA: ``(X - mean) @ components.T -> (n, k)``."""
    fit = _check_fit(fit)
    Xd = _as_matrix(X)
    if Xd.shape[1] != fit.mean.shape[0]:
        raise ValueError(f"X has {Xd.shape[1]} features but the PCA was fitted on {fit.mean.shape[0]}")
    return ((Xd - fit.mean.double()) @ fit.components.double().T).to(fit.components.dtype)


def reconstruct(Z: object, fit: PCAResult) -> torch.Tensor:
    """Back from codes ``Z: (n, k)`` to features: ``Z @ components + mean -> (n, C)``."""
    fit = _check_fit(fit)
    Zd = _as_matrix(Z, "Z")
    if Zd.shape[1] != fit.components.shape[0]:
        raise ValueError(f"Z has {Zd.shape[1]} columns but the PCA keeps k={fit.components.shape[0]} components")
    return (Zd @ fit.components.double() + fit.mean.double()).to(fit.components.dtype)


def reconstruction_mse(X: object, k: int) -> float:
    """Mean squared error (over all entries of ``X: (n, C)``) of the rank-``k`` PCA reconstruction of ``X``.

    By the Eckart–Young theorem no other rank-``k`` affine reconstruction does better.
    """
    Xd = _as_matrix(X)
    fit = pca(Xd, k)
    err = Xd - reconstruct(project(Xd, fit), fit)
    return float((err**2).mean())


def reconstruction_mse_curve(X: object) -> torch.Tensor:
    """``reconstruction_mse(X, k)`` for every ``k = 1 .. C`` at once, from one SVD: returns ``(C,)`` float64.

    The rank-``k`` error is the variance PCA discards: ``sum(explained_variance[k:]) * (n - 1) / (n * C)``.
    """
    Xd = _as_matrix(X)
    n, c = Xd.shape
    if n < 2:
        raise ValueError(f"X must have at least 2 samples to estimate a variance, got {n}")
    s = torch.linalg.svdvals(Xd - Xd.mean(dim=0))
    discarded = torch.zeros(c, dtype=torch.float64)
    tail = (s**2).flip(0).cumsum(0).flip(0)  # tail[i] = sum of s[i:]**2
    m = min(n, c)
    discarded[: m - 1] = tail[1:m]
    return discarded / (n * c)


def subspace_reconstruction_mse(X: object, basis: object) -> float:
    """MSE of reconstructing the centred ``X: (n, C)`` by orthogonal projection onto ``span(basis)``.

    basis: ``(C, k)``; its columns span the subspace (they need not be orthonormal, only independent).
    """
    Xd = _as_matrix(X)
    q = _orthonormal_basis(basis, "basis")
    if q.shape[0] != Xd.shape[1]:
        raise ValueError(f"basis has {q.shape[0]} rows but X has {Xd.shape[1]} features")
    centred = Xd - Xd.mean(dim=0)
    err = centred - centred @ q @ q.T
    return float((err**2).mean())


def code_reconstruction_mse(X: object, Z: object) -> float:
    """MSE of the best affine reconstruction of ``X: (n, C)`` from codes ``Z: (n, k)`` (least squares).

    Measures how much of ``X`` any linear decoder could recover from a compressor's codes, whatever the
    compressor was trained for.
    """
    Xd = _as_matrix(X)
    Zd = _as_matrix(Z, "Z")
    if Zd.shape[0] != Xd.shape[0]:
        raise ValueError(f"X and Z must have the same number of rows, got {Xd.shape[0]} and {Zd.shape[0]}")
    design = torch.cat([Zd, torch.ones(Zd.shape[0], 1, dtype=Zd.dtype)], dim=1)
    coef = torch.linalg.lstsq(design, Xd, driver="gelsd").solution
    return float(((Xd - design @ coef) ** 2).mean())


def _orthonormal_basis(A: object, name: str) -> torch.Tensor:
    """Orthonormal basis ``(C, k)`` of the column space of ``A: (C, k)``; raise if the columns are dependent."""
    Ad = _as_matrix(A, name)
    if Ad.shape[1] > Ad.shape[0]:
        raise ValueError(
            f"{name} must have shape (C, k) with k <= C (columns span the subspace), got {tuple(Ad.shape)}"
        )
    u, s, _ = torch.linalg.svd(Ad, full_matrices=False)
    if s[-1] <= s[0] * Ad.shape[0] * torch.finfo(torch.float64).eps * 1e3 or s[0] == 0:
        raise ValueError(
            f"the columns of {name} are linearly dependent (rank < {Ad.shape[1]}): the subspace is ill-defined"
        )
    return u


def principal_angles(A: object, B: object) -> torch.Tensor:
    """Principal angles in degrees between the column spaces of ``A: (C, ka)`` and ``B: (C, kb)``.

    Returns ``min(ka, kb)`` angles, smallest first: 0° means a shared direction, 90° an orthogonal one.
    Cosines are the singular values of ``Qa^T Qb`` (orthonormal bases); angles below 45° are taken from
    the sines instead (Björck & Golub, 1973), so even tiny angles are accurate.
    """
    qa = _orthonormal_basis(A, "A")
    qb = _orthonormal_basis(B, "B")
    if qa.shape[0] != qb.shape[0]:
        raise ValueError(
            f"A and B must live in the same space (same number of rows), got {qa.shape[0]} and {qb.shape[0]}"
        )
    if qa.shape[1] < qb.shape[1]:
        qa, qb = qb, qa
    m = qa.T @ qb  # (ka, kb), ka >= kb
    cos = torch.linalg.svdvals(m).clamp(0.0, 1.0)  # descending: smallest angle first
    sin = torch.linalg.svdvals(qb - qa @ m).flip(0).clamp(0.0, 1.0)  # ascending: smallest angle first
    theta = torch.where(cos**2 >= 0.5, torch.arcsin(sin), torch.arccos(cos))
    return torch.rad2deg(theta).to(torch.float32)


@contextmanager
def _one_thread() -> Iterator[None]:
    """Train on one thread: the matmuls are tiny, so it is faster, repeatable, and immune to a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


class LinearAutoencoder(nn.Module):
    """``x: (N, C, H, W) -> (N, C, H, W)`` through a 1×1-conv bottleneck ``C -> k -> C`` with no nonlinearity."""

    def __init__(self, channels: int, k: int) -> None:
        super().__init__()
        channels = positive_int("channels", channels)
        k = positive_int("k", k)
        if k > channels:
            raise ValueError(f"k={k} must be <= channels={channels} for a bottleneck")
        self.encoder = nn.Conv2d(channels, k, kernel_size=1)
        self.decoder = nn.Conv2d(k, channels, kernel_size=1)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, C, H, W) -> (N, k, H, W)``."""
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def train_linear_autoencoder(
    x: torch.Tensor,
    k: int,
    epochs: int = 400,
    lr: float = 0.05,
    seed: int = 0,
    log_every: int = 0,
) -> tuple[LinearAutoencoder, list[float]]:
    """Train a ``LinearAutoencoder(C, k)`` on ``x: (N, C, H, W)`` with MSE, full batch, Adam.

    Deterministic: the weights are initialised after ``torch.manual_seed(seed)`` and every epoch is one
    full-batch step on one CPU thread, so equal arguments give equal results. Returns ``(model, losses)`` with one MSE per
    epoch (before that epoch's update). ``log_every > 0`` prints ``epoch e: mse m`` every that many epochs.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor of shape (N, C, H, W), got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"x must have shape (N, C, H, W), got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got dtype {x.dtype}")
    epochs = positive_int("epochs", epochs)
    positive_number("lr", lr)
    seed = integer("seed", seed)
    if isinstance(log_every, bool) or not isinstance(log_every, int) or log_every < 0:
        raise ValueError(f"log_every={log_every!r} must be an int >= 0 (0 = silent)")
    torch.manual_seed(int(seed))
    model = LinearAutoencoder(x.shape[1], k)
    x = x.detach().float()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses: list[float] = []
    with _one_thread():
        for epoch in range(epochs):
            opt.zero_grad()
            loss = nn.functional.mse_loss(model(x), x)
            loss.backward()
            opt.step()
            losses.append(loss.item())
            if log_every and (epoch % log_every == 0 or epoch == epochs - 1):
                print(f"epoch {epoch:4d}: mse {losses[-1]:.3g}")
    model.eval()
    return model, losses


class BottleneckClassifier(nn.Module):
    """``features: (N, C, H, W) -> logits (N, classes)``: a 1×1-conv bottleneck ``C -> k`` then a small MLP head.

    ``reduce`` is ``nn.Conv2d(C, k, 1)`` (no nonlinearity right after it, so a PCA projection can be put in
    its place without losing the negative half of the codes); the head is
    ``Flatten -> Linear(k·H·W, hidden) -> ReLU -> Linear(hidden, classes)``.
    """

    def __init__(self, channels: int, k: int, height: int, width: int, classes: int, hidden: int = 32) -> None:
        super().__init__()
        channels = positive_int("channels", channels)
        k = positive_int("k", k)
        if k > channels:
            raise ValueError(f"k={k} must be <= channels={channels} for a bottleneck")
        height, width = positive_int("height", height), positive_int("width", width)
        classes, hidden = positive_int("classes", classes), positive_int("hidden", hidden)
        self.reduce = nn.Conv2d(channels, k, kernel_size=1)
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(k * height * width, hidden), nn.ReLU(), nn.Linear(hidden, classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.reduce(x))


def train_bottleneck_classifier(
    features: torch.Tensor,
    labels: torch.Tensor,
    k: int,
    epochs: int = 60,
    lr: float = 0.05,
    seed: int = 0,
    fixed_encoder: PCAResult | None = None,
    hidden: int = 32,
    freeze_encoder: bool = False,
) -> tuple[BottleneckClassifier, list[float]]:
    """Train a ``BottleneckClassifier`` with cross-entropy, full batch, Adam, deterministic.

    features: ``(N, C, H, W)`` float; labels: ``(N,)`` int64 classes ``0..classes-1``.
    ``fixed_encoder``: a ``pca(...)`` fit with ``k`` components; the 1×1 conv is then set to the PCA projection
    ``(x - mean) @ components.T`` and frozen, so only the head learns (the PCA-then-classify baseline).
    ``freeze_encoder=True`` without ``fixed_encoder`` keeps the 1×1 conv at its random (seeded) initialisation:
    a random projection baseline. Otherwise the bottleneck learns together with the head.
    Returns ``(model, losses)`` (one loss per epoch).
    """
    if not isinstance(features, torch.Tensor) or features.ndim != 4 or not features.is_floating_point():
        raise ValueError(
            f"features must be a float tensor of shape (N, C, H, W), got {getattr(features, 'shape', type(features).__name__)}"
        )
    if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.dtype != torch.int64:
        raise ValueError(
            f"labels must be an int64 tensor of shape (N,), got {getattr(labels, 'dtype', type(labels).__name__)} {tuple(getattr(labels, 'shape', ()))}"
        )
    if labels.shape[0] != features.shape[0]:
        raise ValueError(f"features and labels must have the same N, got {features.shape[0]} and {labels.shape[0]}")
    if labels.min() < 0:
        raise ValueError(f"labels must be class indices >= 0, got min {int(labels.min())}")
    epochs = positive_int("epochs", epochs)
    positive_number("lr", lr)
    seed = integer("seed", seed)
    flag("freeze_encoder", freeze_encoder)
    n, c, h, w = features.shape
    torch.manual_seed(int(seed))
    model = BottleneckClassifier(c, k, h, w, int(labels.max()) + 1, hidden)
    if fixed_encoder is not None:
        fit = _check_fit(fixed_encoder)
        if tuple(fit.components.shape) != (model.reduce.out_channels, c):
            raise ValueError(
                f"fixed_encoder has components of shape {tuple(fit.components.shape)}, expected ({k}, {c})"
            )
        with torch.no_grad():
            model.reduce.weight.copy_(fit.components.float()[:, :, None, None])
            model.reduce.bias.copy_(-(fit.components.double() @ fit.mean.double()).float())  # type: ignore[union-attr]  # has a bias
        model.reduce.requires_grad_(False)
    if freeze_encoder:
        model.reduce.requires_grad_(False)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    x = features.detach().float()
    losses: list[float] = []
    with _one_thread():
        for _ in range(epochs):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(x), labels)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    model.eval()
    return model, losses


def accuracy(model: nn.Module, features: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of ``features: (N, ...)`` whose arg-max logit equals ``labels: (N,)``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    with torch.no_grad():
        return float((model(features).argmax(dim=1) == labels).float().mean())
