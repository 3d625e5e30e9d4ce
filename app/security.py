"""Optional bearer-key authentication for the API and a separate token for admin routes."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.deps import SettingsDep

_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _matches(credentials: HTTPAuthorizationCredentials | None, expected: str) -> bool:
    return credentials is not None and secrets.compare_digest(
        credentials.credentials.encode(), expected.encode()
    )


async def require_api_key(credentials: Credentials, settings: SettingsDep) -> None:
    """With SLOT_TAGGER_API_KEY set, requests need ``Authorization: Bearer <key>``."""
    if settings.api_key is not None and not _matches(
        credentials, settings.api_key.get_secret_value()
    ):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong API key; send 'Authorization: Bearer <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def require_admin(request: Request, credentials: Credentials, settings: SettingsDep) -> None:
    """Admin routes exist only with SLOT_TAGGER_ADMIN_TOKEN set, and need that token."""
    if settings.admin_token is None:
        raise HTTPException(status_code=404, detail="Not Found")
    if not _matches(credentials, settings.admin_token.get_secret_value()):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong admin token",
            headers={"WWW-Authenticate": "Bearer"},
        )
