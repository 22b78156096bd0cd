"""maese.simulation.rooms: shoebox rooms and their impulse responses."""

import numpy as np
import pytest

from maese.simulation.rooms import (
    ROOM_DOMAINS,
    WALL_MARGIN,
    RoomSpec,
    describe_domain,
    min_rt60,
    sample_room,
    simulate_rir,
)

RATE = 16000


def _line_spec(distance, rt60=0.5, dims=(8.3, 6.1, 3.2)):
    """Source fixed, mic along a generic (non-symmetric) direction at ``distance`` m."""
    source = np.array([1.3, 1.7, 1.45])
    direction = np.array([1.0, 0.37, -0.1]) / np.linalg.norm([1.0, 0.37, -0.1])
    return RoomSpec(dims, rt60, tuple(source), tuple(source + distance * direction))


@pytest.mark.parametrize("domain", ["train", "ood"])
def test_sample_room_respects_its_domain(domain):
    rng = np.random.default_rng(0)
    for _ in range(40):
        spec = sample_room(rng, domain)
        kind = next(k for k in ROOM_DOMAINS[domain]
                    if np.all(np.array(spec.dims) >= k.dims_low) and np.all(np.array(spec.dims) <= k.dims_high))
        low = max(kind.rt60_range[0], min_rt60(spec.dims))
        assert low <= spec.rt60 <= max(kind.rt60_range[1], low)
        assert kind.distance_range[0] <= spec.distance <= kind.distance_range[1]
        for point in (spec.source, spec.mic):
            assert np.all(np.array(point) >= WALL_MARGIN - 1e-9)
            assert np.all(np.array(spec.dims) - point >= WALL_MARGIN - 1e-9)
    assert [k["name"] for k in describe_domain(domain)] == [k.name for k in ROOM_DOMAINS[domain]]


def test_ood_rooms_are_disjoint_from_training_rooms():
    (train,) = ROOM_DOMAINS["train"]
    for kind in ROOM_DOMAINS["ood"]:
        for axis in range(3):  # every side length lies outside the training range
            assert kind.dims_high[axis] < train.dims_low[axis] or kind.dims_low[axis] > train.dims_high[axis]
        assert kind.rt60_range[1] <= train.rt60_range[0] or kind.rt60_range[0] >= train.rt60_range[1]
    with pytest.raises(ValueError, match="'attic'"):
        sample_room(np.random.default_rng(0), "attic")


def test_rir_is_normalised_finite_and_aligned():
    rng = np.random.default_rng(1)
    for domain in ("train", "ood"):
        spec = sample_room(rng, domain)
        rir, info = simulate_rir(spec, RATE)  # its speed: tools/bench_corpus.py ("rooms")
        assert rir.dtype == np.float32 and rir.ndim == 1 and np.all(np.isfinite(rir))
        assert rir[info["direct_index"]] == 1.0 and np.argmax(np.abs(rir)) == info["direct_index"]
        assert info["direct_index"] == 40 + round(info["distance"] / 343.0 * RATE)
        assert abs(info["distance"] - spec.distance) < 343.0 / RATE
        assert rir.size == pytest.approx(info["direct_index"] + 1.2 * info["rt60_target"] * RATE, abs=2)


@pytest.mark.parametrize("rt60", [0.3, 0.6, 0.9])
def test_measured_rt60_follows_target(rt60):
    for dims in ((3.5, 3.0, 2.5), (10.0, 8.0, 3.5)):
        _, info = simulate_rir(_line_spec(1.5, rt60, dims), RATE)
        assert info["rt60_measured"] == pytest.approx(rt60, rel=0.1)


def test_measured_rt60_of_random_rooms():
    """Short RT60s come out lower (the image-source part decays faster than Sabine's formula)."""
    rng = np.random.default_rng(2)
    ratios = [info["rt60_measured"] / info["rt60_target"]
              for info in (simulate_rir(sample_room(rng), RATE)[1] for _ in range(12))]
    assert 0.6 < min(ratios) and max(ratios) < 1.2
    assert np.median(ratios) == pytest.approx(1.0, abs=0.1)


def test_drr_falls_with_distance():
    drr = [simulate_rir(_line_spec(d), RATE)[1]["drr_db"] for d in (0.5, 1.0, 2.0, 3.0, 5.0)]
    assert np.all(np.diff(drr) < 0), drr


def test_determinism():
    a, b, c = (sample_room(np.random.default_rng(s)) for s in (5, 5, 6))
    assert a == b and a != c
    np.testing.assert_array_equal(simulate_rir(a, RATE)[0], simulate_rir(b, RATE)[0])


def test_unreachable_rt60_is_raised_not_an_error():
    dims = (12.0, 10.0, 4.0)
    spec = RoomSpec(dims, 0.05, (2.0, 2.0, 1.5), (5.0, 4.0, 1.2))
    rir, info = simulate_rir(spec, RATE)
    assert info["rt60_target"] == pytest.approx(min_rt60(dims)) and np.all(np.isfinite(rir))
    rng = np.random.default_rng(0)
    assert sample_room(rng, rt60_range=(0.01, 0.02)).rt60 > 0.02
    with pytest.raises(ValueError, match="fits"):
        sample_room(rng, distance_range=(30.0, 40.0))
