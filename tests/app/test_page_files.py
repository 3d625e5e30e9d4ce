"""The page's files as the app serves them, without a browser (tests/app/test_page.py drives it)."""

import re
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app
from app.page import CSP
from app.settings import Settings

STATIC = Path(__file__).resolve().parents[2] / "app" / "static"


def test_the_page_and_its_files_are_open_even_with_a_key(tiny_model_dir: Path) -> None:
    settings = Settings(model_dir=tiny_model_dir, api_key="k", max_text_chars=123, json_logs=False)
    with TestClient(create_app(settings)) as client:
        page = client.get("/")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == CSP
        assert 'data-key-required="true"' in page.text and 'data-max-text="123"' in page.text
        assert "{{" not in page.text
        assert "closed here: it needs the API key" in page.text
        for path, kind in (("/page.js", "text/javascript"), ("/page.css", "text/css")):
            answer = client.get(path)
            assert answer.status_code == 200 and answer.headers["content-type"].startswith(kind)
        assert client.get("/model").status_code == 401  # the API stays closed
        assert (
            "/"
            not in client.get("/openapi.json", headers={"authorization": "Bearer k"}).json()[
                "paths"
            ]
        )


def test_without_a_key_the_page_asks_for_none(client: TestClient) -> None:
    page = client.get("/").text
    assert 'data-key-required="false"' in page and "closed here" not in page


def test_everything_the_page_loads_is_its_own_and_small() -> None:
    files = sorted(STATIC.iterdir())
    assert [f.name for f in files] == ["index.html", "page.css", "page.js"]
    for f in files:
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", f.read_text()), f.name
    assert sum(f.stat().st_size for f in files) < 32_000
