"""Exact cost counting for convolutions and the networks built from them.

Convention used everywhere in the course
----------------------------------------
* **Parameters** are every learnable number: weights *and* biases (and BatchNorm's scale and shift).
  A convolution has ``(in_channels / groups) * K_h * K_w * out_channels`` weights plus ``out_channels``
  biases, i.e. ``Cin*K*K*Cout + Cout`` for an ordinary conv.
* **MACs** (multiply-accumulates) count the multiplications of convolutions and fully connected layers:
  ``H_out * W_out * (Cin / groups) * K_h * K_w * Cout`` per image for a conv, ``in * out`` for a linear layer.
  Bias additions, BatchNorm, activations, pooling and residual additions are *not* counted: they are
  a fraction of a percent of the total, and leaving them out matches both the papers' "multiply-adds"
  and PyTorch's ``torch.utils.flop_counter.FlopCounterMode``.
* **FLOPs** = 2 x MACs (one multiply plus one add). ``FlopCounterMode`` reports FLOPs in this sense, so
  ``profile(model, shape).total_macs == FlopCounterMode total / 2`` (tests assert it for every model).
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from ._validate import IntPair, divisible, non_negative_int, pair, positive_int

__all__ = [
    "conv_output_size",
    "conv_output_hw",
    "conv_params",
    "conv_macs",
    "linear_params",
    "linear_macs",
    "count_params",
    "profile",
    "Profile",
    "LayerRow",
    "format_count",
]


# ---------------------------------------------------------------------------------------------
# Closed forms
# ---------------------------------------------------------------------------------------------
def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution along one axis.

    ``floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1``, the formula PyTorch uses.
    Raises ``ValueError`` when the (dilated) kernel is larger than the padded input.
    """
    size = positive_int("size", size)
    kernel_size = positive_int("kernel_size", kernel_size)
    stride = positive_int("stride", stride)
    padding = non_negative_int("padding", padding)
    dilation = positive_int("dilation", dilation)
    span = dilation * (kernel_size - 1) + 1
    padded = size + 2 * padding
    if span > padded:
        raise ValueError(
            f"kernel_size={kernel_size} (dilation={dilation}, effective size {span}) is larger than "
            f"the padded input size={size} + 2*padding={padding} = {padded}"
        )
    return (padded - span) // stride + 1


def conv_output_hw(
    input_size: IntPair, kernel_size: IntPair, stride: IntPair = 1, padding: IntPair = 0, dilation: IntPair = 1
) -> tuple[int, int]:
    """``(H_out, W_out)`` of a convolution on an ``H×W`` input; each argument an int or an ``(h, w)`` pair."""
    (h, w), (kh, kw) = pair("input_size", input_size), pair("kernel_size", kernel_size)
    (sh, sw), (dh, dw) = pair("stride", stride), pair("dilation", dilation)
    ph, pw = pair("padding", padding, allow_zero=True)
    return conv_output_size(h, kh, sh, ph, dh), conv_output_size(w, kw, sw, pw, dw)


def conv_params(in_channels: int, out_channels: int, kernel_size: IntPair, groups: int = 1, bias: bool = True) -> int:
    """Learnable parameters of ``nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias)``.

    Weights ``(out_channels, in_channels/groups, K_h, K_w)`` plus ``out_channels`` biases.
    """
    in_channels = positive_int("in_channels", in_channels)
    out_channels = positive_int("out_channels", out_channels)
    kh, kw = pair("kernel_size", kernel_size)
    groups = positive_int("groups", groups)
    divisible("in_channels", in_channels, groups)
    divisible("out_channels", out_channels, groups)
    weights = out_channels * (in_channels // groups) * kh * kw
    return weights + (out_channels if bias else 0)


def conv_macs(
    in_channels: int,
    out_channels: int,
    kernel_size: IntPair,
    input_size: IntPair,
    stride: IntPair = 1,
    padding: IntPair = 0,
    dilation: IntPair = 1,
    groups: int = 1,
    batch_size: int = 1,
) -> int:
    """Multiply-accumulates of one ``nn.Conv2d`` forward pass on ``(batch_size, in_channels, H, W)``.

    ``batch_size * H_out * W_out * out_channels * (in_channels/groups) * K_h * K_w``; bias adds not counted.
    ``input_size`` is ``H`` (square) or ``(H, W)``.
    """
    in_channels = positive_int("in_channels", in_channels)
    out_channels = positive_int("out_channels", out_channels)
    groups = positive_int("groups", groups)
    divisible("in_channels", in_channels, groups)
    divisible("out_channels", out_channels, groups)
    batch_size = positive_int("batch_size", batch_size)
    kh, kw = pair("kernel_size", kernel_size)
    h_out, w_out = conv_output_hw(input_size, kernel_size, stride, padding, dilation)
    return batch_size * h_out * w_out * out_channels * (in_channels // groups) * kh * kw


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Learnable parameters of ``nn.Linear(in_features, out_features, bias=bias)``: ``in*out (+ out)``."""
    in_features = positive_int("in_features", in_features)
    out_features = positive_int("out_features", out_features)
    return in_features * out_features + (out_features if bias else 0)


def linear_macs(in_features: int, out_features: int, batch_size: int = 1) -> int:
    """Multiply-accumulates of ``nn.Linear`` on ``(batch_size, in_features)``: ``batch * in * out``."""
    in_features = positive_int("in_features", in_features)
    out_features = positive_int("out_features", out_features)
    batch_size = positive_int("batch_size", batch_size)
    return batch_size * in_features * out_features


def count_params(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``module`` (each shared tensor counted once)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def format_count(n: float, unit: str = "") -> str:
    """Human-readable count: ``format_count(3_858_000_000) == '3.86 G'``."""
    for scale, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {prefix}{unit}"
    return f"{n:g} {unit}".rstrip()


# ---------------------------------------------------------------------------------------------
# Profiling a module
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LayerRow:
    """One executed layer: its qualified name, kind, shapes, own parameters and MACs.

    ``activation_bytes`` is the size of the layer's output tensor (at the profiled dtype): the memory the
    activation occupies while it lives, and roughly what autograd keeps of it for the backward pass.
    """

    name: str
    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    params: int
    macs: int
    activation_bytes: int = field(default=0, repr=False)

    @property
    def flops(self) -> int:
        """FLOPs in the FlopCounterMode sense: 2 x MACs."""
        return 2 * self.macs


@dataclass
class Profile:
    """Per-layer cost table of a module on one input shape; prints as text, renders as HTML in Jupyter."""

    rows: list[LayerRow]
    input_shape: tuple[int, ...]
    total_params: int
    model_name: str = ""
    _columns: tuple[str, ...] = field(default=("name", "kind", "input", "output", "params", "MACs"), repr=False)
    show_activations: bool = field(default=False, repr=False)  # opt in: tables gain an "activation" column

    @property
    def total_macs(self) -> int:
        return sum(r.macs for r in self.rows)

    @property
    def total_flops(self) -> int:
        """2 x total MACs: what ``FlopCounterMode`` reports."""
        return 2 * self.total_macs

    @property
    def total_activation_bytes(self) -> int:
        """Sum of every recorded layer's output size in bytes: about what training keeps for backward."""
        return sum(r.activation_bytes for r in self.rows)

    @property
    def peak_activation_bytes(self) -> int:
        """The largest single layer output in bytes."""
        return max((r.activation_bytes for r in self.rows), default=0)

    def with_activations(self) -> Profile:
        """The same profile, whose text and HTML tables also show each layer's activation size (and the total)."""
        return dataclasses.replace(self, show_activations=True)

    def _header(self) -> tuple[str, ...]:
        return (*self._columns, "activation") if self.show_activations else self._columns

    def by_kind(self) -> OrderedDict[str, tuple[int, int]]:
        """``{kind: (params, macs)}`` summed over rows, in order of first appearance."""
        out: OrderedDict[str, tuple[int, int]] = OrderedDict()
        for r in self.rows:
            p, m = out.get(r.kind, (0, 0))
            out[r.kind] = (p + r.params, m + r.macs)
        return out

    def filter(self, predicate: Callable[[LayerRow], bool]) -> Profile:
        """A new profile with the rows for which ``predicate(row)`` is true (totals follow the rows)."""
        rows = [r for r in self.rows if predicate(r)]
        return Profile(
            rows, self.input_shape, sum(r.params for r in rows), self.model_name, show_activations=self.show_activations
        )

    def _cells(self) -> list[tuple[str, ...]]:
        def shape(s: tuple[int, ...]) -> str:
            return "×".join(str(d) for d in s)

        extra = (lambda r: (format_count(r.activation_bytes, "B"),)) if self.show_activations else (lambda r: ())
        return [
            (r.name, r.kind, shape(r.input_shape), shape(r.output_shape), f"{r.params:,}", f"{r.macs:,}", *extra(r))
            for r in self.rows
        ]

    def _footer(self) -> tuple[str, ...]:
        extra = (format_count(self.total_activation_bytes, "B"),) if self.show_activations else ()
        return ("total", "", "", "", f"{self.total_params:,}", f"{self.total_macs:,}", *extra)

    def to_text(self, max_rows: int | None = None) -> str:
        """Aligned text table; ``max_rows`` keeps the first rows and says how many were left out."""
        cells = self._cells()
        hidden = 0
        if max_rows is not None and len(cells) > max_rows:
            hidden = len(cells) - max_rows
            cells = cells[:max_rows]
        table = [self._header(), *cells, self._footer()]
        widths = [max(len(row[i]) for row in table) for i in range(len(self._header()))]
        numeric = {4, 5, 6}

        def line(row: Sequence[str]) -> str:
            return "  ".join(
                c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=False))
            ).rstrip()

        rule = "  ".join("-" * w for w in widths)
        body = [line(r) for r in cells]
        if hidden:
            body.append(f"... {hidden} more rows")
        return "\n".join([line(self._header()), rule, *body, rule, line(self._footer())])

    def __str__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self._header())

        def tr(cells: Iterable[str], tag: str = "td") -> str:
            return (
                "<tr>"
                + "".join(
                    f'<{tag} style="text-align:{"right" if i >= 4 else "left"}">{html.escape(c)}</{tag}>'
                    for i, c in enumerate(cells)
                )
                + "</tr>"
            )

        body = "".join(tr(c) for c in self._cells())
        foot = tr(self._footer(), "th")
        title = (
            f"<caption>{html.escape(self.model_name)} on input {self.input_shape}</caption>" if self.model_name else ""
        )
        return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody><tfoot>{foot}</tfoot></table>"


def _kind(module: nn.Module) -> str:
    """A short layer-kind label: ``Conv2d 1×1``, ``Conv2d 3×3 dw``, ``Conv2d 3×3 g4``, ``Linear``, ..."""
    name = type(module).__name__
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        label = f"{name} {kh}×{kw}"
        if module.groups > 1:
            depthwise = module.groups == module.in_channels
            label += " dw" if depthwise else f" g{module.groups}"
        return label
    return name


def _layer_macs(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    """MACs of one call of a leaf layer, from its configuration and the shapes it saw."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return out.numel() * (module.in_channels // module.groups) * kh * kw
    if isinstance(module, nn.Conv1d | nn.Conv3d):
        per_out = (module.in_channels // module.groups) * int(torch.tensor(module.kernel_size).prod())
        return out.numel() * per_out
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    return 0


#: Leaf layers whose output has their input's shape, dtype and device. Run on ``meta`` tensors, their real
#: forward goes through PyTorch's Python decompositions: BatchNorm's alone took about 60 % of a BN network's
#: profile, and the first call imports ``torch._dynamo`` (about 1.5 s). ``profile`` needs only the shape, so
#: these exact types (never a subclass, which may do more) get a stand-in that checks what the real one checks
#: and returns an empty tensor of the input's shape.
_SHAPE_KEEPING: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.GELU, nn.SiLU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid, nn.Tanh,
    nn.Identity, nn.Dropout, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d,
)  # fmt: skip


def _shape_keeping_stand_in(layer: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    def forward(x: torch.Tensor) -> torch.Tensor:
        if isinstance(layer, nn.modules.batchnorm._BatchNorm):
            layer._check_input_dim(x)  # type: ignore[no-untyped-call]  # the real layer's own check of the rank
            if x.shape[1] != layer.num_features:
                raise RuntimeError(
                    f"{layer} expects {layer.num_features} channels, got input of shape {tuple(x.shape)}"
                )
        return torch.empty_like(x)

    return forward


@contextlib.contextmanager
def _stand_ins(module: nn.Module) -> Iterator[None]:
    """Within the block, every ``_SHAPE_KEEPING`` layer of ``module`` forwards through its stand-in."""
    layers = [m for m in module.modules() if type(m) in _SHAPE_KEEPING and "forward" not in vars(m)]
    for layer in layers:
        layer.forward = _shape_keeping_stand_in(layer)
    try:
        yield
    finally:
        for layer in layers:
            del layer.forward


def _first_tensor(args: tuple[object, ...]) -> torch.Tensor | None:
    for a in args:
        if isinstance(a, torch.Tensor):
            return a
        if isinstance(a, (list, tuple)) and a and isinstance(a[0], torch.Tensor):
            return a[0]
    return None


def profile(
    module: nn.Module, input_shape: Sequence[int], name: str = "", dtype: torch.dtype = torch.float32
) -> Profile:
    """Run ``module`` once on a ``meta`` tensor of ``input_shape`` and record every layer.

    Rows are recorded for leaf modules (and for any module holding parameters of its own), in execution
    order, with the qualified name from ``named_modules()``. No real arithmetic happens: parameters are
    swapped for ``meta`` tensors, so ResNet-50 profiles in milliseconds and nothing in ``module`` changes.

    input_shape: ``(N, C, H, W)`` for image models (any shape the module accepts).
    dtype: the floating dtype of the input (and of the floating parameters) during the run; each row's
    ``activation_bytes`` is its output's size at that dtype (4 bytes a number for float32, 2 for float16).
    Tables show activations on request: ``profile(...).with_activations()``.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if isinstance(input_shape, torch.Size):
        input_shape = tuple(input_shape)
    if not isinstance(input_shape, (list, tuple)) or not input_shape:
        raise TypeError(f"input_shape must be a non-empty tuple of ints such as (1, 3, 224, 224), got {input_shape!r}")
    shape = tuple(positive_int(f"input_shape[{i}]", d) for i, d in enumerate(input_shape))
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating torch.dtype such as torch.float32, got {dtype!r}")

    qualified = {m: n for n, m in module.named_modules(remove_duplicate=False)}
    rows: list[LayerRow] = []
    seen: set[int] = set()

    def hook(mod: nn.Module, args: tuple[object, ...], out: object) -> None:
        inp = _first_tensor(args)
        out_t = out if isinstance(out, torch.Tensor) else _first_tensor(out if isinstance(out, tuple) else (out,))
        if inp is None or out_t is None:
            return
        own = 0 if id(mod) in seen else sum(p.numel() for p in mod.parameters(recurse=False))
        seen.add(id(mod))
        rows.append(
            LayerRow(
                name=qualified.get(mod, type(mod).__name__) or type(mod).__name__,
                kind=_kind(mod),
                input_shape=tuple(inp.shape),
                output_shape=tuple(out_t.shape),
                params=own,
                macs=_layer_macs(mod, inp, out_t),
                activation_bytes=out_t.numel() * out_t.element_size(),
            )
        )

    handles = [
        m.register_forward_hook(hook)
        for m in module.modules()
        if not any(True for _ in m.children()) or any(True for _ in m.parameters(recurse=False))
    ]
    state = {
        k: torch.empty_like(v, device="meta", dtype=dtype if v.is_floating_point() else v.dtype)
        for k, v in module.state_dict(keep_vars=True).items()
    }
    was_training = module.training
    try:
        module.eval()
        with torch.no_grad(), _stand_ins(module):
            torch.func.functional_call(module, state, (torch.empty(shape, device="meta", dtype=dtype),))
    except RuntimeError as err:
        raise ValueError(f"{type(module).__name__} cannot run on input_shape={shape}: {err}") from err
    finally:
        module.train(was_training)
        for h in handles:
            h.remove()
    return Profile(rows, shape, count_params(module), name or type(module).__name__)
