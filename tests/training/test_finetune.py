"""Fine-tuning (`train --init`): a model grows to new words and labels and keeps the rest."""

import re

import pytest
import torch
from typer.testing import CliRunner

from data.example import Example, GoldSpan
from data.formats import parse_markup
from data.generate import generate
from model import artifact
from model.predictor import Predictor
from tests.conftest import TINY_TRAINING
from training.cli import app
from training.dataset import align, build_vocabs
from training.train import extend_vocabs, grow, train

AIRLINE = [
    parse_markup(line)
    for line in (
        "fly [airline united] from [dep Boston] to [dst Denver]",
        "a [airline delta] flight to [dst Paris] on [date Monday]",
        "on [airline united] from [dep Paris]",
        "[airline lufthansa] to [dst Tokyo] [date tomorrow]",
        "leave [dep Boston] on [airline delta]",
        "i want [airline lufthansa] from [dep denver] to [dst chicago]",
    )
]


def test_grown_network_keeps_every_weight_and_adds_rows(tiny_model_dir) -> None:
    old = artifact.load(tiny_model_dir).tagger
    new_vocabs = build_vocabs(align(AIRLINE).sentences, lexicon=old.vocabs.lexicon)
    vocabs = extend_vocabs(old.vocabs, new_vocabs)
    assert vocabs.words.items[: len(old.vocabs.words)] == old.vocabs.words.items
    assert "united" in vocabs.words and "united" not in old.vocabs.words
    assert vocabs.tags.items[-2:] == ("B-airline", "I-airline")
    grown = grow(old, vocabs)
    new_state = grown.state_dict()
    for key, value in old.state_dict().items():
        block = new_state[key][tuple(slice(0, n) for n in value.shape)]
        assert torch.equal(block, value), key
    assert grown.output.out_features == old.output.out_features + 2


def test_fine_tuning_learns_a_new_label_and_keeps_the_old_ones(tiny_model_dir, tmp_path) -> None:
    old = artifact.load(tiny_model_dir)
    config = TINY_TRAINING.model_copy(update={"epochs": 15, "patience": 15})
    data = [*AIRLINE, *(parse_markup(s) for s in ("arrive [dst Beijing] on [date Monday]",))]
    result = train(data, data, old.config, config, tmp_path / "ft", progress=False, init=old)
    assert result.meta.labels == ["airline", "date", "departure", "destination"]
    assert result.meta.initialized_from == f"tiny {old.meta.version}"
    spans = Predictor.from_dir(tmp_path / "ft").predict(["fly united from Boston to Denver"])[0]
    assert [(s.text, s.label) for s in spans.spans] == [
        ("united", "airline"),
        ("Boston", "departure"),
        ("Denver", "destination"),
    ]


def test_fine_tuning_refuses_another_network(tiny_model_dir, tmp_path) -> None:
    old = artifact.load(tiny_model_dir)
    other = old.config.model_copy(update={"hidden_dim": 32})
    with pytest.raises(ValueError, match=re.escape("hidden_dim 32 (the model has 16)")):
        train(AIRLINE, AIRLINE, other, TINY_TRAINING, tmp_path / "m", progress=False, init=old)


def test_cli_init_keeps_the_network_and_names_a_conflicting_option(tiny_model_dir, tmp_path):
    data = tmp_path / "airline.jsonl"
    data.write_text("\n".join(e.model_dump_json() for e in AIRLINE) + "\n")
    common = ["train", "--train", str(data), "--dev", str(data), "--init", str(tiny_model_dir)]
    refused = CliRunner().invoke(app, [*common, "--out", str(tmp_path / "a"), "--hidden-dim", "64"])
    assert refused.exit_code == 2, refused.output
    assert "hidden_dim 64 (the model has 16)" in refused.output
    assert not (tmp_path / "a").exists()
    run = CliRunner().invoke(
        app, [*common, "--out", str(tmp_path / "b"), "--epochs", "2", "--lr", "0.02"]
    )
    assert run.exit_code == 0, run.output
    model = artifact.load(tmp_path / "b")
    assert model.config == artifact.load(tiny_model_dir).config
    assert "airline" in model.meta.labels


def test_an_unreadable_init_model_is_one_line(tmp_path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text(
        Example(text="to Denver", spans=[GoldSpan(start=3, end=9, label="x")]).model_dump_json()
    )
    args = ["train", "--train", str(data), "--dev", str(data), "--out", str(tmp_path / "m")]
    result = CliRunner().invoke(app, [*args, "--init", str(tmp_path / "nowhere")])
    assert result.exit_code == 2
    assert "nowhere" in result.output and "Traceback" not in result.output


def test_the_fine_tuning_tables_sentences_keep_their_spans() -> None:
    from training.finetune_table import AIRLINES, airline_sentences

    originals = list(generate(1000, 300))
    changed = list(airline_sentences(1000, 300, AIRLINES))
    with_airline = 0
    for before, after in zip(originals, changed, strict=True):
        kept = [after.text[s.start : s.end] for s in after.spans if s.label != "airline"]
        assert kept == [before.text[s.start : s.end] for s in before.spans]
        airlines = [
            after.text[s.start : s.end].lower() for s in after.spans if s.label == "airline"
        ]
        assert all(a in {x.lower() for x in AIRLINES} for a in airlines)
        with_airline += bool(airlines)
    assert 200 < with_airline < 270  # four in five
    align(changed)  # no span overlaps another or covers no token
