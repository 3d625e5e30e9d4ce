"""Optional bearer-key authentication for the API and a separate token for admin routes.

With a key set, :class:`KeyGate` closes everything but ``/health`` (and the admin routes, which
have their own token): ``/metrics``, ``/docs``, ``/redoc``, ``/openapi.json`` and unknown paths
too; ``SLOT_TAGGER_DOCS_PUBLIC`` opens the docs on purpose."""

from __future__ import annotations

import json
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope, Send

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


OPEN_PATHS = frozenset({"/health"})
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})
_UNAUTHORIZED = json.dumps(
    {"detail": "missing or wrong API key; send 'Authorization: Bearer <key>'"}
).encode()


class KeyGate:
    """A pure ASGI guard: every HTTP request but those to ``open_paths``, the admin routes and CORS
    preflights needs ``Authorization: Bearer <key>`` (401 otherwise)."""

    def __init__(self, app: ASGIApp, key: str, open_paths: frozenset[str]) -> None:
        self.app = app
        self.expected = f"Bearer {key}".encode()
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or path in self.open_paths
            or path.startswith("/admin/")
            or scope.get("method") == "OPTIONS"
        ):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"authorization", b"")
        if secrets.compare_digest(given, self.expected):
            await self.app(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_UNAUTHORIZED)).encode()),
                    (b"www-authenticate", b"Bearer"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _UNAUTHORIZED})
