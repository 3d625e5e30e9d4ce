"""The try-it page at ``GET /``: one HTML file, its stylesheet and its script, shipped in the
package (``app/static``), no CDN and no build step.

The page is open even with an API key set (it holds no data; the calls it makes send the key the
user types, which the script keeps in sessionStorage only). Its HTML carries this server's limits
and whether a key is needed; a Content-Security-Policy lets it load and call its own origin only.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files

from fastapi import APIRouter, Request, Response

from app.settings import Settings

PAGE_PATHS = frozenset({"/", "/page.css", "/page.js"})
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
}
page_router = APIRouter(include_in_schema=False)


@cache
def _asset(name: str) -> str:
    return files("app").joinpath("static", name).read_text(encoding="utf-8")


def render(settings: Settings) -> str:
    """The page's HTML with this server's settings in it (escaped; none is user input)."""
    values = {
        "key_required": "true" if settings.api_key else "false",
        "max_text_chars": str(settings.max_text_chars),
        "max_batch_size": str(settings.max_batch_size),
        "timezone": settings.timezone,
        "docs_note": " (closed here: it needs the API key, which a link cannot send)"
        if settings.api_key and not settings.docs_public
        else "",
    }
    page = _asset("index.html")
    for name, value in values.items():
        page = page.replace("{{" + name + "}}", html.escape(value))
    return page


@page_router.get("/")
async def page(request: Request) -> Response:
    return Response(render(request.app.state.settings), media_type="text/html", headers=HEADERS)


@page_router.get("/page.css")
async def stylesheet() -> Response:
    return Response(_asset("page.css"), media_type="text/css", headers=HEADERS)


@page_router.get("/page.js")
async def script() -> Response:
    return Response(_asset("page.js"), media_type="text/javascript", headers=HEADERS)
