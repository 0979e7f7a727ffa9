"""The values users write: numbers in ASCII digits, sizes, words (case and spaces
never matter).
"""
