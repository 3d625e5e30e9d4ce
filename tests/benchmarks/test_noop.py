"""The benchmark's own app: its no-op routes answer like /tag without the model; the service
itself has no such routes."""

from fastapi.testclient import TestClient

from app.main import create_app
from app.schemas import BatchTagResponse, TagResponse
from app.settings import Settings
from tests.benchmarks import noop


def test_the_benchmarks_no_op_routes_answer_like_tag_without_the_model(tiny_model_dir) -> None:
    """tests/benchmarks/bench.py compares /tag with these: same parsing, checks and response
    shape, no model. They exist only in the benchmark's app."""
    settings = Settings(model_dir=tiny_model_dir, max_batch_size=4)
    with TestClient(noop.create_app(settings)) as bench:
        one = bench.post("/bench/noop", json={"text": "leave Beijing"})
        many = bench.post("/bench/noop/batch", json={"texts": ["leave Beijing", "thank you"]})
        assert one.status_code == many.status_code == 200
        assert TagResponse.model_validate_json(one.content).spans == []
        assert [r.text for r in BatchTagResponse.model_validate_json(many.content).results] == [
            "leave Beijing",
            "thank you",
        ]
        assert bench.post("/bench/noop/batch", json={"texts": ["a"] * 5}).status_code == 422
        assert bench.post("/tag", json={"text": "leave Beijing"}).status_code == 200
    with TestClient(create_app(Settings(model_dir=tiny_model_dir))) as plain:
        assert plain.post("/bench/noop", json={"text": "leave Beijing"}).status_code == 404
