"""Checks for exercises/02_pointwise_vs_pca.ipynb: PCA of per-pixel channel vectors, PCA as a 1×1 conv."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .. import data
from ._framework import UNKNOWN_MISTAKE, UNKNOWN_MISTAKE_HIDDEN, Case, Exercise, Failure, compare, function_exercise

_TOL = 1e-3  # components from float32 inputs: loose enough for float32 SVDs, tight enough to catch every mistake


def _channel_data(rng: np.random.Generator, n: int, c: int, h: int, w: int, offset: float = 3.0) -> np.ndarray:
    """(N, C, H, W) maps whose per-pixel channel vectors have well-separated principal variances and a mean far
    from zero (so forgetting to centre changes the answer)."""
    q, _ = np.linalg.qr(rng.standard_normal((c, c)))
    scales = 3.0 * 0.6 ** np.arange(c)
    pixels = rng.standard_normal((n * h * w, c)) * scales @ q.T + offset * rng.standard_normal(c)
    return np.ascontiguousarray(pixels.reshape(n, h, w, c).transpose(0, 3, 1, 2)).astype(np.float32)


def _pixels(x: np.ndarray) -> np.ndarray:
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1]).astype(np.float64)


def _pca(pixels: np.ndarray, k: int, centre: bool = True) -> tuple[np.ndarray, np.ndarray]:
    mean = pixels.mean(axis=0)
    _, _, vt = np.linalg.svd(pixels - mean if centre else pixels, full_matrices=False)
    return vt[:k], mean


def _sign_fixed(components: np.ndarray) -> np.ndarray:
    """Flip each row so its largest-magnitude entry is positive (PCA components are defined up to sign)."""
    rows = np.asarray(components, dtype=np.float64)
    if rows.ndim != 2:
        return rows
    pivot = np.abs(rows).argmax(axis=1)
    return rows * np.sign(rows[np.arange(rows.shape[0]), pivot])[:, None]


# ---------------------------------------------------------------------------------------------
# ex02_channel_pca(x, k) -> (components (k, C), mean (C,))
# ---------------------------------------------------------------------------------------------


def _pca_ref(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    return _pca(_pixels(x), k)


def _pca_compare(expected: Any, received: Any) -> Failure | None:
    if not isinstance(received, (tuple, list)) or len(received) != 2:
        return Failure(
            "expected a tuple (components, mean)",
            "(array of shape (k, C), array of shape (C,))",
            type(received).__name__,
            "return components, mean",
        )
    components = received[0]
    if isinstance(components, torch.Tensor):
        components = components.detach().double().numpy()
    if isinstance(components, np.ndarray) and components.ndim == 2:
        components = _sign_fixed(components)
    return compare((_sign_fixed(expected[0]), expected[1]), (components, received[1]), rtol=_TOL, atol=_TOL)


def _pca_case(rng: np.random.Generator, n: int, c: int, h: int, w: int, k: int) -> dict[str, Any]:
    return {"args": [_channel_data(rng, n, c, h, w), k]}


def _pca_cases() -> list[Case]:
    rng = np.random.default_rng(3)
    return [
        Case("4 channels, keep 2", _pca_case(rng, 2, 4, 5, 6, 2)),
        Case("6 channels, keep 3", _pca_case(rng, 3, 6, 4, 4, 3)),
    ]


def _pca_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case("keep a single component", _pca_case(rng, 2, 5, 6, 6, 1)),
        Case("keep every component (k = C)", _pca_case(rng, 2, 4, 5, 5, 4)),
        Case("H ≠ W (catches a wrong reshape order)", _pca_case(rng, 2, 5, 3, 9, 2)),
        Case("one image", _pca_case(rng, 1, 6, 8, 8, 3)),
        Case("many channels", _pca_case(rng, 2, 12, 6, 6, 4)),
        Case(
            "random sizes",
            _pca_case(
                rng,
                int(rng.integers(1, 4)),
                int(rng.integers(3, 9)),
                int(rng.integers(4, 9)),
                int(rng.integers(4, 9)),
                2,
            ),
        ),
    ]


def _pca_ascending(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    pixels = _pixels(x)
    mean = pixels.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov(pixels - mean, rowvar=False))
    return vectors[:, :k].T, mean


_CHANNEL_PCA = function_exercise(
    "ex02_channel_pca",
    points=3,
    target="channel_pca",
    visible=_pca_cases,
    hidden=_pca_hidden,
    reference=_pca_ref,
    comparer=_pca_compare,
    mistakes=[
        (
            "the data is not centred: subtract the per-channel mean before the SVD",
            lambda x, k: (_pca(_pixels(x), k, centre=False)[0], _pixels(x).mean(axis=0)),
        ),
        (
            "wrong reshape order: move the channel axis last (transpose to N, H, W, C) before reshaping to (N*H*W, C)",
            lambda x, k: _pca(x.reshape(-1, x.shape[1]).astype(np.float64), k),
        ),
        (
            "the components are columns: return them as ROWS, shape (k, C) (the first k rows of Vt)",
            lambda x, k: (_pca_ref(x, k)[0].T, _pca_ref(x, k)[1]),
        ),
        (
            "these are the LEAST important directions: sort by decreasing variance (eigh returns ascending eigenvalues)",
            _pca_ascending,
        ),
    ],
    hint="pixels (N*H*W, C) -> subtract the mean -> np.linalg.svd(..., full_matrices=False) -> the first k rows of Vt",
)

# ---------------------------------------------------------------------------------------------
# ex02_pca_encoder(components, mean) -> nn.Conv2d computing each pixel's k PCA coefficients
# ---------------------------------------------------------------------------------------------
_ENCODER_ADAPTER = r"""
def adapter(obj, case):
    conv = obj(*case["args"])
    if not isinstance(conv, _torch.nn.Conv2d):
        raise TypeError(f"pca_encoder must return an nn.Conv2d, got {type(conv).__name__}")
    with _torch.no_grad():
        out = conv(case["x"])
    return {"kernel_size": tuple(int(k) for k in conv.kernel_size), "out": out}
"""


def _enc_expected(components: np.ndarray, mean: np.ndarray, x: torch.Tensor) -> np.ndarray:
    centred = x.double().numpy() - mean.astype(np.float64)[None, :, None, None]
    return np.einsum("kc,nchw->nkhw", components.astype(np.float64), centred)


def _enc_case(rng: np.random.Generator, n: int, c: int, h: int, w: int, k: int) -> dict[str, Any]:
    x = _channel_data(rng, n, c, h, w)
    components, mean = _pca(_pixels(x), k)
    return {"args": [components.astype(np.float32), mean.astype(np.float32)], "x": torch.from_numpy(x)}


def _enc_cases() -> list[Case]:
    rng = np.random.default_rng(4)
    return [
        Case("4 channels → 2 coefficients", _enc_case(rng, 2, 4, 5, 5, 2)),
        Case("6 channels → 3 coefficients", _enc_case(rng, 1, 6, 4, 7, 3)),
    ]


def _enc_hidden(rng: np.random.Generator) -> list[Case]:
    return [
        Case("k = C (catches -mean used as the bias)", _enc_case(rng, 2, 5, 4, 4, 5)),
        Case("a single coefficient", _enc_case(rng, 2, 6, 5, 5, 1)),
        Case("k = C = 3, H ≠ W", _enc_case(rng, 1, 3, 3, 8, 3)),
        Case("k = C = 1", _enc_case(rng, 2, 1, 4, 4, 1)),
        Case("many channels", _enc_case(rng, 2, 12, 4, 4, 3)),
        Case(
            "random sizes",
            _enc_case(
                rng,
                int(rng.integers(1, 3)),
                int(rng.integers(3, 9)),
                int(rng.integers(3, 7)),
                int(rng.integers(3, 7)),
                2,
            ),
        ),
        Case("k = C = 7", _enc_case(rng, 1, 7, 3, 3, 7)),
    ]


def _enc_judge(case: Case, received: Any) -> Failure | None:
    components, mean = case.data["args"]
    x = case.data["x"]
    if not isinstance(received, dict) or "out" not in received:
        return Failure("the encoder could not be run")
    if received["kernel_size"] != (1, 1):
        return Failure(
            "the conv is not 1×1",
            "(1, 1)",
            str(received["kernel_size"]),
            "PCA acts on each pixel's channel vector alone: kernel_size=1",
        )
    failure = compare(_enc_expected(components, mean, x), received["out"], rtol=_TOL, atol=_TOL)
    if failure is None:
        return None
    w = components.astype(np.float64)
    plain = np.einsum("kc,nchw->nkhw", w, x.double().numpy())
    shift = w @ mean.astype(np.float64)
    wrong = {
        "the bias is missing: the coefficients are components @ (x - mean), so bias = -components @ mean": plain,
        "the bias has the wrong sign: bias = -components @ mean": plain + shift[None, :, None, None],
    }
    if w.shape[0] == w.shape[1]:
        wrong["the bias must be -components @ mean (one value per output channel), not -mean"] = (
            plain - mean[None, :, None, None]
        )
        wrong["the weights are transposed: conv.weight[o, c, 0, 0] = components[o, c]"] = _enc_expected(
            w.T.copy(), mean, x
        )
    for text, value in wrong.items():
        if compare(value, received["out"], rtol=_TOL, atol=_TOL) is None:
            failure.hint = text
            return failure
    failure.hint = UNKNOWN_MISTAKE_HIDDEN if case.hidden else UNKNOWN_MISTAKE
    return failure


_PCA_ENCODER = Exercise(
    "ex02_pca_encoder",
    points=3,
    target="pca_encoder",
    adapter=_ENCODER_ADAPTER,
    visible=_enc_cases,
    hidden=_enc_hidden,
    judge=_enc_judge,
    error_hint="nn.Conv2d(C, k, kernel_size=1): its weight is (k, C, 1, 1) and its bias (k,); convert NumPy with torch.from_numpy",
)

# ---------------------------------------------------------------------------------------------
# ex02_signal_kept(x, signal, k) -> share of the signal direction's energy the top-k PCA subspace keeps
#   lesson 02's stress test: a high-variance nuisance takes PCA's first directions, whatever the task needs.
# ---------------------------------------------------------------------------------------------


def _nuisance_data(
    rng: np.random.Generator, n: int, c: int, h: int, w: int, nuisance: int, angle: float, offset: float
) -> tuple[np.ndarray, np.ndarray]:
    """(x, signal) drawn from ``rng``: :func:`course_utils.data.nuisance_feature_maps` (public, so a notebook
    can rebuild a visible case without the checks)."""
    x, signal = data.nuisance_feature_maps(n, c, h, w, nuisance, angle, offset, seed=rng)
    return x, signal


def _kept(
    x: np.ndarray,
    signal: np.ndarray,
    k: int,
    *,
    centre: bool = True,
    rows: bool = True,
    squared: bool = True,
    top: bool = True,
    normalise: bool = True,
) -> float:
    pixels = _pixels(x)
    mean = pixels.mean(axis=0)
    _, _, vt = np.linalg.svd(pixels - mean if centre else pixels, full_matrices=False)
    basis = vt if rows else vt.T
    chosen = basis[:k] if top else basis[::-1][:k]
    s = np.asarray(signal, dtype=np.float64)
    s = s / np.linalg.norm(s) if normalise else s
    energy = float(np.sum((chosen @ s) ** 2))
    return energy if squared else float(np.sqrt(energy))


def _kept_ref(x: np.ndarray, signal: np.ndarray, k: int) -> float:
    return _kept(x, signal, k)


def _kept_case(
    rng: np.random.Generator,
    n: int,
    c: int,
    h: int,
    w: int,
    nuisance: int,
    k: int,
    scale: float = 1.0,
    offset: float = 3.0,
) -> dict[str, Any]:
    x, signal = _nuisance_data(rng, n, c, h, w, nuisance, float(rng.uniform(0.6, 1.0)), offset)
    return {"args": [x, (scale * signal).astype(np.float32), k]}


def _kept_cases() -> list[Case]:
    stress = data.nuisance_feature_maps(seed=21)  # the notebook rebuilds this case with the same public call
    rng = np.random.default_rng(21)
    return [
        Case(
            "3 nuisance directions, k = 3 (the lesson's stress test)",
            {"args": [stress.x, stress.signal.astype(np.float32), 3]},
        ),
        Case("3 nuisance directions, k = 4, a signal of length 2", _kept_case(rng, 2, 8, 6, 6, 3, 4, scale=2.0)),
    ]


def _kept_hidden(rng: np.random.Generator) -> list[Case]:
    """Half the cases with a signal that is not of unit length, half with k below the nuisance count."""
    cases = [
        Case("k below the nuisance count", _kept_case(rng, 1, 6, 8, 8, 2, 1)),
        Case("k equal to the nuisance count, signal of length 3", _kept_case(rng, 2, 6, 5, 5, 2, 2, scale=3.0)),
        Case("one nuisance direction, k = 2, non-square maps", _kept_case(rng, 2, 5, 4, 9, 1, 2)),
        Case("many channels, k = 1, signal of length 0.5", _kept_case(rng, 1, 12, 8, 8, 3, 1, scale=0.5)),
        Case("data centred already", _kept_case(rng, 2, 7, 6, 6, 2, 3, offset=0.0)),
        Case("k = C keeps everything", _kept_case(rng, 1, 4, 8, 8, 1, 4, scale=1.5)),
    ]
    for i in range(2):
        nuisance = int(rng.integers(1, 4))
        c = int(rng.integers(nuisance + 2, 10))
        cases.append(
            Case(
                f"random sizes #{i + 1}",
                _kept_case(rng, int(rng.integers(1, 3)), c, 6, 7, nuisance, nuisance + i, scale=1.0 + i),
            )
        )
    return cases


_SIGNAL_KEPT = function_exercise(
    "ex02_signal_kept",
    points=2,
    target="signal_kept",
    visible=_kept_cases,
    hidden=_kept_hidden,
    reference=_kept_ref,
    mistakes=[
        (
            "centre the pixels first: uncentred, the first 'component' follows the mean, not a direction of variance",
            lambda x, s, k: _kept(x, s, k, centre=False),
        ),
        (
            "the components are the ROWS of Vt (np.linalg.svd returns U, S, Vt); its columns are not directions",
            lambda x, s, k: _kept(x, s, k, rows=False),
        ),
        (
            "the kept share of the signal's energy is the SQUARED length of its projection, Σ (component · s)²",
            lambda x, s, k: _kept(x, s, k, squared=False),
        ),
        (
            "take the k components of LARGEST variance (the first rows of Vt), as PCA would keep them",
            lambda x, s, k: _kept(x, s, k, top=False),
        ),
        (
            "the signal is not of unit length: divide it by its norm first, so the answer is a share between 0 and 1",
            lambda x, s, k: _kept(x, s, k, normalise=False),
        ),
    ],
    rtol=1e-3,
    atol=1e-3,
)

EXERCISES = [_CHANNEL_PCA, _PCA_ENCODER, _SIGNAL_KEPT]
