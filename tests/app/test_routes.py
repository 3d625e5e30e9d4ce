"""The HTTP API: status first, then the exact JSON (the FastAPI template's style)."""

import json

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from app.main import create_app
from app.schemas import BatchTagResponse, TagResponse
from app.settings import Settings


def test_tag_returns_tokens_spans_and_model(client: TestClient) -> None:
    response = client.post(
        "/tag", json={"text": "leave Beijing on November 2nd", "reference_date": "2026-11-23"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["text"] == "leave Beijing on November 2nd"
    assert body["tokens"] == [
        {"text": "leave", "start": 0, "end": 5, "tag": "O"},
        {"text": "Beijing", "start": 6, "end": 13, "tag": "B-departure"},
        {"text": "on", "start": 14, "end": 16, "tag": "O"},
        {"text": "November", "start": 17, "end": 25, "tag": "B-date"},
        {"text": "2nd", "start": 26, "end": 29, "tag": "I-date"},
    ]
    assert [(s["label"], s["text"], s["start"], s["end"]) for s in body["spans"]] == [
        ("departure", "Beijing", 6, 13),
        ("date", "November 2nd", 17, 29),
    ]
    assert body["spans"][0]["value"] == {
        "type": "place",
        "kind": "city",
        "name": "Beijing",
        "country": "CN",
        "iata": ["PEK", "PKX", "NAY"],
    }
    assert body["spans"][1]["value"] == {"type": "date", "date": "2027-11-02", "grain": "day"}
    assert all(0 <= s["confidence"] <= 1 for s in body["spans"])
    assert body["model"]["name"] == "tiny" and len(body["model"]["version"]) == 12


def test_reference_date_timezone_and_min_confidence(client: TestClient) -> None:
    body = {"text": "arrive Boston on Monday", "reference_date": "2026-11-25"}
    [_, date] = client.post("/tag", json=body).json()["spans"]
    assert date["value"] == {"type": "date", "date": "2026-11-30", "grain": "day"}
    everything = client.post("/tag", json={**body, "min_confidence": 0.0}).json()["spans"]
    nothing = client.post("/tag", json={**body, "min_confidence": 1.0}).json()["spans"]
    assert len(everything) == 2 and [s for s in everything if s["confidence"] >= 1.0] == nothing
    response = client.post(
        "/tag", json={"text": "leave Boston tomorrow", "timezone": "Mars/Olympus"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == (
        "Value error, unknown timezone 'Mars/Olympus'; expected an IANA name like 'Asia/Shanghai'"
    )
    for bad in ({"reference_date": "yesterday"}, {"min_confidence": 2}):
        assert client.post("/tag", json={"text": "hi", **bad}).status_code == 422


def test_batch_answers_in_order(client: TestClient) -> None:
    texts = ["arrive Beijing on November 2nd", "", "leave Beijing on November 2nd"]
    response = client.post("/tag/batch", json={"texts": texts})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["text"] for r in results] == texts
    assert [[s["label"] for s in r["spans"]] for r in results] == [
        ["destination", "date"],
        [],
        ["departure", "date"],
    ]


def test_responses_hold_to_the_documented_schema(client: TestClient) -> None:
    """The routes write their JSON without pydantic (orjson, for speed): the schema still holds,
    values and all, and the content type is JSON."""
    texts = ["leave Beijing on November 2nd", "", "from Miami to Atlanta on the 5th of May"]
    one = client.post("/tag", json={"text": texts[0], "reference_date": "2026-11-23"})
    many = client.post("/tag/batch", json={"texts": texts, "reference_date": "2026-11-23"})
    assert one.headers["content-type"] == many.headers["content-type"] == "application/json"
    assert TagResponse.model_validate_json(one.content).model_dump() == one.json()
    batch = BatchTagResponse.model_validate_json(many.content)
    assert batch.model_dump() == many.json()
    assert [r.text for r in batch.results] == texts
    assert sum(s.value is not None for r in batch.results for s in r.spans) >= 4


def test_whitespace_only_text_is_200_with_no_spans(client: TestClient) -> None:
    response = client.post("/tag", json={"text": "   \n\t "})
    assert response.status_code == 200
    assert response.json()["tokens"] == [] and response.json()["spans"] == []


def test_text_over_limit_is_422_naming_the_limit(client: TestClient) -> None:
    response = client.post("/tag", json={"text": "a" * 51})
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "type": "value_error",
            "loc": ["body", "text"],
            "msg": "text has 51 characters; the limit is 50",
        }
    ]


def test_batch_over_limit_is_422_naming_the_limit(client: TestClient) -> None:
    response = client.post("/tag/batch", json={"texts": ["a"] * 5})
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"] == "batch has 5 texts; the limit is 4"
    response = client.post("/tag/batch", json={"texts": ["ok", "b" * 60]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "texts", 1]
    assert response.json()["detail"][0]["msg"] == "text has 60 characters; the limit is 50"


def test_a_batch_over_the_work_budget_is_422_naming_the_limit(tiny_model_dir) -> None:
    settings = Settings(model_dir=tiny_model_dir, max_text_chars=50, max_batch_chars=100)
    with TestClient(create_app(settings)) as client:
        ok = client.post("/tag/batch", json={"texts": ["leave Boston on Monday" * 2] * 2})
        assert ok.status_code == 200  # 88 characters in all
        response = client.post("/tag/batch", json={"texts": ["leave Boston on Monday" * 2] * 3})
        assert response.status_code == 422
        assert response.json()["detail"] == [
            {
                "type": "value_error",
                "loc": ["body", "texts"],
                "msg": "batch has 132 characters in all; the limit is 100",
            }
        ]


def test_wrong_types_missing_fields_and_bad_json_are_422(client: TestClient) -> None:
    cases = [
        ({"text": 5}, "string_type"),
        ({}, "missing"),
        ({"texts": ["x"]}, "missing"),
        ({"text": "x", "colour": "red"}, "extra_forbidden"),
        (["text"], "model_attributes_type"),
    ]
    for body, kind in cases:
        response = client.post("/tag", json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["type"] == kind
    response = client.post(
        "/tag", content=b'{"text": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"
    response = client.post("/tag/batch", json={"texts": "not a list"})
    assert response.status_code == 422


def test_health_and_model_describe_the_loaded_model(client: TestClient) -> None:
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    info = client.get("/model")
    assert info.status_code == 200
    body = info.json()
    assert body["labels"] == ["date", "departure", "destination"]
    assert body["config"]["hidden_dim"] == 16
    assert body["dev_metrics"]["micro"]["f1"] == 1.0
    assert body["version"] == health.json()["model"]["version"]


def test_health_is_503_before_the_model_is_loaded(tiny_model_dir) -> None:
    app = create_app(Settings(model_dir=tiny_model_dir))
    client = TestClient(app)  # no context manager: the lifespan has not run
    response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"detail": "the model is not loaded yet"}


def test_openapi_documents_the_routes_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/tag", "/tag/batch", "/health", "/model"} <= set(schema["paths"])
    assert schema["components"]["schemas"]["TagRequest"]["examples"]


def test_openapi_shows_the_configured_limits(client: TestClient, tiny_model_dir) -> None:
    """Clients read the limits off the schema: the client fixture's (50 characters, 4 texts),
    and another server's own."""

    def limits(schema: dict) -> tuple[int, int, int]:
        components = schema["components"]["schemas"]
        texts = components["BatchTagRequest"]["properties"]["texts"]
        text = components["TagRequest"]["properties"]["text"]
        item = components["BatchItem"]["properties"]["text"]
        assert item["maxLength"] == text["maxLength"]
        return text["maxLength"], texts["maxItems"], texts["items"]["anyOf"][0]["maxLength"]

    assert limits(client.get("/openapi.json").json()) == (50, 4, 50)
    other = Settings(model_dir=tiny_model_dir, max_text_chars=1234, max_batch_size=7)
    with TestClient(create_app(other)) as served:
        assert limits(served.get("/openapi.json").json()) == (1234, 7, 1234)
    defaults = Settings(model_dir=tiny_model_dir)  # the environment's, else 2,000 and 256
    expected = (defaults.max_text_chars, defaults.max_batch_size, defaults.max_text_chars)
    assert limits(create_app(defaults).openapi()) == expected


@hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=50))
def test_any_text_within_the_limit_gets_spans_inside_it(client: TestClient, text: str) -> None:
    response = client.post("/tag", json={"text": text})
    assert response.status_code == 200
    for span in response.json()["spans"]:
        assert 0 <= span["start"] < span["end"] <= len(text)
        assert text[span["start"] : span["end"]] == span["text"]
        assert 0 <= span["confidence"] <= 1


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=60),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


@hsettings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(json_values, st.sampled_from(["/tag", "/tag/batch"]))
def test_no_json_body_gets_a_server_error(client: TestClient, body, path: str) -> None:
    response = client.post(
        path, content=json.dumps(body), headers={"content-type": "application/json"}
    )
    assert response.status_code < 500


def test_either_backend_serves_the_same_answer(tiny_model_dir, client: TestClient) -> None:
    """SLOT_TAGGER_BACKEND=torch (eager) and the default onnx give the same JSON, confidence to
    the 4 decimals served (a difference beyond 1e-5 would show here first)."""
    body = {"text": "i want to fly from denver to chicago tomorrow", "reference_date": "2026-11-23"}
    settings = Settings(model_dir=tiny_model_dir, backend="torch")
    with TestClient(create_app(settings)) as eager:
        assert eager.app.state.predictor.backend == "torch"
        assert client.app.state.predictor.backend == "onnx"
        assert eager.post("/tag", json=body).json() == client.post("/tag", json=body).json()


def test_text_in_another_language_is_200_with_no_spans_and_says_why(client: TestClient) -> None:
    spanish = "quiero ir de Madrid a Barcelona mañana"
    body = client.post("/tag", json={"text": spanish}).json()
    assert body["spans"] == [] and all(t["tag"] == "O" for t in body["tokens"])
    assert body["refused"]["language"] == "es" and "English only" in body["refused"]["reason"]
    TagResponse.model_validate(body)
    english = client.post("/tag", json={"text": "leave Beijing on November 2nd"}).json()
    assert english["refused"] is None
    batch = client.post("/tag/batch", json={"texts": [spanish, "from Miami to Atlanta"]}).json()
    assert [r["refused"] is None for r in batch["results"]] == [False, True]


def test_the_language_check_can_be_turned_off_by_setting(tiny_model_dir) -> None:
    settings = Settings(model_dir=tiny_model_dir, english_only=False)
    with TestClient(create_app(settings)) as client:
        body = client.post("/tag", json={"text": "quiero ir de Madrid a Barcelona mañana"}).json()
    assert body["refused"] is None


def test_openapi_shows_the_context_limits(tiny_model_dir) -> None:
    settings = Settings(model_dir=tiny_model_dir, max_context_turns=3, max_context_chars=40)
    components = create_app(settings).openapi()["components"]["schemas"]
    for body in ("TagRequest", "BatchItem"):
        turns, one_turn, _ = components[body]["properties"]["context"]["anyOf"]
        assert (turns["maxItems"], turns["items"]["maxLength"], one_turn["maxLength"]) == (
            3,
            40,
            40,
        )


def test_tag_takes_a_context_and_returns_spans_of_the_text_only(client: TestClient) -> None:
    body = {"text": "leave Boston on Monday", "context": ["fly to Denver?", "Where from?"]}
    response = client.post("/tag", json=body)
    assert response.status_code == 200
    result = response.json()
    assert result["text"] == body["text"]
    assert all(body["text"][s["start"] : s["end"]] == s["text"] for s in result["spans"])
    assert [t["text"] for t in result["tokens"]] == ["leave", "Boston", "on", "Monday"]
    one_turn = client.post("/tag", json={**body, "context": "Where from?"})  # a string: one turn
    assert one_turn.status_code == 200


def test_batch_items_carry_their_own_context(client: TestClient) -> None:
    texts = [
        {"text": "leave Boston on Monday", "context": ["Where from?"]},
        "arrive Boston on Monday",
        {"text": "Boston."},
    ]
    response = client.post("/tag/batch", json={"texts": texts})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["text"] for r in results] == [
        "leave Boston on Monday",
        "arrive Boston on Monday",
        "Boston.",
    ]


def test_context_over_its_limits_is_422_naming_the_limit(tiny_model_dir) -> None:
    settings = Settings(model_dir=tiny_model_dir, max_context_turns=2, max_context_chars=20)
    with TestClient(create_app(settings)) as served:
        turns = served.post("/tag", json={"text": "Boston.", "context": ["a", "b", "c"]})
        assert turns.status_code == 422
        assert "context has 3 turns; the limit is 2" in turns.json()["detail"][0]["msg"]
        long_turn = {"text": "Boston.", "context": ["where from?", "x" * 21]}
        chars = served.post("/tag", json=long_turn)
        assert chars.status_code == 422
        detail = chars.json()["detail"][0]
        assert detail["msg"] == "context turn has 21 characters; the limit is 20"
        assert detail["loc"] == ["body", "context", 1]
        batch = served.post("/tag/batch", json={"texts": [{"text": "a", "context": ["1"] * 3}]})
        assert batch.status_code == 422
        assert batch.json()["detail"][0]["loc"] == ["body", "texts", 0, "context"]


@pytest.mark.parametrize(
    "context", [[1, 2], {"turn": "where from?"}, [["nested"]], 5, ["ok", None]]
)
def test_a_context_that_is_not_turns_of_text_is_422(client: TestClient, context) -> None:
    response = client.post("/tag", json={"text": "Boston.", "context": context})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][:2] == ["body", "context"]


def test_metrics_count_the_requests_that_carried_context(client: TestClient) -> None:
    def counted() -> float:
        for line in client.get("/metrics").text.splitlines():
            if line.startswith("slot_tagger_requests_with_context_total "):
                return float(line.split()[1])
        raise AssertionError("no context counter on /metrics")

    before = counted()
    client.post("/tag", json={"text": "Boston.", "context": ["Where from?"]})
    client.post("/tag", json={"text": "Boston."})
    client.post("/tag", json={"text": "Boston.", "context": []})
    client.post("/tag/batch", json={"texts": [{"text": "Boston.", "context": "Where to?"}]})
    assert counted() == before + 2


def test_wrong_types_are_422_without_coercion(client: TestClient) -> None:
    cases = [
        ({"text": "x", "min_confidence": "0.5"}, "float_type"),
        ({"text": "x", "min_confidence": True}, "float_type"),
        ({"text": "x", "reference_date": 0}, "value_error"),
        ({"text": "x", "reference_date": True}, "value_error"),
        ({"texts": ["x"], "min_confidence": "1"}, "float_type"),
    ]
    for body, kind in cases:
        route = "/tag" if "text" in body else "/tag/batch"
        response = client.post(route, json=body)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["type"] == kind, body
    response = client.post("/tag", json={"text": "x", "reference_date": 0})
    assert response.json()["detail"][0]["msg"] == (
        "Value error, expected an ISO date string like '2026-11-23', got a number"
    )
    ok = client.post(
        "/tag", json={"text": "x", "min_confidence": 1, "reference_date": "2026-11-23"}
    )
    assert ok.status_code == 200


def test_an_error_never_echoes_more_than_an_excerpt_of_the_input(client: TestClient) -> None:
    zone = "Mars/" + "x" * 2_000_000
    response = client.post("/tag", json={"text": "x", "timezone": zone})
    assert response.status_code == 422
    [problem] = response.json()["detail"]
    assert problem["msg"] == (
        f"Value error, unknown timezone {zone[:40]!r}... (2,000,005 characters); expected an "
        "IANA name like 'Asia/Shanghai'"
    )
    assert len(response.content) < 1000
