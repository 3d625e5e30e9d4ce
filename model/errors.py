"""The errors a saved model can raise when it is loaded: one base class, three causes."""


class ModelError(Exception):
    """Base class: the model directory cannot be used."""


class ModelNotFoundError(ModelError):
    """The model directory, or a file it must contain, does not exist."""


class IncompatibleModelError(ModelError):
    """The model was written in a format this slot-tagger does not read."""


class CorruptModelError(ModelError):
    """The model's files exist but are unreadable or disagree with each other."""
