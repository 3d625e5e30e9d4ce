"""What a span means: dates (``dates``), places (``places``), and what resolves a span
(``resolve``).

Imports neither torch nor the network, so a program can read values without loading a model.
"""
