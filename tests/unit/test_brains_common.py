"""maese.brains.common: checkpointed generator and random crops."""

import torch

from maese.brains.common import CheckpointedGenerator, random_crops


def test_checkpointed_generator_restores_state(tmp_path):
    gen = CheckpointedGenerator(3)
    torch.rand(5, generator=gen.generator)
    gen.save(tmp_path / "rng.ckpt")
    expected = torch.rand(5, generator=gen.generator)
    other = CheckpointedGenerator(99)
    other.load(tmp_path / "rng.ckpt")
    assert torch.equal(torch.rand(5, generator=other.generator), expected)


def test_random_crops_stay_inside_true_length():
    wav = torch.zeros(3, 100)
    for i, n in enumerate([100, 60, 40]):
        wav[i, :n] = torch.arange(1, n + 1).float()
    lengths = torch.tensor([1.0, 0.6, 0.4])
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        crops = random_crops(wav, lengths, 40, gen)
        assert crops.shape == (3, 40)
        assert (crops > 0).all(), "a crop reached into the zero padding"
        assert (crops[:, 1:] - crops[:, :-1] == 1).all(), "crops must be contiguous"
    assert torch.equal(random_crops(wav, lengths, 40, gen)[2], wav[2, :40])


def test_random_crops_pad_short_and_are_seeded():
    wav = torch.ones(2, 10)
    assert random_crops(wav, torch.ones(2), 16, torch.Generator()).shape == (2, 16)
    wav = torch.randn(4, 1000)
    a = random_crops(wav, torch.ones(4), 100, torch.Generator().manual_seed(1))
    b = random_crops(wav, torch.ones(4), 100, torch.Generator().manual_seed(1))
    c = random_crops(wav, torch.ones(4), 100, torch.Generator().manual_seed(2))
    assert torch.equal(a, b) and not torch.equal(a, c)
