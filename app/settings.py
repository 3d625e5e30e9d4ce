"""Settings: every knob of the service, read from SLOT_TAGGER_* environment variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Service settings. ``create_app(Settings(...))`` in tests; the environment in production."""

    model_config = SettingsConfigDict(env_prefix="SLOT_TAGGER_", frozen=True, extra="forbid")

    model_dir: Path | None = Field(None, description="model directory; None serves the shipped model")
    max_text_chars: int = Field(2000, ge=1, description="longest text accepted, in characters")
    max_batch_size: int = Field(256, ge=1, description="most texts in one /tag/batch request")
    torch_threads: int = Field(1, ge=1, description="torch CPU threads per worker process")
