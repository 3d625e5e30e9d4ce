"""Settings: every knob of the service, read from SLOT_TAGGER_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from model.runtime import DEFAULT_BACKEND, Backend
from model.values.dates import DEFAULT_TIMEZONE, check_timezone


class Settings(BaseSettings):
    """Service settings. ``create_app(Settings(...))`` in tests; the environment in production."""

    model_config = SettingsConfigDict(env_prefix="SLOT_TAGGER_", frozen=True, extra="forbid")

    model_dir: Path | None = Field(
        None, description="model directory; None serves the shipped model"
    )
    max_text_chars: int = Field(2000, ge=1, description="longest text accepted, in characters")
    max_batch_size: int = Field(256, ge=1, description="most texts in one /tag/batch request")
    max_context_turns: int = Field(
        20, ge=0, description="most earlier turns in one text's dialogue context"
    )
    max_context_chars: int = Field(
        2000, ge=0, description="longest turn of a dialogue context, in characters"
    )
    max_batch_chars: int = Field(
        64_000,
        ge=1,
        description="most characters in all the texts of one /tag/batch request: the work one "
        "request may ask of the model (about 1 s at worst)",
    )
    torch_threads: int = Field(
        1, ge=1, description="CPU threads the network may use per worker (torch or ONNX Runtime)"
    )
    backend: Backend = Field(
        DEFAULT_BACKEND, description="what runs the network: ONNX Runtime (faster) or eager torch"
    )
    english_only: bool = Field(
        True,
        description="give text that is confidently not English no spans and a 'refused' reason "
        "(the model reads English only); false tags every text",
    )
    timezone: str = Field(
        DEFAULT_TIMEZONE, description="whose 'today' dates are read against by default"
    )
    date_order: Literal["MDY", "DMY"] = Field("MDY", description="how 11/02 is read")
    date_prefer: Literal["future", "past", "nearest"] = Field(
        "future", description="which year a date without one falls in (see model/values/dates.py)"
    )

    max_body_bytes: int = Field(
        2_097_152, ge=1, description="largest request body; bigger ones get 413 before parsing"
    )
    request_timeout_s: float = Field(10.0, gt=0, description="longest a request may wait and run")
    max_queue: int = Field(
        64, ge=1, description="model calls running or waiting; beyond it requests get 503"
    )
    request_read_timeout_s: float = Field(
        10.0,
        gt=0,
        description="a request must arrive whole (headers and body) within this many seconds of "
        "the connection opening or of its first byte; else 408 and the connection is closed",
    )
    max_header_bytes: int = Field(
        16_384, ge=1024, description="largest request line and headers; bigger ones get 431"
    )
    max_connections: int = Field(
        512,
        ge=1,
        description="open connections per worker; more are closed as they open (keep it under "
        "the process's file limit)",
    )
    api_key: SecretStr | None = Field(None, description="if set, every route but /health needs it")
    admin_token: SecretStr | None = Field(None, description="if set, enables POST /admin/reload")
    docs_public: bool = Field(
        False, description="with an API key set, leave /docs, /redoc and /openapi.json open"
    )
    cors_origins: list[str] = Field(default_factory=list, description="origins allowed by CORS")
    json_logs: bool = Field(True, description="one JSON line per request on the access log")
    otel: bool = Field(
        False,
        description="FastAPI's native OpenTelemetry spans, metrics and logs, through the globally "
        "configured providers; off, FastAPI skips the check for them that it makes on every "
        "request (the service's own metrics and access log are on either way)",
    )

    @field_validator("api_key", "admin_token")
    @classmethod
    def _not_empty(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        # An empty key would read as "no key" and silently turn auth off.
        if value is not None and not value.get_secret_value().strip():
            name = f"SLOT_TAGGER_{(info.field_name or '').upper()}"
            raise ValueError(f"{name} is set but empty; unset it, or give it a value")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return check_timezone(value)
