"""course_utils.train (seeded fit / evaluate), the textured-shapes data set and the families skeleton of lesson 09."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from course_utils import data, families, train
from course_utils.counting import profile


def _toy(n: int = 120, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two classes told apart by the mean of a 1×4×4 image."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 1, 4, 4, generator=g) * 0.5 + (2 * y - 1).float().reshape(-1, 1, 1, 1)
    return x, y


def _tiny(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)
    )


def test_fit_is_deterministic_for_a_seed_and_differs_across_seeds():
    x, y = _toy()
    weights = []
    for seed in (0, 0, 1):
        model = _tiny(seed)
        train.fit(model, x, y, epochs=2, batch_size=16, seed=seed, progress=False)
        weights.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    assert torch.equal(weights[0], weights[1])
    assert not torch.equal(weights[0], weights[2])


def test_fit_learns_and_evaluate_counts_correct_predictions():
    x, y = _toy()
    model = _tiny(0)
    result = train.fit(model, x, y, epochs=8, batch_size=16, lr=1e-2, progress=False)
    assert len(result.losses) == 8 and result.losses[-1] < result.losses[0] and result.seconds > 0
    accuracy = train.evaluate(model, x, y)
    assert accuracy == float((model(x).argmax(1) == y).double().mean())
    assert accuracy > 0.9


def test_fit_trains_on_one_thread_and_restores_the_thread_count():
    x, y = _toy(20)
    seen = []
    model = _tiny(0)
    model.register_forward_hook(lambda *_: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    torch.set_num_threads(3)  # not 1 (the test session's count), so that the test can fail
    try:
        train.fit(model, x, y, epochs=1, batch_size=10, progress=False)
        assert set(seen) == {1} and torch.get_num_threads() == 3
    finally:
        torch.set_num_threads(before)


def test_fit_trains_images_channels_last_and_the_model_still_answers_nchw_input():
    x, y = _toy()
    model = _tiny(0)
    before = model(x).detach()
    model.to(memory_format=torch.channels_last)
    assert torch.allclose(model(x), before, atol=1e-6)  # the layout changes no value beyond rounding
    torch.manual_seed(0)
    model = nn.Sequential(*_tiny(0)[:2], nn.Conv2d(4, 4, 3, padding=1), *_tiny(0)[2:])
    assert not model[2].weight.is_contiguous(memory_format=torch.channels_last)  # (a 1-channel or 1×1 weight is both)
    train.fit(model, x, y, epochs=8, batch_size=16, progress=False)
    assert model[2].weight.is_contiguous(memory_format=torch.channels_last)
    assert train.evaluate(model, x.contiguous(), y) > 0.9


def test_fit_keeps_the_default_layout_when_asked_and_names_bad_flags():
    x, y = _toy()
    torch.manual_seed(0)
    model = nn.Sequential(*_tiny(0)[:2], nn.Conv2d(4, 4, 3, padding=1), *_tiny(0)[2:])
    train.fit(model, x, y, epochs=8, batch_size=16, progress=False, channels_last=False, fused=False)
    assert not model[2].weight.is_contiguous(memory_format=torch.channels_last)
    assert train.evaluate(model, x, y) > 0.9
    for name in ("channels_last", "fused"):
        with pytest.raises(TypeError, match=name):
            train.fit(_tiny(0), x, y, progress=False, **{name: "yes"})


def test_fit_takes_flat_features_too():
    """Not only images: (N, features) input trains without any layout change."""
    x, y = _toy()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 2))
    features = x.flatten(1)
    result = train.fit(model, features, y, epochs=8, batch_size=16, progress=False)
    assert result.losses[-1] < result.losses[0] and train.evaluate(model, features, y) > 0.9


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs=0"),
        ({"batch_size": -1}, "batch_size=-1"),
        ({"lr": 0.0}, "lr=0.0"),
        ({"progress": 1}, "progress"),
    ],
)
def test_fit_names_bad_arguments(kwargs, match):
    x, y = _toy(10)
    with pytest.raises((ValueError, TypeError), match=match):
        train.fit(_tiny(0), x, y, **kwargs)


def test_fit_and_evaluate_name_bad_data():
    x, y = _toy(10)
    with pytest.raises(ValueError, match="int64 labels"):
        train.fit(_tiny(0), x, y.float())
    with pytest.raises(ValueError, match="same number"):
        train.evaluate(_tiny(0), x, y[:5])


def test_textured_shapes_shape_determinism_and_classes():
    x, y = data.textured_shapes(200, seed=3)
    assert x.shape == (200, 4, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    again = data.textured_shapes(200, seed=3)
    assert torch.equal(x, again[0]) and torch.equal(y, again[1])
    assert not torch.equal(x, data.textured_shapes(200, seed=4)[0])
    assert set(y.tolist()) == set(range(10)) and len(data.TEXTURED_SHAPES_CLASSES) == 10


def test_textured_shapes_nuisance_channel_does_not_depend_on_the_class():
    x, y = data.textured_shapes(1000, seed=0)
    energy = x[:, 3].pow(2).mean(dim=(1, 2))  # a full-size grating in every image, whatever the class
    per_class = torch.stack([energy[y == k].mean() for k in range(10)])
    assert per_class.max() - per_class.min() < 0.05


@pytest.mark.parametrize(("kwargs", "match"), [({"size": 16}, "size=16"), ({"colour_cue": 1.5}, "colour_cue=1.5")])
def test_textured_shapes_names_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.textured_shapes(10, **kwargs)


@pytest.mark.parametrize("family", list(families.FAMILIES))
def test_every_family_keeps_the_skeletons_shape_contract(family):
    for in_channels, size, stem in ((1, 8, {}), (4, 32, {"stem_stride": 2, "stem_pool": True})):
        model = families.build(family, 8, in_channels, **stem).eval()
        assert model(torch.zeros(3, in_channels, size, size)).shape == (3, 10)
        assert profile(model, (1, in_channels, size, size)).total_params == sum(p.numel() for p in model.parameters())


def test_blocks_come_from_course_utils_blocks():
    from course_utils import blocks

    expected = {"nin": blocks.NiNBlock, "bottleneck": blocks.Bottleneck, "inception": blocks.InceptionModule}
    expected["separable"] = blocks.DepthwiseSeparable
    for family, cls in expected.items():
        assert isinstance(families.block(family, 8, 16), cls)
    assert any(isinstance(m, blocks.ChannelShuffle) for m in families.block("shuffle", 8, 16).modules())


def test_families_name_bad_arguments():
    with pytest.raises(ValueError, match="family='resnet'"):
        families.block("resnet", 8, 8)
    with pytest.raises(ValueError, match="groups=4 must divide out_channels=10"):
        families.block("shuffle", 8, 10)


def test_pareto_front_keeps_ties_and_drops_dominated_points():
    costs = [1, 2, 2, 3, 3, 4]
    accuracies = [0.5, 0.6, 0.6, 0.55, 0.7, 0.7]
    assert families.pareto_front(costs, accuracies) == [0, 1, 2, 4]
    assert families.pareto_front([5], [0.1]) == [0]
    with pytest.raises(ValueError, match="same length"):
        families.pareto_front([1, 2], [0.5])


def test_run_is_reproducible_and_counts_one_image():
    split = families.digits_split()
    small = families.Split(split.x_train[:200], split.y_train[:200], split.x_test[:100], split.y_test[:100])
    first, second = (families.run("separable", 8, small, 7, epochs=1) for _ in range(2))
    assert first.accuracy == second.accuracy and 0 <= first.accuracy <= 1
    assert first.macs == profile(families.build("separable", 8, 1), (1, 1, 8, 8)).total_macs


def _without_seconds(run: families.Run) -> tuple[object, ...]:
    return (run.family, run.width, run.seed, run.accuracy, run.params, run.macs)


@pytest.mark.slow  # starts two processes, each importing torch
def test_run_all_side_by_side_gives_the_runs_of_one_after_another_bit_for_bit():
    split = families.digits_split()
    jobs = [("separable", 8, 0), ("plain", 8, 1), ("shuffle", 8, 0)]
    settings = {**families.DIGITS_FIT, "epochs": 1}
    parallel = families.run_all(jobs, split, workers=2, progress=False, **settings)
    one_by_one = [families.run(f, w, split, s, **settings) for f, w, s in jobs]
    assert [(r.family, r.width, r.seed) for r in parallel] == jobs  # in the order asked, not the order finished
    assert [_without_seconds(r) for r in parallel] == [_without_seconds(r) for r in one_by_one]


@pytest.mark.parametrize(
    ("jobs", "kwargs", "match"),
    [
        ([("resnet", 8, 0)], {}, "family='resnet'"),
        ([("plain", 8)], {}, r"tuple \(family, width, seed\)"),
        ([("plain", 0, 0)], {}, "width=0"),
        ([("plain", 8, 0)], {"workers": 0}, "workers=0"),
    ],
)
def test_run_all_names_bad_jobs_before_training_anything(jobs, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        families.run_all(jobs, families.digits_split(), progress=False, **kwargs)


def test_shapes_split_is_the_lessons_split():
    split = families.shapes_split(300)
    x, y = data.textured_shapes(300, seed=0)
    x_train, x_test, y_train, y_test = data.train_test_split(x, y, test_fraction=1 / 3, seed=0)
    assert (len(split.x_train), len(split.x_test)) == (200, 100)
    for mine, lesson in zip(split, (x_train, y_train, x_test, y_test), strict=True):
        assert torch.equal(mine, lesson)
