"""TrainConfig: how a model is trained (the network's own sizes are in model.config)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class TrainConfig(BaseModel):
    """Optimisation settings; saved next to nothing, reported in the training log."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: int = Field(10, ge=1, description="maximum number of passes over the training data")
    batch_size: int = Field(32, ge=1)
    lr: float = Field(2e-3, gt=0, description="Adam learning rate")
    patience: int = Field(3, ge=1, description="epochs without a better dev F1 before stopping")
    seed: int = Field(0, description="seeds torch and the shuffling: same data + seed, same model")
    clip: float = Field(5.0, gt=0, description="gradient norm clipping")
    min_word_count: int = Field(1, ge=1, description="words seen fewer times become <unk>")
    threads: int = Field(2, ge=1, description="torch CPU threads")
    place_holdout: float = Field(
        0.2,
        ge=0.0,
        lt=1.0,
        description="share of place names the gazetteer input hides in training (stable by name), "
        "so the model also finds places the table lacks",
    )
    name: str = Field("slot-tagger", description="the model's name in its metadata and the API")
