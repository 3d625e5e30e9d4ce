"""The tagger: network, vocabularies, saved-model format and predictor. Imports nothing of ours."""

from model.artifact import load
from model.config import TaggerConfig
from model.predictor import Prediction, Predictor

__all__ = ["Prediction", "Predictor", "TaggerConfig", "load"]
