"""The saved-model format: round trip, atomic replacement, and each way a directory can be bad."""

import dataclasses
import json
import pickle
import shutil
from pathlib import Path

import pytest
import torch

from model import artifact
from model.errors import CorruptModelError, IncompatibleModelError, ModelNotFoundError
from model.predictor import Predictor
from model.tagger import BiLSTMTagger

TEXTS = ["leave Beijing on November 2nd", "arrive Boston on Monday", "from Miami to Atlanta"]


def copy_model(src: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "model"
    shutil.copytree(src, dst)
    return dst


def test_save_then_load_gives_identical_weights_and_predictions(tiny_model_dir, tmp_path) -> None:
    loaded = artifact.load(tiny_model_dir)
    out = tmp_path / "again"
    meta = artifact.save(out, loaded.tagger, name="again")
    reloaded = artifact.load(out)
    for key, value in loaded.tagger.state_dict().items():
        assert torch.equal(value, reloaded.tagger.state_dict()[key])
    assert meta.version == loaded.meta.version  # the version is the weights' hash
    assert Predictor(reloaded).predict(TEXTS) == Predictor(loaded).predict(TEXTS)


def test_meta_records_what_a_person_needs(tiny_model_dir) -> None:
    meta = json.loads((tiny_model_dir / "meta.json").read_text())
    assert meta["format"] == "slot-tagger" and meta["format_version"] == 2
    assert meta["labels"] == ["date", "departure", "destination"]
    assert len(meta["train_data_sha256"]) == 64
    assert set(meta["versions"]) == {"slot_tagger", "torch", "spacy", "python"}
    assert meta["dev_metrics"]["micro"]["f1"] > 0.9


def test_wrong_format_version_fails_with_the_exact_message(tiny_model_dir, tmp_path) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    meta = json.loads((model / "meta.json").read_text())
    (model / "meta.json").write_text(json.dumps({**meta, "format_version": 4}))
    with pytest.raises(IncompatibleModelError) as e:
        artifact.load(model)
    assert str(e.value) == (
        f"model at {model} has format_version 4; this slot-tagger reads 1, 2 and 3 — retrain "
        "with `slot-tagger train` or install a matching release"
    )


def test_a_format_1_model_without_a_lexicon_still_loads_and_tags(tiny_model_dir, tmp_path) -> None:
    # Format 1 as the first release wrote it: no lexicon.json, no frequency, cluster or gazetteer
    # sizes, no exported graph.
    loaded = artifact.load(tiny_model_dir)
    no_lexicon = {"frequency_dim": 0, "cluster_dim": 0, "gazetteer_dim": 0}
    config = loaded.config.model_copy(update=no_lexicon)
    vocabs = dataclasses.replace(loaded.tagger.vocabs, lexicon=None)
    old = tmp_path / "old"
    artifact.save(old, BiLSTMTagger(config, vocabs), name="old", graph=False)
    meta, raw_config = (json.loads((old / f).read_text()) for f in ("meta.json", "config.json"))
    (old / "meta.json").write_text(json.dumps({**meta, "format_version": 1}))
    for size in no_lexicon:
        raw_config.pop(size, None)
    (old / "config.json").write_text(json.dumps(raw_config))
    assert not (old / "lexicon.json.gz").exists()
    reloaded = artifact.load(old)
    assert reloaded.meta.format_version == 1 and reloaded.tagger.vocabs.lexicon is None
    # the same weights written as format 2 tag the same: the migration loses nothing
    new = tmp_path / "new"
    artifact.save(new, reloaded.tagger, name="new")
    as_v1, as_v2 = Predictor.from_dir(old).predict(TEXTS), Predictor.from_dir(new).predict(TEXTS)
    assert [(p.tags, p.spans) for p in as_v1] == [(p.tags, p.spans) for p in as_v2]


def test_a_model_without_word_clusters_keeps_the_files_of_before_them(
    tiny_model_dir, tmp_path
) -> None:
    """A network without the cluster input is saved as before the option (no cluster_dim in
    config.json, no clusters in the lexicon: the same files, so the same version for the same
    weights, as the default model shipped before them) and answers the same once loaded."""
    import gzip

    loaded = artifact.load(tiny_model_dir)
    assert loaded.config.cluster_dim == 0
    saved = tmp_path / "saved"
    artifact.save(saved, loaded.tagger, name="again")
    assert "cluster_dim" not in json.loads((saved / "config.json").read_text())
    assert "clusters" not in json.loads(gzip.decompress((saved / "lexicon.json.gz").read_bytes()))
    tags = [p.tags for p in Predictor(loaded).predict(TEXTS)]  # (saved without its calibration)
    for backend in ("torch", "onnx"):
        assert [p.tags for p in Predictor.from_dir(saved, backend=backend).predict(TEXTS)] == tags


def test_a_missing_lexicon_is_reported_by_name(tiny_model_dir, tmp_path) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    (model / "lexicon.json.gz").unlink()
    with pytest.raises(ModelNotFoundError, match="is missing lexicon.json.gz"):
        artifact.load(model)


def test_a_corrupt_lexicon_is_a_corrupt_model(tiny_model_dir, tmp_path) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    (model / "lexicon.json.gz").write_bytes(b"not gzip")
    with pytest.raises(CorruptModelError, match="not readable gzipped JSON"):
        artifact.load(model)


def test_missing_directory_and_missing_file_are_not_found(tiny_model_dir, tmp_path) -> None:
    with pytest.raises(ModelNotFoundError, match="no model directory at"):
        artifact.load(tmp_path / "nothing")
    model = copy_model(tiny_model_dir, tmp_path)
    (model / "vocab.json").unlink()
    with pytest.raises(ModelNotFoundError, match="is missing vocab.json"):
        artifact.load(model)


def test_truncated_weights_are_corrupt(tiny_model_dir, tmp_path) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    data = (model / "weights.safetensors").read_bytes()
    (model / "weights.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptModelError, match="unreadable weights"):
        artifact.load(model)


def test_a_pickle_in_place_of_the_weights_is_refused_without_running_it(
    tiny_model_dir, tmp_path
) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (marker.touch, ())

    (model / "weights.safetensors").write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(CorruptModelError):
        artifact.load(model)
    assert not marker.exists()


def test_labels_that_do_not_match_the_weights_are_corrupt(tiny_model_dir, tmp_path) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    vocab = json.loads((model / "vocab.json").read_text())
    vocab["tags"] += ["B-airline", "I-airline"]
    (model / "vocab.json").write_text(json.dumps(vocab))
    meta = json.loads((model / "meta.json").read_text())
    (model / "meta.json").write_text(json.dumps({**meta, "labels": [*meta["labels"], "airline"]}))
    with pytest.raises(CorruptModelError, match="weights do not match"):
        artifact.load(model)
    meta["labels"] = ["date"]
    (model / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(CorruptModelError, match="do not match the tags"):
        artifact.load(model)


def test_a_crash_mid_save_leaves_the_previous_model_byte_identical(
    tiny_model_dir, tmp_path, monkeypatch
) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    before = {p.name: p.read_bytes() for p in model.iterdir()}
    loaded = artifact.load(model)

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(artifact.os, "fsync", fail)
    with pytest.raises(KeyboardInterrupt):
        artifact.save(model, loaded.tagger, name="new")
    assert {p.name: p.read_bytes() for p in model.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary directory left behind
    artifact.load(model)


def files_of(model: Path) -> dict[str, bytes]:
    names = [name for name in artifact.ANSWER_FILES if (model / name).exists()]
    return {name: (model / name).read_bytes() for name in names}


def test_the_version_covers_weights_config_vocabularies_and_calibration(
    tiny_model_dir, tmp_path
) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    first = artifact.load(model).meta.version
    assert first == artifact.version_of(files_of(model), {})
    calibrated = artifact.store_calibration(model, {"temperature": 1.5, "min_confidence": 0.5})
    assert calibrated.version != first and artifact.load(model).meta.version == calibrated.version
    # figures about the fit change no answer, and so no version
    refit = artifact.store_calibration(
        model, {"temperature": 1.5, "min_confidence": 0.5, "ece_before": 0.1, "spans": 9.0}
    )
    assert refit.version == calibrated.version
    # an explicit temperature of 1 and no floor are the uncalibrated model
    assert artifact.store_calibration(model, {"temperature": 1.0}).version == first
    files = files_of(model)
    for name in ("weights.safetensors", "config.json", "vocab.json", "lexicon.json.gz"):
        changed = {**files, name: files[name] + b" "}
        assert artifact.version_of(changed, {}) != first, name


def test_a_model_saved_before_the_version_covered_calibration_loads_with_the_new_version(
    tiny_model_dir, tmp_path
) -> None:
    """Such a directory records the weights' hash alone; it is read with the version computed
    from its files, so a model recalibrated by an older release still shows a new version."""
    import hashlib

    model = copy_model(tiny_model_dir, tmp_path)
    meta = json.loads((model / "meta.json").read_text())
    weights_only = hashlib.sha256((model / "weights.safetensors").read_bytes()).hexdigest()[:12]
    calibration = {"temperature": 1.6, "min_confidence": 0.5}
    (model / "meta.json").write_text(
        json.dumps({**meta, "version": weights_only, "calibration": calibration})
    )
    expected = artifact.version_of(files_of(model), calibration)
    assert expected != weights_only
    assert artifact.load(model).meta.version == artifact.read_meta(model).version == expected
    assert Predictor.from_dir(model).temperature == 1.6


def test_a_crash_while_storing_a_calibration_leaves_the_model_byte_identical(
    tiny_model_dir, tmp_path, monkeypatch
) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    before = {p.name: p.read_bytes() for p in model.iterdir()}

    def fail(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(artifact.os, "fsync", fail)
    with pytest.raises(KeyboardInterrupt):
        artifact.store_calibration(model, {"temperature": 2.0})
    assert {p.name: p.read_bytes() for p in model.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_another_calibration_is_a_new_predictor_sharing_the_network(tiny_model_dir) -> None:
    from model.artifact import Calibration

    predictor = Predictor.from_dir(tiny_model_dir)
    hotter = predictor.with_calibration(Calibration(temperature=3.0))
    assert (predictor.temperature, hotter.temperature) == (1.0, 3.0)
    assert hotter.network is predictor.network and hotter.encoder is predictor.encoder
    [cool], [hot] = predictor.predict([TEXTS[0]]), hotter.predict([TEXTS[0]])
    assert cool.tags == hot.tags  # the best path does not change
    assert all(h.confidence < c.confidence for c, h in zip(cool.spans, hot.spans, strict=True))


def _rewrite_weights(model: Path, change) -> None:
    """Change the weights and record the version the files then give, as a save would."""
    import safetensors.torch

    state = safetensors.torch.load((model / "weights.safetensors").read_bytes())
    change(state)
    (model / "weights.safetensors").write_bytes(safetensors.torch.save(state))
    meta = json.loads((model / "meta.json").read_text())
    meta["version"] = artifact.version_of(files_of(model), meta["calibration"])
    (model / "meta.json").write_text(json.dumps(meta))


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_weights_that_are_not_finite_are_refused(tiny_model_dir, tmp_path, bad) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    _rewrite_weights(model, lambda state: state["crf.transitions"].fill_(bad))
    with pytest.raises(CorruptModelError) as e:
        artifact.load(model)
    assert str(e.value) == (
        f"model at {model}: weights 'crf.transitions' hold NaN or infinite values; retrain it"
    )


def test_a_recorded_version_the_files_do_not_give_is_refused(tiny_model_dir, tmp_path) -> None:
    model = copy_model(tiny_model_dir, tmp_path)
    recorded = json.loads((model / "meta.json").read_text())["version"]
    other = copy_model(tiny_model_dir, tmp_path / "other")
    _rewrite_weights(other, lambda state: state["crf.transitions"].mul_(2))
    shutil.copy(other / "weights.safetensors", model / "weights.safetensors")  # copied over
    given = artifact.version_of(files_of(model), {})
    with pytest.raises(CorruptModelError) as e:
        artifact.load(model)
    assert str(e.value) == (
        f"model at {model}: meta.json records version {recorded!r} but its files give "
        f"{given!r}; the files were changed after it was saved — save it again with "
        "`slot-tagger train` (or model.artifact.save)"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hidden_dim": 10**9}, "its config cannot build a network"),
        ({"hidden_dim": 4096}, "weights do not match its config and vocabularies"),
        ({"max_word_chars": 10**9}, "invalid config.json"),
        ({"word_dim": "9" * 5000}, "is not readable JSON"),
    ],
)
def test_an_absurd_config_is_refused_in_one_line(tiny_model_dir, tmp_path, change, message):
    model = copy_model(tiny_model_dir, tmp_path)
    config = json.loads((model / "config.json").read_text())
    text = json.dumps({**config, **change})
    (model / "config.json").write_text(text.replace('"' + "9" * 5000 + '"', "9" * 5000))
    with pytest.raises(CorruptModelError, match=message) as e:
        artifact.load(model)
    assert "\n" not in str(e.value)


def test_a_save_removes_the_copies_a_killed_save_left(tiny_model_dir, tmp_path) -> None:
    import os

    model = copy_model(tiny_model_dir, tmp_path)
    dead = tmp_path / ".model.tmp-999999999-abc"  # a pid no process has
    legacy = tmp_path / ".model.tmp-k3j2"  # written before copies named their process
    running = tmp_path / f".model.tmp-{os.getppid()}-xyz"  # a save still running
    for copy in (dead, legacy, running):
        copy.mkdir()
        (copy / "weights.safetensors").write_bytes(b"half")
    artifact.save(model, artifact.load(model).tagger, name="again")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model", running.name])
