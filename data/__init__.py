"""The corpus: its format, its readers and writers, and the generator of the training data."""
