"""TrainConfig: how a model is trained (the network's own sizes are in model.config)."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field

# The training budget when none is given. 12,000 batches is about what the shipped model trains
# on (40,000 sentences, 10 epochs of 32: 12,500); a small data set (ATIS's 4,478 sentences: 140
# batches an epoch) gets more passes over it, and the patience grows with them.
MIN_EPOCHS = 10
MAX_EPOCHS = 60
TARGET_STEPS = 12_000


class TrainConfig(BaseModel):
    """Optimisation settings; saved next to nothing, reported in the training log."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: int | None = Field(
        None,
        ge=1,
        description="maximum number of passes over the training data; by default chosen from "
        f"its size: at least {MIN_EPOCHS}, enough for about {TARGET_STEPS:,} batches, at most "
        f"{MAX_EPOCHS} (see for_data_size)",
    )
    batch_size: int = Field(32, ge=1)
    lr: float = Field(2e-3, gt=0, description="Adam learning rate")
    patience: int | None = Field(
        None,
        ge=1,
        description="epochs without a better dev F1 before stopping; by default 3 for every "
        "10 epochs of the budget",
    )
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
    average: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="score and keep an exponential moving average of the weights, over about this "
        "share of the budget's batches, instead of the weights as trained (0, the default). The "
        "default model is trained with 0.4 (`make train-default`); on a small data set or a "
        "fine-tune, whose best epoch comes early in a long budget, the average lags behind",
    )
    members: int = Field(
        1,
        ge=1,
        le=8,
        description="train this many networks, from seeds seed, seed + 1, ..., and save them "
        "merged as one tagger that scores the mean of theirs (model.ensemble; 1 trains one). "
        "Each member trains as a model of its own would; with 2 or more threads, side by side "
        "in processes of their own, the threads shared out among them",
    )
    name: str = Field("slot-tagger", description="the model's name in its metadata and the API")

    def for_data_size(self, n_sentences: int) -> TrainConfig:
        """This config with ``epochs`` and ``patience`` filled in for ``n_sentences`` of
        training data, where they were left to the default."""
        steps_per_epoch = max(1, math.ceil(n_sentences / self.batch_size))
        epochs = self.epochs or min(
            MAX_EPOCHS, max(MIN_EPOCHS, math.ceil(TARGET_STEPS / steps_per_epoch))
        )
        patience = self.patience or max(3, round(3 * epochs / 10))
        return self.model_copy(update={"epochs": epochs, "patience": patience})

    def average_decay(self, n_sentences: int) -> float | None:
        """The moving average's decay per batch: its window (1 / (1 - decay) batches) is
        ``average`` of the whole budget's batches (0.9998 at 0.4 for the default model's
        12,500); None when there is no average. Call on a config :meth:`for_data_size` has
        filled in."""
        assert self.epochs is not None, "the budget is filled in first (for_data_size)"
        if not self.average:
            return None
        steps = max(1, math.ceil(n_sentences / self.batch_size)) * self.epochs
        return max(0.0, 1.0 - 1.0 / (self.average * steps))
