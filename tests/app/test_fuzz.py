"""Fuzzing: schemathesis against the live OpenAPI schema, and arbitrary Unicode through /tag.

A longer run: ``SCHEMATHESIS_EXAMPLES=2000 pytest tests/app/test_fuzz.py``.
"""

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.deps import load_predictor
from app.main import create_app
from app.settings import Settings

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "30"))


@pytest.fixture(scope="module")
def fuzz_app(tiny_model_dir):
    app = create_app(
        Settings(
            model_dir=tiny_model_dir,
            max_text_chars=200,
            max_batch_size=8,
            max_body_bytes=65536,
            admin_token="admin",
            api_key="key",
            docs_public=True,  # schemathesis reads /openapi.json without the key
        )
    )
    app.state.predictor = load_predictor(app.state.settings)
    return app


def operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_endpoint_answers_without_5xx_and_matches_the_schema(fuzz_app) -> None:
    ops = operations(fuzz_app)
    assert {op.path for op in ops} >= {"/tag", "/tag/batch", "/health", "/model"}
    for op in ops:

        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            case.call_and_validate(headers={"Authorization": "Bearer key"})

        check()


HOSTILE = [
    "✈️ from Boston 🇺🇸 to Denver 😀 tomorrow",
    "من القاهرة إلى دبي غدا leave Beijing",  # right-to-left script
    "leave Bei\u0301jing on Nove\u0308mber 2nd",  # combining marks
    "leave\u200bBeijing\u200d on\ufeff November 2nd",  # zero-width characters
    "leave\x00Beijing\x07on\x1bNovember\x7f2nd\r\n",  # control characters
    " " * 10_000,
    "\ud800 leave Boston \udfff",  # unpaired surrogates (reachable from Python, not over HTTP)
    "a" * 5000,
    "\n\n\t\t",
    "🇺🇸" * 500,
]
any_text = st.one_of(
    st.text(), st.text(st.characters(codec=None, categories=None)), st.sampled_from(HOSTILE)
)


def check(text: str, prediction) -> None:
    previous_end = 0
    for span in prediction.spans:
        assert previous_end <= span.start < span.end <= len(text)  # inside, never overlapping
        assert text[span.start : span.end] == span.text  # offsets index the original string
        previous_end = span.end
    for token in prediction.tokens:
        assert text[token.start : token.end] == token.text


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_is_tagged_without_error(predictor, text: str) -> None:
    [prediction] = predictor.predict([text])
    check(text, prediction)


@given(text=any_text)
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_python_string_is_tagged_without_error(predictor, text: str) -> None:
    [prediction] = predictor.predict([text])
    check(text, prediction)


@pytest.mark.parametrize("text", [t for t in HOSTILE if "\ud800" not in t])
def test_hostile_text_over_http_is_200_or_a_clear_422(fuzz_app, text: str) -> None:
    with TestClient(fuzz_app) as client:
        response = client.post("/tag", json={"text": text}, headers={"Authorization": "Bearer key"})
    if len(text) > 200:
        assert response.status_code == 422
        assert response.json()["detail"][0]["msg"].endswith("the limit is 200")
    else:
        assert response.status_code == 200
        for span in response.json()["spans"]:
            assert text[span["start"] : span["end"]] == span["text"]


def test_unpaired_surrogate_over_http_is_a_clear_422(fuzz_app) -> None:
    with TestClient(fuzz_app) as client:
        response = client.post(
            "/tag",
            content=b'{"text": "\\ud800 hi"}',
            headers={"Authorization": "Bearer key", "content-type": "application/json"},
        )
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "Value error, text contains an unpaired surrogate at character 0; send valid Unicode"
    )


def test_malformed_bodies_are_4xx(fuzz_app) -> None:
    headers = {"Authorization": "Bearer key", "content-type": "application/json"}
    with TestClient(fuzz_app) as client:
        for body in (b"\xff\xfe not utf-8", b"[" * 5000 + b"]" * 5000, b'{"text": "unterminated'):
            assert 400 <= client.post("/tag", content=body, headers=headers).status_code < 500
        form = client.post(
            "/tag",
            content=b"text=hi",
            headers={
                "Authorization": "Bearer key",
                "content-type": "application/x-www-form-urlencoded",
            },
        )
        assert form.status_code == 422
