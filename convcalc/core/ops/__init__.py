"""The primitives every layer, block and model is read into, each with its shape rule,
parameters, work and formula.
"""
