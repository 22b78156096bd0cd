"""Simulators for the embedded corpus: text, synthetic speech, noise and rooms."""
