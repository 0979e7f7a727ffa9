"""Sizes along each axis: output sizes, effective kernels, receptive fields, and which
input pixels each output reads.
"""
