"""Tests of course_utils.pca: PCA equals scikit-learn's, principal angles, Eckart–Young, linear autoencoder."""

import numpy as np
import pytest
import scipy.linalg
import torch
from sklearn.decomposition import PCA

from course_utils import data, pca


@pytest.fixture(scope="module")
def synthetic():
    return data.synthetic_feature_maps(n=2, channels=12, height=16, width=16, rank=3, noise=0.1, seed=0)


def test_channel_vectors_rows_are_pixels():
    x = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    X = pca.channel_vectors(x)
    assert X.shape == (2 * 4 * 5, 3)
    assert torch.equal(X[1 * 20 + 2 * 5 + 3], x[1, :, 2, 3])
    assert torch.equal(pca.channel_vectors(x[0]), X[:20])


@pytest.mark.parametrize("k", [1, 3, 6])
def test_pca_matches_sklearn(k):
    rng = np.random.default_rng(k)
    X = rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8)) + rng.normal(size=8)
    ours = pca.pca(torch.from_numpy(X), k)
    ref = PCA(n_components=k, svd_solver="full").fit(X)
    cos = np.abs(np.sum(ours.components.numpy() * ref.components_, axis=1))
    np.testing.assert_allclose(cos, 1.0, atol=1e-10)  # equal up to sign
    np.testing.assert_allclose(ours.explained_variance.numpy(), ref.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(ours.explained_variance_ratio.numpy(), ref.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_allclose(ours.mean.numpy(), ref.mean_, rtol=1e-12)
    codes = pca.project(torch.from_numpy(X), ours).numpy()
    np.testing.assert_allclose(np.abs(codes), np.abs(ref.transform(X)), atol=1e-9)


def test_pca_dtype_and_sign_convention():
    X = torch.randn(50, 5, generator=torch.Generator().manual_seed(0))
    fit = pca.pca(X, 5)
    assert fit.components.dtype == torch.float32
    rows = fit.components
    assert torch.all(rows[torch.arange(5), rows.abs().argmax(1)] > 0)
    torch.testing.assert_close(rows @ rows.T, torch.eye(5), atol=1e-5, rtol=0)
    assert torch.all(fit.explained_variance[:-1] >= fit.explained_variance[1:])


def test_reconstruct_full_rank_is_identity():
    X = torch.randn(40, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    fit = pca.pca(X, 6)
    torch.testing.assert_close(pca.reconstruct(pca.project(X, fit), fit), X)
    assert pca.reconstruction_mse(X, 6) < 1e-25


def test_reconstruction_mse_equals_discarded_variance():
    X = torch.randn(200, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    full = pca.pca(X, 7)
    n, c = X.shape
    for k in range(1, 7):
        expected = full.explained_variance[k:].sum().item() * (n - 1) / (n * c)
        assert pca.reconstruction_mse(X, k) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("shape", [(200, 7), (5, 9)])
def test_reconstruction_mse_curve_matches_each_k(shape):
    X = torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    curve = pca.reconstruction_mse_curve(X)
    assert curve.shape == (shape[1],)
    for k in range(1, min(shape) + 1):
        assert curve[k - 1].item() == pytest.approx(pca.reconstruction_mse(X, k), rel=1e-9, abs=1e-12)
    assert torch.all(curve[min(shape) - 1 :] < 1e-12)


def test_pca_is_optimal_against_random_subspaces(synthetic):
    X = pca.channel_vectors(synthetic.x)
    k = 3
    best = pca.reconstruction_mse(X, k)
    fit = pca.pca(X, k)
    assert pca.subspace_reconstruction_mse(X, fit.components.T) == pytest.approx(best, rel=1e-5)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        basis = torch.randn(X.shape[1], k, generator=g)
        assert pca.subspace_reconstruction_mse(X, basis) > best
        assert pca.code_reconstruction_mse(X, X @ basis) >= best * (1 - 1e-6)


def test_pca_recovers_synthetic_subspace(synthetic):
    fit = pca.pca(pca.channel_vectors(synthetic.x), 3)
    assert pca.principal_angles(fit.components.T, synthetic.basis).max() < 1.0


def test_principal_angles_self_orthogonal_and_partial():
    g = torch.Generator().manual_seed(3)
    A = torch.randn(10, 3, generator=g)
    assert pca.principal_angles(A, A).max() < 1e-5
    assert pca.principal_angles(A, A @ torch.randn(3, 3, generator=g)).max() < 1e-4  # same span
    e = torch.eye(6)
    torch.testing.assert_close(pca.principal_angles(e[:, :2], e[:, 2:5]), torch.full((2,), 90.0))
    # a known angle: span{e0} vs span{cos t e0 + sin t e1}
    t = torch.tensor(0.3, dtype=torch.float64)
    B = (torch.cos(t) * e[:, 0].double() + torch.sin(t) * e[:, 1].double())[:, None]
    assert pca.principal_angles(e[:, :1], B).item() == pytest.approx(float(torch.rad2deg(t)), abs=1e-5)


def test_principal_angles_match_scipy_and_are_accurate_when_tiny():
    rng = np.random.default_rng(0)
    for ka, kb in [(3, 2), (2, 3), (4, 4)]:
        A, B = rng.normal(size=(9, ka)), rng.normal(size=(9, kb))
        ours = pca.principal_angles(A, B).numpy()
        ref = np.sort(np.rad2deg(scipy.linalg.subspace_angles(A, B)))
        np.testing.assert_allclose(ours, ref, atol=1e-4)
    # a tiny known angle: cos(1e-9) rounds to 1.0 in float64, so arccos alone would return 0
    t = 1e-9
    e = np.eye(5)
    tiny = pca.principal_angles(e[:, :2], np.stack([e[:, 0], np.cos(t) * e[:, 1] + np.sin(t) * e[:, 2]], axis=1))
    assert tiny[0].item() == 0.0
    assert tiny[1].item() == pytest.approx(np.rad2deg(t), rel=1e-4)


def test_linear_autoencoder_finds_pca_subspace(synthetic):
    k = 3
    model, losses = pca.train_linear_autoencoder(synthetic.x, k, epochs=800, lr=0.05, seed=0)
    X = pca.channel_vectors(synthetic.x)
    fit = pca.pca(X, k)
    dec = model.decoder.weight[:, :, 0, 0].detach()  # (C, k): columns span the reconstruction subspace
    enc = model.encoder.weight[:, :, 0, 0].detach()  # (k, C)
    assert pca.principal_angles(fit.components.T, dec).max() < 1.0
    # the encoder converges more slowly: its error along low-variance directions barely changes the loss
    assert pca.principal_angles(fit.components.T, enc.T).max() < 3.0
    assert losses[-1] < losses[0] / 50
    assert losses[-1] == pytest.approx(pca.reconstruction_mse(X, k), rel=0.05)
    # the weights are not the components themselves: rows of the encoder are not orthonormal
    assert (enc @ enc.T - torch.eye(k)).abs().max() > 0.05


def test_linear_autoencoder_is_deterministic(synthetic):
    a, la = pca.train_linear_autoencoder(synthetic.x, 2, epochs=30, seed=5)
    b, lb = pca.train_linear_autoencoder(synthetic.x, 2, epochs=30, seed=5)
    assert la == lb
    assert torch.equal(a.encoder.weight, b.encoder.weight)


def test_linear_autoencoder_logs(capsys, synthetic):
    pca.train_linear_autoencoder(synthetic.x, 2, epochs=5, log_every=2)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch    0", "epoch    2", "epoch    4"]


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: pca.channel_vectors(np.zeros((1, 2, 3, 3))), TypeError, "x must be a torch.Tensor"),
        (lambda: pca.channel_vectors(torch.zeros(2, 3)), ValueError, r"x must have shape \(N, C, H, W\)"),
        (lambda: pca.pca(torch.zeros(5), 1), ValueError, "X must be 2-D"),
        (lambda: pca.pca([[1.0, 2.0]], 1), TypeError, "X must be a torch.Tensor or NumPy array"),
        (lambda: pca.pca(torch.randn(10, 3), 4), ValueError, r"k=4 must be <= min\(n_samples, n_features\)"),
        (lambda: pca.pca(torch.randn(10, 3), 0), ValueError, r"k=0 must be a positive integer"),
        (lambda: pca.pca(torch.tensor([[float("nan"), 1.0], [1.0, 2.0]]), 1), ValueError, "NaN or infinite"),
        (lambda: pca.project(torch.randn(4, 3), "fit"), TypeError, "fit must be the PCAResult"),
        (lambda: pca.project(torch.randn(4, 2), pca.pca(torch.randn(9, 3), 2)), ValueError, "X has 2 features"),
        (lambda: pca.reconstruct(torch.randn(4, 1), pca.pca(torch.randn(9, 3), 2)), ValueError, "Z has 1 columns"),
        (lambda: pca.principal_angles(torch.randn(5, 2), torch.randn(4, 2)), ValueError, "same space"),
        (lambda: pca.principal_angles(torch.ones(5, 2), torch.randn(5, 2)), ValueError, "linearly dependent"),
        (lambda: pca.principal_angles(torch.randn(2, 5), torch.randn(2, 1)), ValueError, r"k <= C"),
        (lambda: pca.subspace_reconstruction_mse(torch.randn(9, 3), torch.randn(4, 1)), ValueError, "basis has 4 rows"),
        (lambda: pca.code_reconstruction_mse(torch.randn(9, 3), torch.randn(8, 1)), ValueError, "same number of rows"),
        (lambda: pca.train_linear_autoencoder(torch.randn(9, 3), 1), ValueError, r"x must have shape \(N, C, H, W\)"),
        (
            lambda: pca.train_linear_autoencoder(torch.zeros(1, 3, 2, 2, dtype=torch.int64), 1),
            TypeError,
            "floating-point",
        ),
        (lambda: pca.train_linear_autoencoder(torch.randn(1, 3, 2, 2), 4), ValueError, "k=4 must be <= channels=3"),
        (lambda: pca.train_linear_autoencoder(torch.randn(1, 3, 2, 2), 1, lr=0), ValueError, "lr=0 must be a positive"),
        (lambda: pca.train_linear_autoencoder(torch.randn(1, 3, 2, 2), 1, epochs=0), ValueError, "epochs=0"),
        (lambda: pca.train_linear_autoencoder(torch.randn(1, 3, 2, 2), 1, seed=1.5), TypeError, "seed must be an int"),
    ],
)
def test_bad_inputs_are_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.fixture(scope="module")
def digit_features():
    x, y = data.digits()
    return data.conv_features(x, out_channels=16, seed=0, kernel_size=3), y


def test_bottleneck_classifier_shapes_and_fixed_pca_encoder(digit_features):
    feats, y = digit_features
    fit = pca.pca(pca.channel_vectors(feats[:200]), 2)
    model, losses = pca.train_bottleneck_classifier(feats[:200], y[:200], 2, epochs=5, fixed_encoder=fit)
    assert len(losses) == 5 and model(feats[:3]).shape == (3, 10)
    codes = pca.channel_vectors(model.reduce(feats[:200]).detach())
    torch.testing.assert_close(codes, pca.project(pca.channel_vectors(feats[:200]), fit), atol=1e-4, rtol=1e-4)
    assert not model.reduce.weight.requires_grad
    again, losses2 = pca.train_bottleneck_classifier(feats[:200], y[:200], 2, epochs=5, fixed_encoder=fit)
    assert losses == losses2  # deterministic
    rand, _ = pca.train_bottleneck_classifier(feats[:200], y[:200], 2, epochs=5, freeze_encoder=True, seed=3)
    torch.manual_seed(3)
    init = pca.BottleneckClassifier(16, 2, 8, 8, 10)
    assert torch.equal(rand.reduce.weight, init.reduce.weight)  # frozen at the seeded initialisation
    learned, _ = pca.train_bottleneck_classifier(feats[:200], y[:200], 2, epochs=5, seed=3)
    assert not torch.equal(learned.reduce.weight, init.reduce.weight)


@pytest.mark.slow  # trains two bottleneck classifiers per seed
@pytest.mark.parametrize("seed", [1, 2])
def test_task_bottleneck_ignores_high_variance_nuisance(digit_features, seed):
    """Lesson 02's stress test holds for other splits, inits and nuisance draws, not just the one shown."""
    feats, y = digit_features
    g = torch.Generator().manual_seed(seed + 10)
    dirs, _ = torch.linalg.qr(torch.randn(16, 3, generator=g))
    noisy = feats + torch.einsum("cm,nmhw->nchw", dirs, torch.randn(feats.shape[0], 3, 8, 8, generator=g))
    xtr, xte, ytr, yte = data.train_test_split(noisy, y, 0.25, seed=seed)
    fit = pca.pca(pca.channel_vectors(xtr), 1)
    assert pca.principal_angles(fit.components.T, dirs)[0] < 10  # PCA's top direction is nuisance
    baseline, _ = pca.train_bottleneck_classifier(xtr, ytr, 1, fixed_encoder=fit, seed=seed)
    learned, _ = pca.train_bottleneck_classifier(xtr, ytr, 1, seed=seed)
    acc_pca, acc_learned = pca.accuracy(baseline, xte, yte), pca.accuracy(learned, xte, yte)
    assert acc_learned > 0.85 and acc_learned - acc_pca > 0.3
    assert pca.principal_angles(dirs, learned.reduce.weight[:, :, 0, 0].detach().T)[0] > 60


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda: pca.train_bottleneck_classifier(torch.zeros(4, 3, 2, 2), torch.zeros(4, dtype=torch.int64), 4),
            ValueError,
            "k=4 must be <= channels=3",
        ),
        (
            lambda: pca.train_bottleneck_classifier(torch.zeros(4, 3), torch.zeros(4, dtype=torch.int64), 1),
            ValueError,
            r"features must be a float tensor of shape \(N, C, H, W\)",
        ),
        (
            lambda: pca.train_bottleneck_classifier(torch.zeros(4, 3, 2, 2), torch.zeros(4), 1),
            ValueError,
            "labels must be an int64",
        ),
        (
            lambda: pca.train_bottleneck_classifier(torch.zeros(4, 3, 2, 2), torch.zeros(5, dtype=torch.int64), 1),
            ValueError,
            "same N",
        ),
        (
            lambda: pca.train_bottleneck_classifier(
                torch.zeros(4, 3, 2, 2),
                torch.zeros(4, dtype=torch.int64),
                2,
                fixed_encoder=pca.pca(torch.randn(9, 3), 1),
            ),
            ValueError,
            "fixed_encoder has components of shape",
        ),
        (lambda: pca.reconstruction_mse_curve(torch.zeros(1, 3)), ValueError, "at least 2 samples"),
        (
            lambda: pca.train_bottleneck_classifier(
                torch.zeros(4, 3, 2, 2), torch.zeros(4, dtype=torch.int64), 1, freeze_encoder=1
            ),
            TypeError,
            "freeze_encoder must be True or False",
        ),
        (lambda: pca.accuracy("model", torch.zeros(1), torch.zeros(1)), TypeError, "model must be a torch.nn.Module"),
    ],
)
def test_bottleneck_bad_inputs_are_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
