"""header(): one header's value from an ASGI header list, for the pure ASGI middlewares.

Servers give header names in lower case. Starlette's ``Headers`` would build a lower-cased copy
of the whole list per request; the middlewares want one name each and read it directly.
"""

from __future__ import annotations

from collections.abc import Iterable


def header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The first value of ``name`` (lower case) in ``headers``; None when it is absent."""
    for key, value in headers:
        if key == name:
            return value
    return None
