"""Measurement: the only code that imports torch and torchinfo."""
