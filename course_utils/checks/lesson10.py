"""Checks for exercises/10_pointwise_today.ipynb: an inverted residual (checked by behaviour, not by attribute names),
a squeeze-and-excitation block with its parameter count, and the backward pass of a 1×1 conv against autograd."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from ._framework import Case, Exercise, Failure, compare, function_exercise, run_adapter

# ---------------------------------------------------------------------------------------------
# Shared adapter: build the learner's module, fill its floating-point state BY POSITION (names are free), probe it.
# ---------------------------------------------------------------------------------------------
_PROBE_MODULE = r"""
def _fill(state, seed):
    # seeded values in registration order; BatchNorm's running_var stays positive
    generator = _torch.Generator().manual_seed(int(seed))
    for name, tensor in state.items():
        if tensor.is_floating_point():
            if name.endswith("running_var"):
                tensor.copy_((_torch.rand(tensor.numel(), generator=generator) + 0.5).reshape(tensor.shape))
            else:
                tensor.copy_((_torch.randn(tensor.numel(), generator=generator) * 0.5).reshape(tensor.shape))


def adapter(obj, case):
    module = obj(*case["args"])
    if not isinstance(module, _torch.nn.Module):
        raise TypeError(f"{getattr(obj, '__name__', obj)}(...) returned a {type(module).__name__}, not an nn.Module")
    state = module.state_dict()
    result = {
        "params": int(sum(p.numel() for p in module.parameters())),
        "numels": [int(v.numel()) for v in state.values() if v.is_floating_point()],
    }
    x = case["x"]
    with _torch.no_grad():
        module.eval()
        for name, tensor in state.items():  # probe 1: every parameter zero (running_var one)
            if tensor.is_floating_point():
                tensor.fill_(1.0 if name.endswith("running_var") else 0.0)
        result["zero_out"] = module(x)
        _fill(state, case["seed"])  # probe 2: seeded values, by position
        result["out"] = module(x)
    if case.get("param_count") is not None:
        result["param_count"] = obj.param_count(*case["param_count"])
    if case.get("bad_args") is not None:
        try:
            obj(*case["bad_args"])
            result["bad"] = "no error"
        except NotImplementedError:
            raise
        except Exception as err:
            result["bad"] = type(err).__name__
    return result
"""


def _x(rng: np.random.Generator, n: int, c: int, h: int, w: int) -> torch.Tensor:
    return torch.from_numpy(rng.standard_normal((n, c, h, w)).astype(np.float32))


def _expected(reference: Any, case: Case) -> dict[str, Any]:
    result = run_adapter(_PROBE_MODULE, reference, case.data)
    if "value" not in result:  # pragma: no cover - the references never raise
        raise RuntimeError(f"reference failed: {result['error']}")
    return dict(result["value"])


def _matches(variant: Any, case: Case, received: dict[str, Any]) -> bool:
    """Whether the module class ``variant`` (a known mistake) gives the learner's parameter count and output."""
    probe_only = Case(case.label, {k: v for k, v in case.data.items() if k not in ("param_count", "bad_args")})
    try:
        value = _expected(variant, probe_only)
    except RuntimeError:
        return False
    same_count = value["params"] == received.get("params")
    return same_count and compare(value["out"], received.get("out")) is None


# ---------------------------------------------------------------------------------------------
# ex10_inverted_residual: class InvertedResidual(in_channels, out_channels, stride=1, expand_ratio=6)
# ---------------------------------------------------------------------------------------------
class _InvertedResidual(nn.Module):
    def __init__(
        self,
        c_in: int,
        c_out: int,
        stride: int = 1,
        t: int = 6,
        *,
        final_act: type[nn.Module] | None = None,
        act: type[nn.Module] = nn.ReLU6,
        residual: bool | None = None,
        always_expand: bool = False,
        stride_on_expand: bool = False,
    ):
        super().__init__()
        hidden = int(round(c_in * t))
        layers: list[nn.Module] = []
        if t != 1 or always_expand:
            s = stride if stride_on_expand else 1
            layers += [nn.Conv2d(c_in, hidden, 1, stride=s, bias=False), nn.BatchNorm2d(hidden), act()]
        s = 1 if stride_on_expand and (t != 1 or always_expand) else stride
        layers += [nn.Conv2d(hidden, hidden, 3, s, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), act()]
        layers += [nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out)]
        if final_act is not None:
            layers.append(final_act())
        self.body = nn.Sequential(*layers)
        self.residual = (stride == 1 and c_in == c_out) if residual is None else residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.body(x)
        return x + out if self.residual else out


def _ir_case(
    rng: np.random.Generator, c_in: int, c_out: int, stride: int, t: int, n: int, h: int, w: int, scale: float = 1.0
) -> dict[str, Any]:
    x = _x(rng, n, c_in, h, w) * scale
    return {"args": [c_in, c_out, stride, t], "x": x, "seed": int(rng.integers(2**31))}


def _ir_cases() -> list[Case]:
    rng = np.random.default_rng(10)
    return [
        Case("residual block: 8 → 8, stride 1, t = 6", _ir_case(rng, 8, 8, 1, 6, 2, 5, 5)),
        Case("downsampling block: 8 → 16, stride 2, t = 6", _ir_case(rng, 8, 16, 2, 6, 1, 6, 6)),
    ]


def _ir_hidden(rng: np.random.Generator) -> list[Case]:
    """Half the cases with expand_ratio = 1 (no expansion conv), half of them with a shortcut."""
    return [
        Case("width changes at stride 1 (no shortcut)", _ir_case(rng, 4, 6, 1, 6, 2, 4, 4)),
        Case("stride 2 keeping the width (no shortcut)", _ir_case(rng, 6, 6, 2, 6, 1, 7, 5)),
        Case("expand_ratio = 1 (no expansion conv)", _ir_case(rng, 8, 8, 1, 1, 2, 3, 3)),
        Case("expand_ratio = 1 with stride 2", _ir_case(rng, 8, 4, 2, 1, 1, 5, 5)),
        Case("expand_ratio = 3", _ir_case(rng, 5, 5, 1, 3, 1, 4, 6)),
        Case("1×1 spatial size, expand_ratio = 1", _ir_case(rng, 4, 4, 1, 1, 2, 1, 1)),
        Case("large inputs (ReLU6 clips at 6), expand_ratio = 1", _ir_case(rng, 8, 8, 1, 1, 2, 4, 4, scale=30.0)),
        Case(
            "random widths",
            _ir_case(rng, int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 3)), 6, 2, 5, 4),
        ),
    ]


def _ir_judge(case: Case, received: Any) -> Failure | None:
    c_in, c_out, stride, t = case.data["args"]
    expected = _expected(_InvertedResidual, case)
    if not isinstance(received, dict) or not {"params", "numels", "zero_out", "out"} <= set(received):
        return Failure("the module could not be probed", hint="forward must return a tensor")
    failure = compare(expected["out"], received["out"])
    if failure is not None and failure.what.startswith("wrong shape"):
        return failure
    if received["params"] != expected["params"]:
        hint = (
            "each conv has bias=False and is followed by BatchNorm2d; hidden width = round(in_channels · expand_ratio)"
        )
        if _matches(lambda *a: _InvertedResidual(*a, always_expand=True), case, {**received, "out": None}) or (
            t == 1 and received["params"] > expected["params"]
        ):
            hint = "when expand_ratio == 1 there is no expansion 1×1 conv (the depthwise conv runs on the input)"
        return Failure("wrong number of parameters", str(expected["params"]), str(received["params"]), hint)
    want_identity = stride == 1 and c_in == c_out
    got_identity = compare(case.data["x"], received["zero_out"]) is None
    if want_identity != got_identity:
        hint = (
            "add the input (x + branch) when stride == 1 and in_channels == out_channels"
            if want_identity
            else "the shortcut exists only when stride == 1 and in_channels == out_channels: here there is none"
        )
        return Failure("the shortcut is wrong (probed with every parameter set to zero)", hint=hint)
    if failure is None:
        return None
    linear_hint = "the projection is linear: no ReLU/ReLU6 after the last 1×1 conv and its BatchNorm"
    if not bool((received["out"] < 0).any()) and bool((expected["out"] < 0).any()):
        failure.hint = linear_hint
        return failure
    for hint, variant in (
        (linear_hint, {"final_act": nn.ReLU6}),
        (linear_hint, {"final_act": nn.ReLU}),
        ("use ReLU6 (nn.ReLU6), as MobileNetV2 does, after the expansion and the depthwise conv", {"act": nn.ReLU}),
        ("the stride goes on the 3×3 depthwise conv, not on the 1×1 expansion", {"stride_on_expand": True}),
    ):
        if _matches(lambda *a, v=variant: _InvertedResidual(*a, **v), case, received):
            failure.hint = hint
            return failure
    if received["numels"] != expected["numels"]:
        failure.hint = (
            "register the layers in the order they run: 1×1 expand conv, its BatchNorm, 3×3 depthwise conv, its "
            "BatchNorm, 1×1 project conv, its BatchNorm (the check fills parameters in that order)"
        )
    else:
        failure.hint = (
            "expand (1×1, BN, ReLU6) → depthwise 3×3 (groups = hidden, padding 1, stride, BN, ReLU6) → project"
        )
    return failure


_INVERTED_RESIDUAL = Exercise(
    "ex10_inverted_residual",
    points=4,
    target="InvertedResidual",
    adapter=_PROBE_MODULE,
    visible=_ir_cases,
    hidden=_ir_hidden,
    judge=_ir_judge,
    error_hint="check the channel counts (the depthwise conv has groups = hidden = round(in · expand_ratio)); the "
    "shortcut is added only when stride == 1 and in_channels == out_channels, where the shapes match",
)


# ---------------------------------------------------------------------------------------------
# ex10_squeeze_excitation: class SqueezeExcitation(channels, reduction=16) with a static param_count(channels, reduction)
# ---------------------------------------------------------------------------------------------
class _SE(nn.Module):
    def __init__(self, c: int, r: int = 16, *, gate: str = "sigmoid", inner_relu: bool = True, bias: bool = True):
        super().__init__()
        if c % r:
            raise ValueError(f"reduction={r} must divide channels={c}")
        self.fc1 = nn.Conv2d(c, c // r, 1, bias=bias)
        self.fc2 = nn.Conv2d(c // r, c, 1, bias=bias)
        self.gate, self.inner_relu = gate, inner_relu

    @staticmethod
    def param_count(c: int, r: int) -> int:
        return 2 * c * (c // r) + c // r + c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x.mean(dim=(2, 3), keepdim=True) if self.gate != "max" else x.amax(dim=(2, 3), keepdim=True)
        h = self.fc1(s)
        h = torch.relu(h) if self.inner_relu else h
        g = self.fc2(h)
        g = torch.relu(g) if self.gate == "relu" else torch.sigmoid(g)
        return x * g


def _se_case(rng: np.random.Generator, c: int, r: int, n: int, h: int, w: int, bad_r: int) -> dict[str, Any]:
    return {
        "args": [c, r],
        "x": _x(rng, n, c, h, w),
        "seed": int(rng.integers(2**31)),
        "param_count": [c, r],
        "bad_args": [c, bad_r],
    }


def _se_cases() -> list[Case]:
    rng = np.random.default_rng(11)
    return [
        Case("16 channels, r = 4", _se_case(rng, 16, 4, 2, 5, 5, 3)),
        Case("64 channels, r = 16", _se_case(rng, 64, 16, 1, 3, 4, 12)),
    ]


def _se_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("r = 1 (no reduction)", _se_case(rng, 6, 1, 2, 3, 3, 4)),
        Case("r = C (one hidden unit)", _se_case(rng, 8, 8, 1, 4, 4, 3)),
        Case("1×1 spatial size", _se_case(rng, 12, 3, 3, 1, 1, 5)),
        Case("H ≠ W", _se_case(rng, 10, 5, 1, 2, 7, 4)),
    ]
    for i in range(2):
        r = int(rng.integers(1, 5))
        c = r * int(rng.integers(1, 9))
        cases.append(Case(f"random sizes #{i + 1}", _se_case(rng, c, r, 2, 4, 3, c + 1)))
    return cases


def _se_judge(case: Case, received: Any) -> Failure | None:
    c, r = case.data["args"]
    expected = _expected(_SE, case)
    if not isinstance(received, dict) or not {"params", "out", "param_count", "bad"} <= set(received):
        return Failure("the block could not be probed", hint="forward must return a tensor; define param_count")
    if received["bad"] != "ValueError":
        bad_c, bad_r = case.data["bad_args"]
        return Failure(
            f"SqueezeExcitation({bad_c}, {bad_r}) gave {received['bad']}",
            "ValueError",
            str(received["bad"]),
            f"raise ValueError when reduction does not divide channels (e.g. 'reduction={bad_r} must divide "
            f"channels={bad_c}')",
        )
    count = compare(expected["param_count"], received["param_count"])
    if count is not None:
        count.what = f"param_count({c}, {r}) is wrong"
        if received["param_count"] == 2 * c * (c // r):
            count.hint = "param_count forgot the biases: fc1 has C/r of them and fc2 has C"
        else:
            count.hint = "two weight matrices C×C/r and C/r×C, plus C/r + C biases: 2·C²/r + C/r + C"
        return count
    if received["params"] != expected["params"]:
        return Failure(
            "the block's parameters differ from 2·C²/r + C/r + C",
            str(expected["params"]),
            str(received["params"]),
            "two 1×1 convs (or Linear layers) with biases: C → C/r and C/r → C",
        )
    failure = compare(expected["out"], received["out"])
    if failure is None:
        return None
    if failure.what.startswith("wrong shape"):
        failure.hint = "return the input scaled channel by channel, x * weights, with the input's shape (N, C, H, W)"
        return failure
    for hint, variant in (
        ("the gate is a sigmoid (weights in (0, 1)), not a ReLU", {"gate": "relu"}),
        ("squeeze with the global AVERAGE over H and W, not the maximum", {"gate": "max"}),
        ("a ReLU goes between the two 1×1 convs", {"inner_relu": False}),
    ):
        if _matches(lambda *a, v=variant: _SE(*a, **v), case, received):
            failure.hint = hint
            return failure
    failure.hint = "mean over (H, W) → fc1 (C → C/r) → ReLU → fc2 (C/r → C) → sigmoid → x * weights[:, :, None, None]"
    return failure


_SQUEEZE_EXCITATION = Exercise(
    "ex10_squeeze_excitation",
    points=3,
    target="SqueezeExcitation",
    adapter=_PROBE_MODULE,
    visible=_se_cases,
    hidden=_se_hidden,
    judge=_se_judge,
    error_hint="the pooled input has shape (N, C, 1, 1): 1×1 convs take it as it is, Linear layers need .flatten(1)",
)


# ---------------------------------------------------------------------------------------------
# ex10_pointwise_backward(x, w, grad_out) -> (grad_x, grad_w, grad_b), NumPy; checked against autograd
# ---------------------------------------------------------------------------------------------
def _autograd(x: np.ndarray, w: np.ndarray, grad_out: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_()
    wt = torch.from_numpy(w.astype(np.float64)).requires_grad_()
    bt = torch.zeros(w.shape[0], dtype=torch.float64, requires_grad=True)
    out = torch.nn.functional.conv2d(xt, wt[:, :, None, None], bt)
    torch.autograd.backward(out, torch.from_numpy(grad_out.astype(np.float64)))
    assert xt.grad is not None and wt.grad is not None and bt.grad is not None  # noqa: S101 - autograd filled them
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def _bw_case(rng: np.random.Generator, n: int, c_in: int, c_out: int, h: int, w: int) -> dict[str, Any]:
    def a(*shape: int) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)

    return {"args": [a(n, c_in, h, w), a(c_out, c_in), a(n, c_out, h, w)]}


def _bw_cases() -> list[Case]:
    rng = np.random.default_rng(12)
    return [
        Case("one image, 3 → 2 channels, 4×5", _bw_case(rng, 1, 3, 2, 4, 5)),
        Case("batch of 2, 4 → 6 channels, 3×3", _bw_case(rng, 2, 4, 6, 3, 3)),
    ]


def _bw_hidden(rng: np.random.Generator) -> list[Case]:
    cases = [
        Case("C_in = C_out (catches a missing transpose)", _bw_case(rng, 2, 5, 5, 3, 4)),
        Case("batch of 3 (grad_w and grad_b sum over images)", _bw_case(rng, 3, 4, 3, 2, 2)),
        Case("H ≠ W", _bw_case(rng, 2, 3, 4, 2, 7)),
        Case("1×1 spatial size", _bw_case(rng, 4, 6, 2, 1, 1)),
    ]
    for i in range(3):
        dims = [int(v) for v in rng.integers(1, 7, size=5)]
        cases.append(Case(f"random shapes #{i + 1}", _bw_case(rng, *dims)))
    return cases


_POINTWISE_BACKWARD = function_exercise(
    "ex10_pointwise_backward",
    points=3,
    target="pointwise_conv_backward",
    visible=_bw_cases,
    hidden=_bw_hidden,
    reference=_autograd,
    mistakes=[
        (
            "grad_x uses W instead of Wᵀ: dX = Wᵀ · dY (the gradient flows back through the transposed matrix)",
            lambda x, w, g: (_autograd(x, w.T, g)[0], *_autograd(x, w, g)[1:]) if w.shape[0] == w.shape[1] else None,
        ),
        (
            "grad_w and grad_b are SUMS over the batch and the pixels, not means",
            lambda x, w, g: (
                _autograd(x, w, g)[0],
                _autograd(x, w, g)[1] / (x.shape[0] * x.shape[2] * x.shape[3]),
                _autograd(x, w, g)[2] / (x.shape[0] * x.shape[2] * x.shape[3]),
            ),
        ),
        (
            "grad_w and grad_b sum over every image of the batch, not only the first",
            lambda x, w, g: (_autograd(x, w, g)[0], *_autograd(x[:1], w, g[:1])[1:]),
        ),
    ],
    error_hint="check the shapes: dX = Wᵀ @ dY with w.T (C_in, C_out) and dY (N, C_out, H·W); reshape x to "
    "(N, C_in, H·W) and grad_out to (N, C_out, H·W) first",
)


EXERCISES = [_INVERTED_RESIDUAL, _SQUEEZE_EXCITATION, _POINTWISE_BACKWARD]
