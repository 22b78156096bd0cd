"""Pieces shared by the Brains: a checkpointed random generator and fixed-length random crops."""

import torch
from speechbrain.utils.checkpoints import mark_as_loader, mark_as_saver, register_checkpoint_hooks


@register_checkpoint_hooks
class CheckpointedGenerator:
    """A CPU ``torch.Generator`` whose state is saved with the checkpoints (exact resume).

    Arguments
    ---------
    seed : int
    """

    def __init__(self, seed):
        self.generator = torch.Generator().manual_seed(int(seed))

    @mark_as_saver
    def save(self, path):
        """Write the generator state."""
        torch.save(self.generator.get_state(), path)

    @mark_as_loader
    def load(self, path, end_of_epoch=False):
        """Restore the generator state."""
        del end_of_epoch
        self.generator.set_state(torch.load(path))


def random_crops(wav, lengths, num_samples, generator):
    """One random window of ``num_samples`` per example, within its true length.

    Arguments
    ---------
    wav : torch.Tensor ``[batch, time]`` (zero-padded batch)
    lengths : torch.Tensor ``[batch]`` relative lengths in (0, 1]
    num_samples : int
    generator : torch.Generator (CPU)

    Returns
    -------
    torch.Tensor ``[batch, num_samples]``; examples shorter than that are zero-padded.
    """
    if wav.shape[1] < num_samples:
        wav = torch.nn.functional.pad(wav, (0, num_samples - wav.shape[1]))
    true_len = torch.round(lengths.cpu() * wav.shape[1]).long().clamp(min=num_samples)
    max_start = (true_len - num_samples).clamp(max=wav.shape[1] - num_samples)
    starts = (torch.rand(wav.shape[0], generator=generator) * (max_start + 1)).long()
    index = starts.to(wav.device).unsqueeze(1) + torch.arange(num_samples, device=wav.device)
    return torch.gather(wav, 1, index)
