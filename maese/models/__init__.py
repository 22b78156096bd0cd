"""Neural models of maese."""

from maese.models.mae import MAE_PRESETS, MAEOutput, SpectrogramMAE, count_parameters, mae_config

__all__ = ["MAE_PRESETS", "MAEOutput", "SpectrogramMAE", "count_parameters", "mae_config"]
