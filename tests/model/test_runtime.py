"""ONNX Runtime against eager torch: the served result must not depend on the backend."""

import pytest
import torch

from model import artifact
from model.config import TaggerConfig
from model.predictor import Prediction, Predictor
from model.runtime import OnnxNetwork, TorchNetwork, network
from model.tagger import BiLSTMTagger

# Lengths from 1 token to 15, so batches are padded in every way.
TEXTS = [
    "Boston",
    "leave Beijing on November 2nd",
    "i want to fly from denver to chicago tomorrow",
    "flights from Paris to London on the 5th of May, please, or the 6th at the latest",
    "",
    "thank you",
    "i need a bus to Fresno on the 3rd",
]


def same(onnx: list[Prediction], eager: list[Prediction]) -> None:
    assert [p.tags for p in onnx] == [p.tags for p in eager]
    assert [[(s.label, s.start, s.end, s.value) for s in p.spans] for p in onnx] == [
        [(s.label, s.start, s.end, s.value) for s in p.spans] for p in eager
    ]
    for a, b in zip(onnx, eager, strict=True):
        for x, y in zip(a.spans, b.spans, strict=True):
            assert abs(x.confidence - y.confidence) < 1e-5


@pytest.mark.parametrize("batch_size", [1, 3, 128])
def test_onnx_and_torch_give_the_same_predictions(tiny_model_dir, batch_size: int) -> None:
    onnx = Predictor.from_dir(tiny_model_dir, backend="onnx")
    eager = Predictor.from_dir(tiny_model_dir, backend="torch")
    same(onnx.predict(TEXTS, batch_size), eager.predict(TEXTS, batch_size))


def test_padding_does_not_change_a_sentences_scores_on_onnx(tiny_model_dir) -> None:
    """A short sentence batched with a long one gets the scores it gets alone (the exported LSTM
    reads each sentence's length; an unpacked one would run the backward pass over padding)."""
    predictor = Predictor.from_dir(tiny_model_dir, backend="onnx")
    onnx = predictor.network
    short, long = (
        ["leave", "Boston"],
        ["flights", "from", "Paris", "to", "London", "on", "the", "5th", "of", "May"],
    )
    alone = onnx.emissions(predictor.encoder([short]))[0]
    padded = onnx.emissions(predictor.encoder([long, short]))[1, : len(short)]
    assert abs(alone - padded).max() < 1e-5


def test_models_without_character_or_shape_inputs_and_with_gru_export(tiny_model_dir) -> None:
    loaded = artifact.load(tiny_model_dir)
    torch.manual_seed(0)
    for config in (
        TaggerConfig(word_dim=8, char_dim=0, shape_dim=0, hidden_dim=8),
        TaggerConfig(word_dim=8, char_dim=4, char_filters=4, hidden_dim=8, cell="gru", layers=2),
    ):
        tagger = BiLSTMTagger(config, loaded.tagger.vocabs).eval()
        variant = artifact.LoadedModel(loaded.meta, config, tagger, loaded.path)
        same(
            Predictor(variant, backend="onnx").predict(TEXTS),
            Predictor(variant, backend="torch").predict(TEXTS),
        )


def test_token_inputs_remembered_across_calls_and_table_resets_change_nothing(
    tiny_model_dir,
) -> None:
    """The encoder keeps each token's network input; new words arriving in later calls, and a
    table that starts afresh past its size, still give torch's predictions."""
    onnx = Predictor.from_dir(tiny_model_dir, backend="onnx")
    eager = Predictor.from_dir(tiny_model_dir, backend="torch")
    onnx.encoder.cache_size = 5
    for start in range(len(TEXTS)):
        texts = TEXTS[start:] + TEXTS[:start]
        same(onnx.predict(texts, batch_size=2), eager.predict(texts, batch_size=2))


def test_two_threads_give_what_one_gives(tiny_model_dir) -> None:
    one = Predictor.from_dir(tiny_model_dir, backend="onnx", threads=1)
    two = Predictor.from_dir(tiny_model_dir, backend="onnx", threads=2)
    same(two.predict(TEXTS * 20), one.predict(TEXTS * 20))


def test_an_unknown_backend_is_refused_by_name(tiny_model_dir) -> None:
    with pytest.raises(ValueError, match="expected backend 'torch' or 'onnx', got 'tpu'"):
        Predictor.from_dir(tiny_model_dir, backend="tpu")  # type: ignore[arg-type]


def test_batches_without_cached_inputs_get_them_computed_from_ids(tiny_model_dir) -> None:
    """OnnxNetwork on a plain encoder's batch (ids only) gives torch's scores."""
    from model.encode import Encoder

    eager = Predictor.from_dir(tiny_model_dir, backend="torch")
    plain = Encoder(eager.vocabs, eager.loaded.config.max_word_chars)
    batch = plain([["leave", "Boston", "tomorrow"], ["thank", "you"]])
    assert batch.token_inputs is None
    with torch.inference_mode():
        expected = eager.tagger.emissions(batch).numpy()
    got = network(eager.tagger).emissions(batch)
    assert abs(got - expected)[batch.mask].max() < 1e-5


def test_one_place_chooses_the_backend_and_onnx_is_the_default(tiny_model_dir) -> None:
    tagger = artifact.load(tiny_model_dir).tagger
    assert isinstance(network(tagger), OnnxNetwork)
    assert isinstance(network(tagger, "torch"), TorchNetwork)
    assert Predictor(artifact.load(tiny_model_dir)).backend == "onnx"
    assert Predictor.from_dir(tiny_model_dir).backend == "onnx"
    with pytest.raises(ValueError, match="expected backend 'torch' or 'onnx', got 'tpu'"):
        network(tagger, "tpu")  # type: ignore[arg-type]


def test_a_network_with_word_clusters_exports_and_reads_them_on_both_backends(
    tiny_model_dir,
) -> None:
    """The cluster input goes through the exported graph: ONNX Runtime gives torch's scores,
    and both change when the cluster vectors do."""
    import dataclasses

    from model.encode import Encoder
    from training.dataset import build_lexicon

    loaded = artifact.load(tiny_model_dir)
    vocabs = dataclasses.replace(loaded.tagger.vocabs, lexicon=build_lexicon(clusters=True))
    config = loaded.config.model_copy(update={"cluster_dim": 4})
    torch.manual_seed(0)
    tagger = BiLSTMTagger(config, vocabs).eval()
    assert tagger.cluster_embeddings is not None
    with torch.no_grad():
        for table in tagger.cluster_embeddings:
            table.weight.normal_()  # they start at zero, which would hide a missing input
    batch = Encoder(vocabs, config.max_word_chars)([["dine", "in", "Boston"], ["stay", "there"]])
    assert (batch.cluster_ids[batch.mask] > 1).any()  # these words have clusters
    with torch.inference_mode():
        expected = tagger.emissions(batch).numpy()
    assert abs(network(tagger).emissions(batch) - expected)[batch.mask].max() < 1e-5
    with torch.no_grad():
        for table in tagger.cluster_embeddings:
            table.weight.zero_()
    with torch.inference_mode():
        without = tagger.emissions(batch).numpy()
    assert abs(network(tagger).emissions(batch) - without)[batch.mask].max() < 1e-5
    assert abs(without - expected)[batch.mask].max() > 1e-3
