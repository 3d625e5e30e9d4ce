"""Offline work: training, evaluation and the command line."""
