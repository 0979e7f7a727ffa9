"""Layers, blocks and named networks as small data tables of primitives, and the
registry of named networks.
"""
