"""Tests of course_utils.data: offline digits, matplotlib's sample photo, synthetic and conv feature maps."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from course_utils import data, pca


def test_digits_shapes_range_and_labels():
    x, y = data.digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == torch.float32
    assert y.shape == (1797,) and y.dtype == torch.int64
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert sorted(y.unique().tolist()) == list(range(10))
    ref = load_digits()
    np.testing.assert_allclose(x.reshape(-1, 64).numpy() * 16, ref.data, atol=1e-5)
    flat, _ = data.digits(as_images=False)
    assert flat.shape == (1797, 64) and torch.equal(flat, x.reshape(-1, 64))


def test_train_test_split_is_seeded_and_disjoint():
    x = torch.arange(100).float()[:, None]
    y = torch.arange(100)
    a = data.train_test_split(x, y, 0.2, seed=1)
    b = data.train_test_split(x, y, 0.2, seed=1)
    c = data.train_test_split(x, y, 0.2, seed=2)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=False))
    assert not torch.equal(a[3], c[3])
    xtr, xte, ytr, yte = a
    assert len(yte) == 20 and len(ytr) == 80
    assert set(ytr.tolist()).isdisjoint(yte.tolist())
    assert torch.equal(xtr[:, 0].long(), ytr)


def test_sample_photo_shape_range_and_downsample():
    assert "grace_hopper.jpg" in data.sample_photos()
    img = data.sample_photo()
    assert img.shape == (3, 600, 512) and img.dtype == torch.float32
    assert 0.0 <= float(img.min()) and float(img.max()) <= 1.0
    import matplotlib.image as mpimg
    from matplotlib import cbook

    raw = mpimg.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))  # uint8 (H, W, 3)
    np.testing.assert_allclose(img.permute(1, 2, 0).numpy(), raw / 255.0, atol=1e-6)
    small = data.sample_photo(downsample=4)
    assert small.shape == (3, 150, 128)
    torch.testing.assert_close(small[:, 0, 0], img[:, :4, :4].mean(dim=(1, 2)))


def test_synthetic_feature_maps_lie_near_their_basis():
    s = data.synthetic_feature_maps(n=3, channels=10, height=8, width=8, rank=3, noise=0.0, seed=4)
    assert s.x.shape == (3, 10, 8, 8) and s.basis.shape == (10, 3) and s.scales.shape == (3,)
    torch.testing.assert_close(s.basis.T @ s.basis, torch.eye(3), atol=1e-5, rtol=0)
    centred = pca.channel_vectors(s.x) - s.mean
    residual = centred - centred @ s.basis @ s.basis.T
    assert residual.abs().max() < 1e-5  # noise=0: exactly in the subspace
    again = data.synthetic_feature_maps(n=3, channels=10, height=8, width=8, rank=3, noise=0.0, seed=4)
    assert torch.equal(s.x, again.x)
    noisy = data.synthetic_feature_maps(n=3, channels=10, height=8, width=8, rank=3, noise=0.3, seed=4)
    assert (noisy.x - s.x).std() == pytest.approx(0.3, rel=0.1)


def test_conv_features_shape_relu_and_determinism():
    img = data.sample_photo(downsample=8)
    f = data.conv_features(img, out_channels=6, seed=0)
    assert f.shape == (6, 75, 64)
    assert float(f.min()) == 0.0 and float(f.max()) > 0.0  # ReLU
    assert torch.equal(f, data.conv_features(img, out_channels=6, seed=0))
    assert not torch.equal(f, data.conv_features(img, out_channels=6, seed=1))
    batched = data.conv_features(img[None].repeat(2, 1, 1, 1), out_channels=6, seed=0)
    assert batched.shape == (2, 6, 75, 64) and torch.equal(batched[1], f)
    flat = torch.full((3, 9, 9), 0.7)  # zero-mean filters ignore brightness: only the biases remain
    inner = data.conv_features(flat, out_channels=4, seed=0)[:, 4, 4]
    assert torch.allclose(inner, data.conv_features(torch.zeros(3, 9, 9), out_channels=4, seed=0)[:, 4, 4], atol=1e-6)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: data.digits(as_images="yes"), TypeError, "as_images must be True or False"),
        (lambda: data.train_test_split(np.zeros(3), torch.zeros(3)), TypeError, "x and y must be torch tensors"),
        (lambda: data.train_test_split(torch.zeros(3), torch.zeros(4)), ValueError, "same number of samples"),
        (lambda: data.train_test_split(torch.zeros(10), torch.zeros(10), 1.0), ValueError, "test_fraction=1.0"),
        (lambda: data.train_test_split(torch.zeros(2), torch.zeros(2), 0.1), ValueError, "leaves 0 of 2"),
        (lambda: data.sample_photo("cat.jpg"), ValueError, "name='cat.jpg' is not a photo shipped with matplotlib"),
        (lambda: data.sample_photo(downsample=0), ValueError, "downsample=0"),
        (lambda: data.sample_photo(downsample=1000), ValueError, "downsample=1000 is larger than the photo"),
        (lambda: data.synthetic_feature_maps(channels=3, rank=4), ValueError, "rank=4 must be <= channels=3"),
        (lambda: data.synthetic_feature_maps(noise=-1.0), ValueError, "noise=-1.0"),
        (lambda: data.synthetic_feature_maps(height=0), ValueError, "height=0"),
        (lambda: data.conv_features(np.zeros((3, 4, 4))), TypeError, "image must be a torch.Tensor"),
        (lambda: data.conv_features(torch.zeros(4, 4)), ValueError, r"image must have shape \(C, H, W\)"),
        (lambda: data.conv_features(torch.zeros(3, 4, 4, dtype=torch.uint8)), TypeError, "floating-point"),
        (lambda: data.conv_features(torch.zeros(3, 8, 8), kernel_size=4), ValueError, "kernel_size=4 must be odd"),
        (lambda: data.conv_features(torch.zeros(3, 8, 8), out_channels=0), ValueError, "out_channels=0"),
    ],
)
def test_bad_inputs_are_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


@pytest.mark.parametrize("angle", [0.3, 0.96])
def test_nuisance_maps_pca_keeps_cos_squared_of_the_signal_until_it_passes_the_nuisance(angle):
    maps = data.nuisance_feature_maps(n=4, channels=8, height=8, width=8, nuisance=3, angle=angle, seed=1)
    assert maps.x.shape == (4, 8, 8, 8) and maps.x.dtype == np.float32
    assert np.isclose(np.linalg.norm(maps.signal), 1.0)
    pixels = maps.x.transpose(0, 2, 3, 1).reshape(-1, 8).astype(np.float64)
    _, _, vt = np.linalg.svd(pixels - pixels.mean(axis=0), full_matrices=False)
    kept = [float(np.sum((vt[:k] @ maps.signal) ** 2)) for k in (3, 4)]
    assert abs(kept[0] - np.cos(angle) ** 2) < 0.03 and kept[1] > 0.99  # 256 pixels: a sample estimate


def test_nuisance_maps_are_seeded_and_check_their_arguments():
    a, b = data.nuisance_feature_maps(seed=5), data.nuisance_feature_maps(seed=5)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.signal, b.signal)
    with pytest.raises(ValueError, match="nuisance=4 must be at most 3"):
        data.nuisance_feature_maps(nuisance=4)
    with pytest.raises(ValueError, match="angle=nan must be a finite number"):
        data.nuisance_feature_maps(angle=float("nan"))
