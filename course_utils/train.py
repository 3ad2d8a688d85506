"""A seeded training loop in plain PyTorch: ``fit`` a classifier, ``evaluate`` its accuracy (lesson 09).

Everything that could make two runs differ is pinned: the caller seeds the model's initial weights
(``torch.manual_seed`` before building it), ``fit`` draws the order of the training images from its own
``torch.Generator(seed)``, and training runs on one thread (tiny convolutions are faster that way, and a
float sum does not change its order when the machine is busy). The same model, data and seed give the same
weights, bit for bit, on the same machine.

Two choices cut its time by about a quarter on a CPU (``make bench-training`` measures it) without changing what
it computes, only its rounding: images and conv weights are stored channels-last (``torch.channels_last``:
oneDNN's convolutions, BatchNorm and max-pool read each pixel's channels as one contiguous vector; lesson 08's
point that layout, not MACs, sets the time), and Adam updates every parameter in one fused kernel instead of a
dozen small operations per tensor.

Shapes: images ``x: (N, C, H, W)`` float32, labels ``y: (N,)`` int64 in ``0..num_classes-1``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from ._validate import flag, integer, positive_int, positive_number
from .pca import _one_thread

__all__ = ["FitResult", "fit", "evaluate", "predict"]


@dataclass(frozen=True)
class FitResult:
    """What ``fit`` did: the mean training loss of every epoch and the wall-clock seconds it took."""

    losses: list[float]  #: mean cross-entropy over each epoch's batches, one per epoch
    seconds: float  #: wall-clock time of the whole loop (varies by machine and load: print it, never assert it)


def _check_data(x: object, y: object) -> tuple[torch.Tensor, torch.Tensor]:
    if not isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"x and y must be torch tensors, got {type(x).__name__} and {type(y).__name__}")
    if x.ndim < 2 or not x.is_floating_point():
        raise ValueError(f"x must be a floating-point batch (N, ...), got dtype {x.dtype} shape {tuple(x.shape)}")
    if y.ndim != 1 or y.dtype != torch.int64:
        raise ValueError(f"y must be int64 labels of shape (N,), got dtype {y.dtype} shape {tuple(y.shape)}")
    if x.shape[0] != y.shape[0] or x.shape[0] == 0:
        raise ValueError(f"x and y must hold the same number (>= 1) of samples, got {x.shape[0]} and {y.shape[0]}")
    return x, y


def fit(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int = 5,
    batch_size: int = 64,
    lr: float = 1e-2,
    seed: int = 0,
    progress: bool = True,
    desc: str = "training",
    channels_last: bool = True,
    fused: bool = True,
) -> FitResult:
    """Train ``model`` in place with Adam on cross-entropy; return the per-epoch losses and the seconds taken.

    The learning rate follows a one-cycle schedule (``OneCycleLR``): it rises to ``lr`` over the first 30 % of
    the steps and anneals towards zero by the last one, which makes short trainings converge far more reliably.

    model: maps ``x: (B, C, H, W)`` to logits ``(B, num_classes)``.
    x: ``(N, C, H, W)`` training images; y: ``(N,)`` their labels.
    Each epoch visits every image once in an order drawn from ``torch.Generator().manual_seed(seed + epoch)``;
    the last batch may be smaller. ``progress`` shows a ``tqdm`` bar over the epochs (notebook-aware).
    ``channels_last``: for 4-D ``x``, store the images and the model's conv weights channels-last (the function
    the model computes is unchanged); ``fused``: Adam's update in one kernel. Both only save time
    (``make bench-training`` turns each off to measure what it saves).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    x, y = _check_data(x, y)
    epochs = positive_int("epochs", epochs)
    batch_size = positive_int("batch_size", batch_size)
    lr = positive_number("lr", lr)
    seed = integer("seed", seed)
    flag("progress", progress)
    flag("channels_last", channels_last)
    flag("fused", fused)
    if channels_last and x.ndim == 4:  # images: channels-last, the layout the CPU's conv kernels are fastest in
        model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # documented; not in the stubs
        x = x.contiguous(memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, fused=fused)
    steps = epochs * -(-len(x) // batch_size)  # batches per epoch, rounded up
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
    losses: list[float] = []
    start = time.perf_counter()
    model.train()
    with _one_thread():
        for epoch in tqdm(range(epochs), desc=desc, disable=not progress, leave=False):
            order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed + epoch))
            total = 0.0
            for batch in torch.split(order, batch_size):
                loss = F.cross_entropy(model(x[batch]), y[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                schedule.step()
                total += loss.item() * len(batch)
            losses.append(total / len(x))
    model.eval()
    return FitResult(losses, time.perf_counter() - start)


def predict(model: nn.Module, x: torch.Tensor, batch_size: int = 500) -> torch.Tensor:
    """Predicted classes ``(N,)`` int64 of ``x: (N, C, H, W)``, in eval mode and without gradients."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    batch_size = positive_int("batch_size", batch_size)
    model.eval()
    with torch.no_grad(), _one_thread():
        return torch.cat([model(chunk).argmax(dim=1) for chunk in torch.split(x, batch_size)])


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 500) -> float:
    """Accuracy in ``[0, 1]``: the share of ``x: (N, C, H, W)`` whose predicted class equals ``y: (N,)``."""
    x, y = _check_data(x, y)
    return float((predict(model, x, batch_size) == y).double().mean())
