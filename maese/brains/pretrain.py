"""Self-supervised MAE pre-training on noisy speech (no clean reference is ever used).

Per batch: crop fixed-length segments of the noisy input ``y``, distort them with the augmentation
stack (``y' = A(y)``), take compressed STFT magnitudes of both, mask patches of ``y'`` and train the
MAE to output the magnitudes of ``y``, masked and visible patches weighted by hparams. With
``input_level_db``, both are first scaled by the gain that brings ``y'`` to that RMS level, as the
fine-tuning model scales its input (:class:`maese.models.heads.EnhancementModel`).
"""


import speechbrain as sb
import torch

from maese.acoustics import level_gain
from maese.brains.common import LoggedBrain, random_crops
from maese.hparams import require
from maese.masking import make_mask, patch_grid, patchify, unpatchify
from maese.plots import plot_spectrograms

LOSSES = {"l1": lambda a, b: (a - b).abs(), "mse": lambda a, b: (a - b).pow(2)}


def masked_mean(values, weights):
    """Mean of ``values`` weighted by ``weights`` (same shape; weights 0/1)."""
    return (values * weights).sum() / weights.sum().clamp_min(1.0)


def check_pretrain_hparams(hparams):
    """Fail early, naming the key, on a pre-training hparam value that cannot work."""
    require(hparams, "loss", lambda v: v in LOSSES, f"one of {sorted(LOSSES)}")
    require(hparams, "mask_ratio", lambda v: 0 <= v < 1, "a share in [0, 1)")
    require(hparams, "masked_weight", lambda v: v >= 0, "a weight >= 0")
    require(hparams, "visible_weight", lambda v: v >= 0, "a weight >= 0")
    require(hparams, "segment_seconds", lambda v: v > 0, "a positive number of seconds")


class MAEPretrainBrain(LoggedBrain):
    """Pre-trains ``modules.model`` (a :class:`maese.models.mae.SpectrogramMAE`).

    hparams used: ``stft``, ``compression``, ``freq_bins``, ``segment_seconds``, ``sample_rate``, ``augment`` (a Stack),
    ``mask_pattern``, ``mask_ratio``, ``mask_span``, ``loss`` (l1|mse), ``masked_weight``,
    ``visible_weight``, ``seed``, ``plot_folder``, ``train_logger``, optional ``lr_scheduler`` and
    ``input_level_db``.
    """

    check_hparams = staticmethod(check_pretrain_hparams)

    def magnitudes(self, wav):
        """``[batch, time]`` -> compressed magnitudes ``[batch, frames, freq_bins]`` (Nyquist dropped)."""
        mag = self.hparams.stft(wav).abs()[..., : self.hparams.freq_bins]
        return self.hparams.compression.compress(mag)

    def compute_forward(self, batch, stage):
        """Augment, featurize, mask and reconstruct; returns a dict of ``[batch, frames, freq]`` tensors."""
        batch = batch.to(self.device)
        generator = self.train_rng.generator if stage == sb.Stage.TRAIN else self.eval_rng
        segment = int(self.hparams.segment_seconds * self.hparams.sample_rate)
        wav = random_crops(*batch.sig, segment, generator)
        with torch.no_grad():
            augmented, _ = self.hparams.augment(wav, generator=generator)
            if getattr(self.hparams, "input_level_db", None) is not None:
                gain = level_gain(augmented, self.hparams.input_level_db)
                augmented, wav = augmented * gain, wav * gain
            inputs, target = self.magnitudes(augmented), self.magnitudes(wav)
        grid = patch_grid(inputs.shape[1], inputs.shape[2], self.hparams.model.patch_size)
        mask = make_mask(self.hparams.mask_pattern, inputs.shape[0], grid, self.hparams.mask_ratio,
                         generator=generator, device=self.device, span=self.hparams.mask_span)
        out = self.modules.model(inputs, mask)
        return {"inputs": inputs, "target": target, "reconstruction": out.reconstruction,
                "mask": mask, "grid": grid}

    def bin_mask(self, mask, grid, like):
        """Patch mask ``[batch, N]`` -> float mask of the bins ``[batch, frames, freq]`` (1 = masked)."""
        pt, pf = self.hparams.model.patch_size
        patches = mask.unsqueeze(-1).to(like.dtype).expand(-1, -1, pt * pf)
        return unpatchify(patches, grid, (pt, pf), like.shape[1], like.shape[2])

    def compute_objectives(self, predictions, batch, stage):
        """Weighted loss on masked and visible bins against the un-augmented magnitudes."""
        target, recon = predictions["target"], predictions["reconstruction"]
        masked = self.bin_mask(predictions["mask"], predictions["grid"], target)
        visible = 1.0 - masked
        err = LOSSES[self.hparams.loss](recon, target)
        loss = (self.hparams.masked_weight * masked_mean(err, masked)
                + self.hparams.visible_weight * masked_mean(err, visible))
        if stage != sb.Stage.TRAIN:
            self.accumulate_metrics(predictions, masked, visible)
        return loss

    def accumulate_metrics(self, predictions, masked, visible):
        """Add this batch's L1 errors: reconstruction vs. the augmented input and the mean patch."""
        inputs, target, recon = predictions["inputs"], predictions["target"], predictions["reconstruction"]
        pt_pf = self.hparams.model.patch_size
        patches, grid = patchify(inputs, pt_pf)
        keep = (~predictions["mask"]).unsqueeze(-1).to(patches.dtype)
        mean_patch = (patches * keep).sum(1, keepdim=True) / keep.sum(1, keepdim=True)
        mean_pred = unpatchify(mean_patch.expand_as(patches), grid, pt_pf, inputs.shape[1], inputs.shape[2])
        l1 = {
            "visible_input_l1": ((inputs - target).abs(), visible),
            "visible_recon_l1": ((recon - target).abs(), visible),
            "masked_recon_l1": ((recon - target).abs(), masked),
            "masked_meanpatch_l1": ((mean_pred - target).abs(), masked),
        }
        for name, (err, weight) in l1.items():
            total, count = self.metric_sums.get(name, (0.0, 0.0))
            self.metric_sums[name] = (total + float((err * weight).sum()), count + float(weight.sum()))
        if self.plot_example is None:
            self.plot_example = {k: predictions[k][0] for k in ("inputs", "target", "reconstruction")}
            self.plot_example["mask"] = masked[0]

    def on_stage_start(self, stage, epoch=None):
        """Reset metrics; evaluation uses a freshly seeded generator (the same batches every time)."""
        self.metric_sums, self.plot_example = {}, None
        if stage != sb.Stage.TRAIN:
            self.eval_rng = torch.Generator().manual_seed(self.hparams.seed + 777)

    def stage_metrics(self, loss):
        """Averages of the accumulated errors and the two ratios reported for the bar."""
        stats = {"loss": loss}
        stats.update({k: total / max(count, 1.0) for k, (total, count) in self.metric_sums.items()})
        if stats.get("visible_input_l1"):
            stats["visible_error_reduction"] = 1.0 - stats["visible_recon_l1"] / stats["visible_input_l1"]
        if stats.get("masked_meanpatch_l1"):
            stats["masked_vs_meanpatch"] = stats["masked_recon_l1"] / stats["masked_meanpatch_l1"]
        return stats

    def plot(self, path, epoch):
        """PNG of one validation clip: augmented input, mask, reconstruction, target."""
        ex = self.plot_example
        hop = self.hparams.stft.hop_length / self.hparams.stft.sample_rate
        plot_spectrograms(
            path,
            {"augmented input": ex["inputs"], "mask": ex["mask"],
             "reconstruction": ex["reconstruction"], "target (before augmentation)": ex["target"]},
            hop_seconds=hop,
            title=f"epoch {epoch}",
        )
