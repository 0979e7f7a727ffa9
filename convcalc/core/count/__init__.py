"""Counting: every figure of a network, each peer tool's convention, the backward pass,
the roofline and the measured time.
"""
