import pytest
import torch

from maese.models.noise_floor import NoiseFloor


def test_a_steady_tone_is_in_the_floor_and_a_syllable_is_not():
    """Bin 0 carries a steady tone, bin 1 a burst of 'speech' over silence: the floor keeps the tone at its level
    everywhere and stays at the silence under the burst."""
    frames = 400
    spec = torch.full((1, frames, 2), 0.01)
    spec[0, :, 0] = 2.0
    spec[0, 150:230, 1] = 3.0  # 80 frames (0.64 s), shorter than the window
    floor = NoiseFloor(window_frames=187, smooth_frames=5)(spec)
    assert floor.shape == spec.shape
    assert torch.allclose(floor[0, :, 0], torch.full((frames,), 2.0))
    assert floor[0, :, 1].max() <= 0.01 + 1e-6


def test_the_floor_follows_a_noise_that_changes_level():
    """A noise between 1 and 2 times a level that steps up by a factor 10 half-way: the estimate stays near the
    bottom of each range (the minimum, not the mean) and reaches the new level within half a window."""
    gen = torch.Generator().manual_seed(0)
    level = torch.cat([torch.full((300,), 0.1), torch.full((300,), 1.0)])
    spec = (level * (1 + torch.rand(600, generator=gen))).reshape(1, 600, 1)
    floor = NoiseFloor(window_frames=101, smooth_frames=5)(spec)[0, :, 0]
    assert 0.1 <= floor[:250].min() and floor[:250].max() < 0.13
    assert 1.0 <= floor[351:].min() and floor[351:].max() < 1.3


def test_a_clip_shorter_than_the_window_gets_its_own_minimum():
    spec = torch.tensor([[[3.0, 1.0], [2.0, 5.0], [4.0, 0.5]]])
    floor = NoiseFloor(window_frames=187, smooth_frames=1)(spec)
    assert torch.equal(floor, torch.tensor([[[2.0, 0.5]] * 3]))  # each bin's minimum over the three frames


@pytest.mark.parametrize("kwargs", [dict(window_frames=100), dict(window_frames=0), dict(smooth_frames=2.5)])
def test_even_or_non_positive_windows_are_refused_by_name(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        NoiseFloor(**kwargs)
