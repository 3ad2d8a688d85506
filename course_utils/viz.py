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


# ---------------------------------------------------------------------------------------------
# Architecture diagrams (lessons 03, 04, 05, 07), drawn from the real modules
# ---------------------------------------------------------------------------------------------
# One look for every diagram: rounded boxes coloured by what the layer does, thin grey arrows, the
# tensor's channel count (and size, where known) written on each box. The labels are read from the
# module's own layers, so a diagram cannot disagree with the code it draws.
_KIND_COLORS: dict[str, str] = {
    "1×1 conv": COLORS[0],
    "conv": COLORS[1],
    "pool": COLORS[2],
    "tensor": "#DDDDDD",
    "merge": COLORS[4],
}


def _box(ax: Axes, x: float, y: float, text: str, kind: str, width: float = 2.2, height: float = 0.62) -> None:
    """A rounded box centred at (x, y); ``kind`` is a key of ``_KIND_COLORS``."""
    from matplotlib.patches import FancyBboxPatch

    color = _KIND_COLORS[kind]
    ax.add_patch(
        FancyBboxPatch(
            (x - width / 2, y - height / 2),
            width,
            height,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=color,
            alpha=0.35 if kind != "tensor" else 1.0,
            edgecolor=color if kind != "tensor" else "0.5",
            lw=1.2,
        )
    )
    ax.text(x, y, text, ha="center", va="center", fontsize=8)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], label: str | None = None) -> None:
    """A thin grey arrow from ``start`` to ``end``, with an optional label beside its middle."""
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": "0.35", "lw": 1.0})
    if label:
        ax.text((start[0] + end[0]) / 2 + 0.08, (start[1] + end[1]) / 2, label, fontsize=7, color="0.25", va="center")


def _diagram_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.set_axis_off()
    return ax


def _layer_label(layer: object) -> tuple[str, str]:
    """``(text, kind)`` for a Conv2d / MaxPool2d / AvgPool2d, read from its own attributes."""
    from torch import nn

    if isinstance(layer, nn.Conv2d):
        k = layer.kernel_size[0]
        text = f"{k}×{k} conv → {layer.out_channels}"
        if layer.groups > 1:
            text += f"\ngroups={layer.groups}"
        if layer.stride[0] > 1:
            text += f", stride {layer.stride[0]}"
        return text, "1×1 conv" if k == 1 else "conv"
    if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
        k = layer.kernel_size if isinstance(layer.kernel_size, int) else layer.kernel_size[0]
        name = "max-pool" if isinstance(layer, nn.MaxPool2d) else "avg-pool"
        return f"{k}×{k} {name}", "pool"
    raise TypeError(f"cannot draw a layer of type {type(layer).__name__}")


def _drawn_layers(branch: object) -> list[object]:
    """The convs and pools of ``branch`` in order (ReLU, BN and containers are not drawn)."""
    from torch import nn

    return [m for m in branch.modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d))]  # type: ignore[attr-defined]


def inception_diagram(module: object, size: int | None = None, ax: Axes | None = None) -> Axes:
    """Draw an Inception module's four branches with the widths read from ``module`` (a ``blocks.InceptionModule``).

    Input box on top, the branches (1×1; 1×1 reduce → 3×3; 1×1 reduce → 5×5; 3×3 max-pool → 1×1 pool
    projection) side by side, and the concatenation at the bottom with its sum of widths. ``size`` (H = W),
    if given, is written on the input and output boxes. Returns the Axes.
    """
    branches = [getattr(module, name, None) for name in ("branch1x1", "branch3x3", "branch5x5", "branch_pool")]
    if any(b is None for b in branches) or not hasattr(module, "in_channels"):
        raise TypeError(f"module must be a blocks.InceptionModule, got {type(module).__name__}")
    hw = f"×{size}×{size}" if size else ""
    with style():
        ax = _diagram_axes(ax, (9.0, 4.2))
        xs = [1.4, 3.9, 6.4, 8.9]
        top, bottom = 4.0, 0.0
        _box(ax, 5.15, top, f"input  {module.in_channels}{hw}", "tensor", width=3.0)
        widths = []
        for x, branch in zip(xs, branches, strict=True):
            layers = _drawn_layers(branch)
            ys = np.linspace(2.9, 1.1, len(layers)) if len(layers) > 1 else [2.0]
            _arrow(ax, (5.15, top - 0.32), (x, ys[0] + 0.32))
            for i, (layer, y) in enumerate(zip(layers, ys, strict=True)):
                text, kind = _layer_label(layer)
                _box(ax, x, y, text, kind)
                if i:
                    _arrow(ax, (x, ys[i - 1] - 0.32), (x, y + 0.32))
            widths.append(next(m.out_channels for m in reversed(layers) if hasattr(m, "out_channels")))
            _arrow(ax, (x, ys[-1] - 0.32), (5.15, bottom + 0.32))
        total = " + ".join(str(w) for w in widths)
        _box(ax, 5.15, bottom, f"concat along channels: {total} = {sum(widths)}{hw}", "merge", width=4.6)
        ax.set_xlim(0, 10.3)
        ax.set_ylim(-0.5, 4.5)
    return ax


def residual_block_diagram(
    block: object, ax: Axes | None = None, title: str | None = None, size: int | None = None
) -> Axes:
    """Draw a residual block (``BasicBlock``, ``Bottleneck`` or ResNeXt's block) with its shortcut.

    The main path lists ``conv1``, ``conv2`` (and ``conv3``) with kernel, output width, groups and stride read
    from the block; each conv is followed by BN (and ReLU, except the last); the shortcut on the right is
    labelled "identity" or with its 1×1 projection. Returns the Axes.
    """
    from torch import nn

    found = [getattr(block, f"conv{i}", None) for i in (1, 2, 3)]
    convs: list[nn.Conv2d] = [c for c in found if isinstance(c, nn.Conv2d)]
    shortcut = getattr(block, "shortcut", None)
    if len(convs) < 2 or shortcut is None:
        raise TypeError(
            f"block must be a residual block with conv1, conv2[, conv3] and shortcut, got {type(block).__name__}"
        )
    c_in = convs[0].in_channels
    hw = f"×{size}×{size}" if size else ""
    with style():
        ax = _diagram_axes(ax, (4.2, 4.6))
        n = len(convs)
        ys = np.linspace(3.4, 3.4 - 1.0 * (n - 1), n)
        _box(ax, 1.5, 4.5, f"input  {c_in}{hw}", "tensor", width=2.4)
        prev = 4.5
        for i, (conv, y) in enumerate(zip(convs, ys, strict=True)):
            text, kind = _layer_label(conv)
            _box(ax, 1.5, y, text + (" + BN, ReLU" if i < n - 1 else " + BN"), kind, width=3.0)
            _arrow(ax, (1.5, prev - 0.32), (1.5, y + 0.32))
            prev = y
        add_y = ys[-1] - 1.0
        _box(ax, 1.5, add_y, "⊕  add, then ReLU", "merge", width=2.4)
        _arrow(ax, (1.5, prev - 0.32), (1.5, add_y + 0.32))
        if isinstance(shortcut, nn.Identity):
            label = "identity"
        else:
            proj = next(m for m in shortcut.modules() if isinstance(m, nn.Conv2d))
            label = (
                f"1×1 conv → {proj.out_channels}"
                + (f"\nstride {proj.stride[0]}" if proj.stride[0] > 1 else "")
                + " + BN"
            )
        ax.annotate(
            "",
            xy=(2.75, add_y),
            xytext=(2.75, 4.5),
            arrowprops={"arrowstyle": "-|>", "color": COLORS[3], "lw": 1.4, "connectionstyle": "arc3,rad=-0.25"},
        )
        ax.text(3.35, (4.5 + add_y) / 2, f"shortcut:\n{label}", fontsize=8, color=COLORS[3], va="center")
        out = convs[-1].out_channels
        stride = max(c.stride[0] for c in convs)
        out_hw = f"×{size // stride}×{size // stride}" if size else ""
        _box(ax, 1.5, add_y - 0.9, f"output  {out}{out_hw}", "tensor", width=2.4)
        _arrow(ax, (1.5, add_y - 0.32), (1.5, add_y - 0.58))
        ax.set_xlim(0, 4.6)
        ax.set_ylim(add_y - 1.3, 4.9)
        if title:
            ax.set_title(title)
    return ax


def fc_as_conv_diagram(fc: object, conv: object, ax: Axes | None = None) -> Axes:
    """Draw how a fully connected layer's weight ``(out, C·K·K)`` becomes ``out`` conv kernels ``(C, K, K)``.

    fc: the ``nn.Linear``; conv: the ``nn.Conv2d`` holding the same weights (``models.fc_to_conv``). Left: the
    weight matrix with one row highlighted; middle: that row reshaped into one K×K kernel, C deep, lying on
    the C×K×K feature map; right: the output, one number per kernel. Returns the Axes.
    """
    from matplotlib.patches import Rectangle
    from torch import nn

    if not isinstance(fc, nn.Linear) or not isinstance(conv, nn.Conv2d):
        raise TypeError(
            f"fc must be an nn.Linear and conv an nn.Conv2d, got {type(fc).__name__}, {type(conv).__name__}"
        )
    k = conv.kernel_size[0]
    if fc.in_features != conv.in_channels * k * k or fc.out_features != conv.out_channels:
        raise ValueError(
            f"conv ({conv.out_channels}, {conv.in_channels}, {k}, {k}) does not hold the weights of "
            f"fc ({fc.out_features}, {fc.in_features})"
        )
    with style():
        ax = _diagram_axes(ax, (9.0, 3.4))
        ax.add_patch(Rectangle((0.2, 0.4), 2.6, 2.2, facecolor=_KIND_COLORS["tensor"], edgecolor="0.5"))
        ax.add_patch(Rectangle((0.2, 1.9), 2.6, 0.16, facecolor=COLORS[1], edgecolor=COLORS[1]))
        ax.text(1.5, 2.85, f"fc weight ({fc.out_features:,}, {fc.in_features:,})", ha="center", fontsize=8)
        ax.text(1.5, 1.55, f"row o: {fc.in_features:,} weights", ha="center", fontsize=8, color=COLORS[3])
        ax.text(1.5, 0.15, "one row per output", ha="center", fontsize=7, color="0.3")
        _arrow(ax, (2.95, 1.98), (4.0, 1.98))
        ax.text(3.47, 2.1, f"reshape\n({conv.in_channels}, {k}, {k})", ha="center", va="bottom", fontsize=7)
        for depth in range(4, -1, -1):  # a few layers suggest the C-deep kernel
            off = 0.09 * depth
            ax.add_patch(Rectangle((4.4 + off, 0.9 + off), 1.4, 1.4, facecolor="white", edgecolor=COLORS[1], lw=0.8))
        for i in range(1, k):
            ax.plot([4.4 + 1.4 * i / k] * 2, [0.9, 2.3], color=COLORS[1], lw=0.4)
            ax.plot([4.4, 5.8], [0.9 + 1.4 * i / k] * 2, color=COLORS[1], lw=0.4)
        ax.text(5.3, 2.85, f"kernel o: {k}×{k}, {conv.in_channels} deep", ha="center", fontsize=8)
        ax.text(5.3, 0.5, f"covers the whole {k}×{k}×{conv.in_channels} map", ha="center", fontsize=7, color="0.3")
        _arrow(ax, (6.5, 1.6), (7.4, 1.6))
        ax.text(6.95, 1.7, "one position", ha="center", va="bottom", fontsize=7)
        _box(
            ax,
            8.3,
            1.6,
            f"y_o: 1 number\n{conv.out_channels:,} kernels →\n({conv.out_channels:,}, 1, 1)",
            "tensor",
            1.6,
            1.0,
        )
        ax.set_xlim(0, 9.3)
        ax.set_ylim(0, 3.1)
    return ax


def receptive_fields_diagram(
    image: object,
    cells: Sequence[tuple[int, int]],
    stride: int,
    field: int,
    start: int,
    crop: int,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw score-map cells on the image they were computed from: each cell's crop and its receptive field.

    image: ``(3, H, W)`` or ``(H, W, 3)`` in [0, 1]; cell (i, j) stands for the ``crop``×``crop`` window at
    ``(stride·i, stride·j)`` (solid) and sees the ``field``×``field`` window starting at
    ``(stride·i + start, stride·j + start)`` (dashed; clipped to the image). Returns the Axes.
    """
    from matplotlib.patches import Rectangle

    arr = _to_numpy(image, "image")
    if arr.ndim == 3 and arr.shape[0] == 3:
        arr = arr.transpose(1, 2, 0)
    if arr.ndim != 3 or arr.shape[2] != 3:
        raise ValueError(f"image must have shape (3, H, W) or (H, W, 3), got shape {arr.shape}")
    for name, value in (("stride", stride), ("field", field), ("crop", crop)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}={value!r} must be a positive int")
    h, w = arr.shape[:2]
    with style():
        ax = _diagram_axes(ax, (4.6, 4.6))
        ax.imshow(np.clip(arr, 0, 1))
        for n, (i, j) in enumerate(cells):
            color = COLORS[(n + 1) % len(COLORS)]
            ax.add_patch(Rectangle((stride * j, stride * i), crop, crop, fill=False, edgecolor=color, lw=1.8))
            x0, y0 = max(0, stride * j + start), max(0, stride * i + start)
            x1, y1 = min(w, stride * j + start + field), min(h, stride * i + start + field)
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=color, lw=1.2, ls="--"))
            ax.text(stride * j + 4, stride * i + 14, f"cell ({i}, {j})", color=color, fontsize=8, fontweight="bold")
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        ax.set_title(title or f"solid: the {crop}×{crop} crop; dashed: the {field}×{field} receptive field", fontsize=9)
    return ax


def fpn_diagram(fpn: object, input_shapes: Sequence[Sequence[int]], ax: Axes | None = None) -> Axes:
    """Draw an FPN (``blocks.FPN``): backbone maps C_i, lateral 1×1 convs, the top-down path, outputs P_i.

    input_shapes: the ``(N, C, H, W)`` shapes of the backbone maps, finest first (C2 first). Channel counts
    and map sizes on every box are read from the FPN's own layers and these shapes. Returns the Axes.
    """
    laterals = getattr(fpn, "lateral", None)
    if laterals is None or not hasattr(fpn, "smooth"):
        raise TypeError(f"fpn must be a blocks.FPN, got {type(fpn).__name__}")
    if len(input_shapes) != len(laterals):
        raise ValueError(f"input_shapes must hold {len(laterals)} shapes (one per level), got {len(input_shapes)}")
    for i, (shape, lat) in enumerate(zip(input_shapes, laterals, strict=True)):
        if len(shape) != 4 or shape[1] != lat.in_channels:
            raise ValueError(f"input_shapes[{i}]={tuple(shape)} must be (N, {lat.in_channels}, H, W)")
    levels = len(laterals)
    with style():
        ax = _diagram_axes(ax, (9.0, 1.2 * levels + 0.8))
        for i, (shape, lat, smooth) in enumerate(zip(input_shapes, laterals, fpn.smooth, strict=True)):
            y = 1.2 * i
            h, w = shape[2], shape[3]
            _box(ax, 1.2, y, f"C{i + 2}  {shape[1]}×{h}×{w}", "tensor", width=2.1)
            _box(ax, 3.6, y, f"lateral 1×1 conv\n{lat.in_channels} → {lat.out_channels}", "1×1 conv", width=2.1)
            _arrow(ax, (2.25, y), (2.55, y))
            _box(ax, 5.9, y, f"⊕  {lat.out_channels}×{h}×{w}", "merge", width=1.9)
            _arrow(ax, (4.65, y), (4.95, y))
            k = smooth.kernel_size[0]
            _box(ax, 8.2, y, f"{k}×{k} conv → P{i + 2}\n{smooth.out_channels}×{h}×{w}", "conv", width=2.1)
            _arrow(ax, (6.85, y), (7.15, y))
            if i < levels - 1:
                _arrow(ax, (5.9, y + 1.2 - 0.32), (5.9, y + 0.32), "×2 nearest\nupsample")
        ax.text(
            1.2, 1.2 * levels - 0.45, "backbone (fine → coarse, bottom → top)", ha="center", fontsize=8, color="0.3"
        )
        ax.text(5.9, 1.2 * levels - 0.45, "top-down path", ha="center", fontsize=8, color="0.3")
        ax.set_xlim(0, 9.4)
        ax.set_ylim(-0.6, 1.2 * levels - 0.2)
    return ax


__all__ += [
    "inception_diagram",
    "residual_block_diagram",
    "fc_as_conv_diagram",
    "receptive_fields_diagram",
    "fpn_diagram",
]
