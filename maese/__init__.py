"""maese: a masked-autoencoder universal speech enhancer, in SpeechBrain style."""

__version__ = "0.1.0"
