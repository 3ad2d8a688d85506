"""Figures of the course with one consistent look: cost bar charts, feature-map grids, subspace angles.

Every function draws with matplotlib and returns what it drew on (an ``Axes`` or a ``Figure``), so a
notebook cell can add a title or a line and end with ``plt.show()``. Figures are small (dpi <= 100) so the
stored notebooks stay light.

    from course_utils import viz
    with viz.style():
        viz.cost_bars(["3×3 conv", "1×1 conv"], [1_234_567, 137_174], title="MACs per layer")
        plt.show()
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from cycler import cycler  # matplotlib's own dependency (matplotlib's stubs do not re-export mpl.cycler)
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from .counting import format_count

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

__all__ = ["RC", "COLORS", "style", "apply_style", "cost_bars", "feature_map_grid", "subspace_angles_plot"]

#: Colour cycle used by every figure (colour-blind friendly, Okabe–Ito).
COLORS: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")

#: The course's matplotlib settings (dpi <= 100 keeps notebooks small).
RC: dict[RcKeyType, Any] = {
    "figure.dpi": 80,
    "savefig.dpi": 100,
    "figure.figsize": (6.0, 3.6),
    "figure.autolayout": False,
    "figure.constrained_layout.use": True,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.grid.axis": "y",
    "grid.alpha": 0.3,
    "axes.prop_cycle": cycler(color=list(COLORS)),
    "image.cmap": "viridis",
    "legend.frameon": False,
}


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager: draw the figures inside it with the course's look (``RC``)."""
    with mpl.rc_context(RC):
        yield


def apply_style() -> None:
    """Apply the course's look to every later figure of the session (``plt.rcParams.update(RC)``)."""
    plt.rcParams.update(RC)


def _to_numpy(values: object, name: str) -> np.ndarray:
    """Convert a list / NumPy array / torch tensor to a float NumPy array, naming ``name`` on failure."""
    if hasattr(values, "detach"):  # torch.Tensor without importing torch here
        values = values.detach().cpu().numpy()
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numbers (list, NumPy array or tensor), got {type(values).__name__}") from err
    return arr


def _tick(y: float) -> str:
    """Compact axis label: ``800 K``, ``1.2 M`` (3 significant digits, no trailing zeros)."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(y) >= scale:
            return f"{y / scale:.3g} {prefix}"
    return f"{y:.3g}"


def cost_bars(
    labels: Sequence[str],
    values: Sequence[float],
    ylabel: str = "MACs",
    title: str | None = None,
    ax: Axes | None = None,
    log: bool = False,
) -> Axes:
    """Labelled bar chart of costs with each value printed on its bar in human units (``3.86 G``).

    labels: one name per bar; values: the matching non-negative costs (params, MACs, bytes, ...).
    ``log=True`` uses a logarithmic y axis (values must then be positive). Returns the Axes.
    """
    if isinstance(labels, str):
        raise TypeError("labels must be a sequence of strings, got a single string")
    labels = [str(label) for label in labels]
    vals = _to_numpy(values, "values")
    if vals.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {vals.shape}")
    if len(labels) != len(vals):
        raise ValueError(
            f"labels and values must have the same length, got {len(labels)} labels and {len(vals)} values"
        )
    if len(vals) == 0:
        raise ValueError("values must not be empty")
    if not np.all(np.isfinite(vals)) or np.any(vals < 0):
        raise ValueError(f"values must be finite and >= 0, got {vals.tolist()}")
    if log and np.any(vals <= 0):
        raise ValueError(f"log=True needs positive values, got {vals.tolist()}")
    with style():
        if ax is None:
            width = max(4.0, 0.9 * len(vals) + 1.5)
            _, ax = plt.subplots(figsize=(width, 3.4))
        colors = [COLORS[i % len(COLORS)] for i in range(len(vals))]
        bars = ax.bar(range(len(vals)), vals, color=colors)
        ax.set_xticks(
            range(len(vals)),
            labels,
            rotation=20 if max(map(len, labels)) > 10 else 0,
            ha="right" if max(map(len, labels)) > 10 else "center",
        )
        ax.set_ylabel(ylabel)
        if title:
            ax.set_title(title)
        if log:
            ax.set_yscale("log")
            ax.set_ylim(vals.min() / 2, vals.max() * 4)
        else:
            ax.set_ylim(0, vals.max() * 1.15 if vals.max() > 0 else 1)
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _pos: _tick(y)))
        for bar, v in zip(bars, vals, strict=False):
            ax.annotate(
                format_count(float(v)),
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9 if len(vals) <= 4 else 8,
            )
    return ax


def feature_map_grid(
    maps: object,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str = "viridis",
    ax_size: float = 1.4,
    suptitle: str | None = None,
    shared_scale: bool = False,
) -> Figure:
    """Show feature maps ``maps: (C, H, W)`` (NumPy array or tensor; a leading batch of 1 is dropped) as a grid.

    One small image per channel, ``ncols`` per row, each ``ax_size`` inches wide; ``titles`` names the
    channels (default ``"ch 0"``, ``"ch 1"``, ...). Each map uses its own colour range unless
    ``shared_scale=True``. Returns the Figure.
    """
    arr = _to_numpy(maps, "maps")
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim != 3:
        raise ValueError(f"maps must have shape (C, H, W) (or (1, C, H, W) or (H, W)), got shape {arr.shape}")
    channels = arr.shape[0]
    if channels == 0:
        raise ValueError("maps must hold at least one channel, got 0")
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"ncols={ncols!r} must be a positive int")
    if not (isinstance(ax_size, (int, float)) and ax_size > 0):
        raise ValueError(f"ax_size={ax_size!r} must be a positive number of inches")
    if titles is None:
        titles = [f"ch {i}" for i in range(channels)]
    elif isinstance(titles, str) or len(titles) != channels:
        raise ValueError(f"titles must be a sequence of {channels} strings (one per channel), got {titles!r}")
    ncols = min(ncols, channels)
    nrows = math.ceil(channels / ncols)
    vmin, vmax = (float(arr.min()), float(arr.max())) if shared_scale else (None, None)
    with style():
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(ax_size * ncols, ax_size * nrows + (0.35 if suptitle else 0)), squeeze=False
        )
        for i, ax in enumerate(axes.flat):
            ax.axis("off")
            if i < channels:
                ax.imshow(arr[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
                ax.set_title(titles[i], fontsize=8)
        if suptitle:
            fig.suptitle(suptitle)
    return fig


def subspace_angles_plot(
    angles_deg: object,
    labels: Sequence[str] | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Bar chart of principal angles (degrees, 0 = same direction, 90 = orthogonal) between two subspaces.

    angles_deg: ``(k,)`` angles for one comparison, or ``(m, k)`` for ``m`` comparisons drawn as grouped
    bars with one ``labels`` entry per comparison. Returns the Axes.
    """
    arr = _to_numpy(angles_deg, "angles_deg")
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"angles_deg must have shape (k,) or (m, k) with k >= 1, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or arr.min() < -1e-6 or arr.max() > 90 + 1e-6:
        raise ValueError(f"angles_deg must be finite angles in degrees within [0, 90], got {arr.round(3).tolist()}")
    m, k = arr.shape
    if labels is None:
        labels = [f"comparison {i}" for i in range(m)] if m > 1 else [""]
    elif isinstance(labels, str) or len(labels) != m:
        raise ValueError(f"labels must be a sequence of {m} strings (one per row of angles_deg), got {labels!r}")
    with style():
        if ax is None:
            _, ax = plt.subplots(figsize=(max(4.0, 0.5 * k * m + 2), 3.2))
        width = 0.8 / m
        x = np.arange(k)
        for i in range(m):
            bars = ax.bar(
                x + (i - (m - 1) / 2) * width,
                arr[i],
                width=width,
                label=labels[i] or None,
                color=COLORS[i % len(COLORS)],
            )
            if k * m <= 24:  # value labels while they stay readable
                for bar, a in zip(bars, arr[i], strict=False):
                    ax.annotate(
                        f"{a:.0f}°",
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        xytext=(0, 1),
                        textcoords="offset points",
                        ha="center",
                        va="bottom",
                        fontsize=7,
                    )
        ax.set_xticks(x, [f"θ{j + 1}" for j in range(k)])
        ax.set_ylim(0, 95)
        ax.set_yticks([0, 15, 30, 45, 60, 75, 90])
        ax.axhline(90, color="0.5", lw=0.8, ls="--")
        ax.set_ylabel("principal angle (°)")
        ax.set_xlabel("principal angle index (smallest first)")
        if title:
            ax.set_title(title)
        if any(labels):
            ax.legend(fontsize=8, loc="upper left")
    return ax


# ---------------------------------------------------------------------------------------------
# Channel-to-channel matrices (appended for lesson 06: grouped convs, channel shuffle)
# ---------------------------------------------------------------------------------------------
def channel_heatmap(
    matrix: object,
    groups: int | None = None,
    title: str | None = None,
    xlabel: str = "input channel",
    ylabel: str = "output channel",
    ax: Axes | None = None,
    cmap: str = "Greys",
) -> Axes:
    """Heatmap of a channel-to-channel matrix ``(C_out, C_in)``: a weight pattern or a dependency map.

    matrix: NumPy array or tensor of shape (rows, cols), e.g. ``|W|`` summed over the kernel window, or a
    0/1 "output depends on input" matrix. ``groups`` draws lines between the ``groups`` equal blocks of rows
    and of columns (both counts must be divisible by it). Returns the Axes.
    """
    arr = _to_numpy(matrix, "matrix")
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"matrix must have shape (rows, cols) with rows, cols >= 1, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("matrix must hold finite numbers")
    rows, cols = arr.shape
    if groups is not None:
        if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
            raise ValueError(f"groups={groups!r} must be a positive int")
        if rows % groups or cols % groups:
            raise ValueError(f"groups={groups} must divide both matrix dimensions, got shape {arr.shape}")
    with style():
        if ax is None:
            _, ax = plt.subplots(figsize=(3.2, 3.2))
        ax.imshow(arr, cmap=cmap, interpolation="nearest", vmin=min(0.0, float(arr.min())))
        ax.grid(False)
        if groups is not None and groups > 1:
            for g in range(1, groups):
                ax.axhline(g * rows / groups - 0.5, color=COLORS[3], lw=1)
                ax.axvline(g * cols / groups - 0.5, color=COLORS[3], lw=1)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        step_r, step_c = max(1, rows // 6), max(1, cols // 6)
        ax.set_yticks(range(0, rows, step_r))
        ax.set_xticks(range(0, cols, step_c))
        if title:
            ax.set_title(title)
    return ax


__all__ += ["channel_heatmap"]
