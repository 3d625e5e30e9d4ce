import logging
from typing import Any

import pytest
import torch

from data.example import Example, GoldSpan
from model import artifact
from model.predictor import Predictor
from tests.conftest import TINY_TAGGER, TINY_TRAINING
from training.evaluate import evaluate
from training.train import train


def test_same_data_and_seed_give_identical_weights(tiny_examples, tmp_path) -> None:
    config = TINY_TRAINING.model_copy(update={"epochs": 3, "patience": 3})
    train(tiny_examples, tiny_examples, TINY_TAGGER, config, tmp_path / "a", progress=False)
    train(tiny_examples, tiny_examples, TINY_TAGGER, config, tmp_path / "b", progress=False)
    a = artifact.load(tmp_path / "a").tagger.state_dict()
    b = artifact.load(tmp_path / "b").tagger.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_tiny_model_learns_its_set(tiny_model_dir) -> None:
    meta = artifact.load(tiny_model_dir).meta
    assert meta.dev_metrics["micro"]["f1"] == 1.0


def test_misaligned_gold_spans_are_expanded_and_reported(tiny_examples, tmp_path, caplog) -> None:
    odd = Example(text="to Bostonian", spans=[GoldSpan(start=3, end=9, label="destination")])
    config = TINY_TRAINING.model_copy(update={"epochs": 1})
    with caplog.at_level(logging.WARNING):
        result = train(
            [*tiny_examples, odd],
            tiny_examples,
            TINY_TAGGER,
            config,
            tmp_path / "m",
            progress=False,
        )
    assert result.n_expanded == 1
    assert "1 of 41 gold spans did not fall on token boundaries" in caplog.text


def test_labels_are_whatever_the_data_contains(tmp_path) -> None:
    examples = [
        Example(
            text="on united to denver",
            spans=[
                GoldSpan(start=3, end=9, label="airline"),
                GoldSpan(start=13, end=19, label="toloc.city_name"),
            ],
        ),
        Example(text="thanks", spans=[]),
    ]
    config = TINY_TRAINING.model_copy(update={"epochs": 2})
    result = train(examples, examples, TINY_TAGGER, config, tmp_path / "m", progress=False)
    assert result.meta.labels == ["airline", "toloc.city_name"]


@pytest.mark.parametrize("average", [0.0, 0.4])
def test_a_stopped_run_resumed_gives_the_same_model(
    average, tiny_examples, tmp_path, monkeypatch
) -> None:
    import training.train as training_module
    from training.checkpoint import checkpoint_dir

    config = TINY_TRAINING.model_copy(update={"epochs": 4, "patience": 4, "average": average})
    train(tiny_examples, tiny_examples, TINY_TAGGER, config, tmp_path / "straight", progress=False)
    assert not checkpoint_dir(tmp_path / "straight").exists()  # removed once the model is saved

    real_evaluate, calls = training_module.evaluate, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C during epoch 3
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(training_module, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(
            tiny_examples, tiny_examples, TINY_TAGGER, config, tmp_path / "resumed", progress=False
        )
    assert checkpoint_dir(tmp_path / "resumed").is_dir()
    assert not (tmp_path / "resumed").exists()
    monkeypatch.setattr(training_module, "evaluate", real_evaluate)
    result = train(
        tiny_examples,
        tiny_examples,
        TINY_TAGGER,
        config,
        tmp_path / "resumed",
        progress=False,
        resume=True,
    )
    a = artifact.load(tmp_path / "straight").tagger.state_dict()
    b = artifact.load(tmp_path / "resumed").tagger.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [h.epoch for h in result.history] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ({"epochs": 1}, {"epochs": 2, "lr": 0.5}),
        # the average's decay follows the budget: another --epochs would average differently
        ({"epochs": 1, "average": 0.4}, {"epochs": 3, "average": 0.4}),
    ],
    ids=["another learning rate", "an averaged run with another budget"],
)
def test_resume_with_other_settings_is_refused(
    first, then, tiny_examples, tmp_path, monkeypatch
) -> None:
    from training.checkpoint import Checkpoint

    config = TINY_TRAINING.model_copy(update=first)
    monkeypatch.setattr("training.train.remove_checkpoint", lambda out: None)  # keep it
    train(tiny_examples, tiny_examples, TINY_TAGGER, config, tmp_path / "m", progress=False)
    assert Checkpoint.load(tmp_path / "m") is not None
    other = TINY_TRAINING.model_copy(update=then)
    with pytest.raises(ValueError, match="was made with other data or settings"):
        train(
            tiny_examples,
            tiny_examples,
            TINY_TAGGER,
            other,
            tmp_path / "m",
            progress=False,
            resume=True,
        )


def test_a_checkpoint_from_before_the_average_and_cluster_options_resumes(
    tiny_examples, tmp_path, monkeypatch
) -> None:
    import json

    from training.checkpoint import checkpoint_dir

    config = TINY_TRAINING.model_copy(update={"epochs": 1})
    monkeypatch.setattr("training.train.remove_checkpoint", lambda out: None)
    train(tiny_examples, tiny_examples, TINY_TAGGER, config, tmp_path / "m", progress=False)
    state = checkpoint_dir(tmp_path / "m") / "state.json"
    info = json.loads(state.read_text())
    info["train_config"].pop("average", None)  # as older releases wrote it
    info["tagger_config"].pop("cluster_dim", None)
    state.write_text(json.dumps(info))
    result = train(
        tiny_examples,
        tiny_examples,
        TINY_TAGGER,
        config.model_copy(update={"epochs": 2}),
        tmp_path / "m",
        progress=False,
        resume=True,
    )
    assert [h.epoch for h in result.history] == [1, 2]


def test_dev_scores_during_training_use_the_current_crf(tiny_examples, tmp_path) -> None:
    """Each epoch's dev F1 is that of the weights at that epoch (the kept model scores the same)."""
    from model.predictor import Predictor
    from training.evaluate import evaluate

    result = train(
        tiny_examples, tiny_examples, TINY_TAGGER, TINY_TRAINING, tmp_path / "m", progress=False
    )
    report = evaluate(Predictor.from_dir(tmp_path / "m"), tiny_examples)
    assert report.micro.f1 == result.history[result.best_epoch - 1].dev_f1


def test_the_default_budget_follows_the_data_size() -> None:
    from training.config import TrainConfig

    # the shipped model's data: 1,250 batches an epoch
    shipped = TrainConfig().for_data_size(40_000)
    assert (shipped.epochs, shipped.patience) == (10, 3)
    atis = TrainConfig().for_data_size(4_478)  # ATIS-sized: 140 batches an epoch
    assert (atis.epochs, atis.patience) == (60, 18)
    assert TrainConfig().for_data_size(200_000).epochs == 10
    chosen = TrainConfig(epochs=5, patience=1).for_data_size(4_478)
    assert (chosen.epochs, chosen.patience) == (5, 1)


def test_the_average_spans_a_share_of_the_budget() -> None:
    from training.config import TrainConfig

    shipped = TrainConfig(average=0.4).for_data_size(40_000)  # 12,500 batches: a window of 5,000
    assert shipped.average_decay(40_000) == pytest.approx(0.9998)
    assert TrainConfig().for_data_size(40_000).average_decay(40_000) is None  # off by default
    tiny = TrainConfig(epochs=1, batch_size=4, average=0.5).for_data_size(4)
    assert tiny.average_decay(4) == 0.0  # a window under one batch: the weights as trained


def _train_recording_batches(examples, config, out) -> tuple[Any, list[list[torch.Tensor]]]:
    """Train, and each batch's trainable weights as Adam leaves them (the oracle's input)."""
    from torch.optim.optimizer import register_optimizer_step_post_hook

    steps: list[list[torch.Tensor]] = []

    def snapshot(optimizer, args, kwargs) -> None:
        steps.append([p.detach().clone() for g in optimizer.param_groups for p in g["params"]])

    handle = register_optimizer_step_post_hook(snapshot)
    try:
        result = train(examples, examples, TINY_TAGGER, config, out, progress=False)
    finally:
        handle.remove()
    return result, steps


def _moving_average(steps: list[list[torch.Tensor]], decay: float | None) -> list[torch.Tensor]:
    """The exponential moving average from the first batch's weights on (None: the last)."""
    expected = steps[0]
    for weights in steps[1:]:
        if decay is None:
            expected = weights
        else:
            expected = [decay * e + (1 - decay) * w for e, w in zip(expected, weights, strict=True)]
    return expected


def _kept_weights(out) -> list[torch.Tensor]:
    return [p for p in artifact.load(out).tagger.parameters() if p.requires_grad]


@pytest.mark.parametrize("average", [0.0, 0.4])
def test_the_kept_network_is_the_moving_average_of_every_batch(
    average, tiny_examples, tmp_path
) -> None:
    """Oracle: the average recomputed from each batch's weights, taken as Adam leaves them."""
    config = TINY_TRAINING.model_copy(update={"epochs": 1, "average": average})
    _, steps = _train_recording_batches(tiny_examples, config, tmp_path / "m")
    decay = config.for_data_size(len(tiny_examples)).average_decay(len(tiny_examples))
    expected = _moving_average(steps, decay)
    kept = _kept_weights(tmp_path / "m")
    assert len(steps) == -(-len(tiny_examples) // 4) and len(kept) == len(expected)  # batches of 4
    assert all(torch.allclose(k, e, atol=1e-6) for k, e in zip(kept, expected, strict=True))
    as_trained = all(torch.equal(k, w) for k, w in zip(kept, steps[-1], strict=True))
    assert as_trained == (decay is None)


def test_the_kept_average_is_the_one_of_the_best_epoch_not_the_last(
    tiny_examples, tmp_path, monkeypatch
) -> None:
    """Dev prefers epoch 1 (made so here): the model is the average after epoch 1's batches."""
    import dataclasses

    import training.train as training_module

    real_evaluate, calls = training_module.evaluate, []

    def first_epoch_best(*args, **kwargs):
        report = real_evaluate(*args, **kwargs)
        calls.append(1)
        worse = dataclasses.replace(report.micro, f1=report.micro.f1 - (len(calls) - 1))
        return dataclasses.replace(report, micro=worse)

    monkeypatch.setattr(training_module, "evaluate", first_epoch_best)
    config = TINY_TRAINING.model_copy(update={"epochs": 3, "patience": 3, "average": 0.4})
    result, steps = _train_recording_batches(tiny_examples, config, tmp_path / "m")
    assert result.best_epoch == 1 and len(calls) == 3
    decay = config.for_data_size(len(tiny_examples)).average_decay(len(tiny_examples))
    expected = _moving_average(steps[: len(steps) // 3], decay)
    kept = _kept_weights(tmp_path / "m")
    assert all(torch.allclose(k, e, atol=1e-6) for k, e in zip(kept, expected, strict=True))


def many_label_examples(n_labels: int = 120) -> list[Example]:
    """Each label (ATIS-style names: dots and underscores) has its own trigger word and comes
    twice, each time beside another label's word."""
    labels = [f"slot_{k // 10}.part_{k % 10}" for k in range(n_labels)]
    words = [f"{chr(97 + k // 26)}{chr(97 + k % 26)}x" for k in range(n_labels)]
    examples = []
    for k in range(n_labels):
        a, b = words[k], words[(k * 7 + 3) % n_labels]
        first, second = 7, 7 + len(a) + 5
        examples.append(
            Example(
                text=f"please {a} and {b} now",
                spans=[
                    GoldSpan(start=first, end=first + len(a), label=labels[k]),
                    GoldSpan(
                        start=second, end=second + len(b), label=labels[(k * 7 + 3) % n_labels]
                    ),
                ],
            )
        )
    return examples


def test_a_set_with_120_labels_trains_and_is_learnt(tmp_path) -> None:
    examples = many_label_examples()
    tagger = TINY_TAGGER.model_copy(
        update={"tokenizer": "whitespace", "char_dim": 0, "word_dim": 32, "hidden_dim": 32}
    )
    tagger = tagger.model_copy(update={"frequency_dim": 0, "gazetteer_dim": 0})
    config = TINY_TRAINING.model_copy(
        update={"epochs": 6, "patience": 6, "batch_size": 16, "lr": 0.05}
    )
    train(examples, examples[:20], tagger, config, tmp_path / "m", progress=False)
    loaded = artifact.load(tmp_path / "m")
    assert len(loaded.meta.labels) == 120
    assert len(loaded.vocabs.tags) == 241  # O, then B- and I- of each label
    report = evaluate(Predictor.from_dir(tmp_path / "m"), examples)
    assert report.micro.f1 >= 0.95
    assert len(report.labels) == 120
    assert all(s.support == 2 for s in report.labels.values())


def test_a_network_with_word_clusters_trains_saves_loads_and_fine_tunes(
    tiny_examples, tmp_path
) -> None:
    """--cluster-dim end to end: the trained cluster vectors are saved with the lexicon's
    clusters, the loaded model answers alike on both backends, and a fine-tune keeps them."""
    tagger = TINY_TAGGER.model_copy(update={"cluster_dim": 4})
    config = TINY_TRAINING.model_copy(update={"epochs": 3, "patience": 3})
    train(tiny_examples, tiny_examples, tagger, config, tmp_path / "m", progress=False)
    loaded = artifact.load(tmp_path / "m")
    assert loaded.config.cluster_dim == 4
    lexicon = loaded.vocabs.lexicon
    assert (
        lexicon.cluster_ids("Denver") == lexicon.cluster_ids("denver") != lexicon.cluster_ids("to")
    )
    assert loaded.tagger.cluster_embeddings is not None
    trained = [t.weight.detach().clone() for t in loaded.tagger.cluster_embeddings]
    assert all(w.abs().sum() > 0 for w in trained)  # learnt from zero
    texts = ["leave Denver on March 4th", "from Miami to Atlanta", "thank you"]
    eager = Predictor.from_dir(tmp_path / "m", backend="torch").predict(texts)
    served = Predictor.from_dir(tmp_path / "m", backend="onnx").predict(texts)
    assert [p.tags for p in served] == [p.tags for p in eager]
    one_epoch = config.model_copy(update={"epochs": 1, "patience": 1, "lr": 1e-9})
    train(tiny_examples, tiny_examples, tagger, one_epoch, tmp_path / "ft", False, init=loaded)
    tuned = artifact.load(tmp_path / "ft")
    assert tuned.vocabs.lexicon.clusters == lexicon.clusters
    for before, after in zip(trained, tuned.tagger.cluster_embeddings, strict=True):
        assert torch.allclose(before, after.weight, atol=1e-6)  # kept (a near-zero step)


def _weights(model_dir) -> dict[str, torch.Tensor]:
    return artifact.load(model_dir).tagger.state_dict()


# The tiny ensemble several tests start from or compare with: two members, seeds 5 and 6.
ENSEMBLE = TINY_TRAINING.model_copy(update={"epochs": 2, "patience": 2, "members": 2, "seed": 5})


@pytest.fixture(scope="module")
def tiny_ensemble(tiny_examples, tmp_path_factory):
    out = tmp_path_factory.mktemp("ensemble") / "ensemble"
    return train(tiny_examples, tiny_examples, TINY_TAGGER, ENSEMBLE, out, progress=False)


def test_an_ensemble_is_its_members_trained_alone_then_merged(
    tiny_ensemble, tiny_examples, tmp_path
) -> None:
    from model.ensemble import merge
    from training.train import members_dir

    alone = []
    for seed in (5, 6):  # seed, seed + 1
        out = tmp_path / f"seed-{seed}"
        config = ENSEMBLE.model_copy(update={"members": 1, "seed": seed})
        train(tiny_examples, tiny_examples, TINY_TAGGER, config, out, progress=False)
        alone.append(artifact.load(out).tagger)
    expected = merge(alone).state_dict()
    got = _weights(tiny_ensemble.out_dir)
    assert got.keys() == expected.keys()
    assert all(torch.equal(got[k], expected[k]) for k in got)
    meta = tiny_ensemble.meta
    assert [m["seed"] for m in meta.dev_metrics["members"]] == [5, 6]
    assert [len(m["history"]) for m in meta.dev_metrics["members"]] == [2, 2]
    assert meta.dev_metrics["micro"]["f1"] == round(tiny_ensemble.dev_report.micro.f1, 4)
    assert [m.best_epoch for m in tiny_ensemble.members] == [
        m["best_epoch"] for m in meta.dev_metrics["members"]
    ]
    assert not members_dir(tiny_ensemble.out_dir).exists()  # the members go once merged
    assert artifact.load(tiny_ensemble.out_dir).config.members == 2


def test_a_stopped_ensemble_resumed_keeps_the_members_it_finished(
    tiny_ensemble, tiny_examples, tmp_path, monkeypatch
) -> None:
    import training.train as training_module
    from training.train import members_dir

    config = ENSEMBLE
    real_evaluate, calls = training_module.evaluate, []

    def counted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt  # Ctrl-C in member 2's second epoch
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(training_module, "evaluate", counted)
    with pytest.raises(KeyboardInterrupt):
        train(tiny_examples, tiny_examples, TINY_TAGGER, config, tmp_path / "m", progress=False)
    assert (members_dir(tmp_path / "m") / "member-1").is_dir()
    assert not (tmp_path / "m").exists()
    calls.clear()
    train(
        tiny_examples,
        tiny_examples,
        TINY_TAGGER,
        config,
        tmp_path / "m",
        progress=False,
        resume=True,
    )
    # member 1 kept as it was; member 2 goes on from its first epoch's checkpoint (epoch 2),
    # then the merged network is scored once
    assert len(calls) == 2
    a, b = _weights(tiny_ensemble.out_dir), _weights(tmp_path / "m")
    assert all(torch.equal(a[k], b[k]) for k in a)


def _stopped_after_member_1(examples, out, monkeypatch) -> None:
    """ENSEMBLE trained into ``out`` and stopped (Ctrl-C) in member 2's first epoch."""
    import training.train as training_module

    monkeypatch.setattr(training_module, "evaluate", _interrupt_at(3))
    with pytest.raises(KeyboardInterrupt):
        train(examples, examples, TINY_TAGGER, ENSEMBLE, out, progress=False)
    monkeypatch.undo()


def test_an_ensemble_resumed_with_other_settings_is_refused(
    tiny_examples, tmp_path, monkeypatch
) -> None:
    _stopped_after_member_1(tiny_examples, tmp_path / "m", monkeypatch)
    other = ENSEMBLE.model_copy(update={"lr": 0.05})
    with pytest.raises(ValueError, match="member-1 was trained with other data or settings"):
        train(
            tiny_examples,
            tiny_examples,
            TINY_TAGGER,
            other,
            tmp_path / "m",
            progress=False,
            resume=True,
        )


@pytest.mark.parametrize(
    ("tagger", "init", "message"),
    [
        ({"members": 2}, False, "members are trained one network each"),
        ({}, True, r"cannot start from a model \(--init\)"),
    ],
)
def test_an_ensemble_that_cannot_be_made_is_refused_before_training(
    tagger, init, message, tiny_examples, tiny_model_dir, tmp_path
) -> None:
    config = TINY_TRAINING.model_copy(update={"epochs": 1, "members": 2})
    start = artifact.load(tiny_model_dir) if init else None
    with pytest.raises(ValueError, match=message):
        train(
            tiny_examples,
            tiny_examples,
            TINY_TAGGER.model_copy(update=tagger),
            config,
            tmp_path / "m",
            progress=False,
            init=start,
        )
    assert not (tmp_path / "m").exists()


def test_a_merged_model_fine_tunes_as_one_tagger_of_its_networks(
    tiny_ensemble, tiny_examples, tmp_path
) -> None:
    config = ENSEMBLE
    start = artifact.load(tiny_ensemble.out_dir)
    airline = Example(text="on united to denver", spans=[GoldSpan(start=3, end=9, label="airline")])
    tuned = config.model_copy(update={"members": 1, "epochs": 3, "patience": 3})
    result = train(
        [*tiny_examples, airline] * 2,
        [airline],
        start.config,
        tuned,
        tmp_path / "tuned",
        progress=False,
        init=start,
    )
    assert result.meta.labels == ["airline", "date", "departure", "destination"]
    loaded = artifact.load(tmp_path / "tuned")
    assert loaded.config.members == 2
    # each network grew the new label's rows: the two output layers, the one CRF
    assert [n.output.out_features for n in loaded.tagger.members] == [9, 9]
    assert loaded.tagger.crf.num_tags == 9
    assert Predictor.from_dir(tmp_path / "tuned").predict(["on united to denver"])[0].spans


def test_a_network_of_members_is_made_by_merging_not_trained_at_once(
    tiny_examples, tmp_path
) -> None:
    with pytest.raises(ValueError, match="made by merging trained ones"):
        train(
            tiny_examples,
            tiny_examples,
            TINY_TAGGER.model_copy(update={"members": 2}),
            TINY_TRAINING.model_copy(update={"epochs": 1}),
            tmp_path / "m",
            progress=False,
        )


def test_a_stopped_ensemble_resumed_without_its_members_is_refused(
    tiny_examples, tmp_path, monkeypatch
) -> None:
    from training.train import members_dir

    _stopped_after_member_1(tiny_examples, tmp_path / "m", monkeypatch)
    assert members_dir(tmp_path / "m").is_dir()
    alone = ENSEMBLE.model_copy(update={"members": 1})
    with pytest.raises(ValueError, match="holds the members of a stopped ensemble"):
        train(
            tiny_examples,
            tiny_examples,
            TINY_TAGGER,
            alone,
            tmp_path / "m",
            progress=False,
            resume=True,
        )


def _interrupt_at(call: int):
    """training.train's evaluate, raising KeyboardInterrupt (Ctrl-C) at its ``call``-th call."""
    import training.train as training_module

    real, calls = training_module.evaluate, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    return interrupted


def test_members_side_by_side_stopped_and_resumed_give_the_members_one_after_the_other(
    tiny_ensemble, tiny_examples, tmp_path, monkeypatch, capfd
) -> None:
    """Two members in two processes of one thread each (the default 2 threads) give the model
    two members trained one after the other on one thread give; stopped once member 1 has
    finished and resumed, member 2 trains alone, still on one thread, to the same model."""
    import shutil

    import training.train as training_module
    from training.train import members_dir

    config = ENSEMBLE.model_copy(update={"threads": 2})  # tiny_ensemble's on one thread
    work = members_dir(tmp_path / "m")
    real_rmtree = shutil.rmtree
    monkeypatch.setattr(training_module.shutil, "rmtree", lambda path, **k: None)
    train(tiny_examples, tiny_examples, TINY_TAGGER, config, tmp_path / "m", progress=True)
    monkeypatch.undo()
    side_by_side = _weights(tmp_path / "m")
    out = capfd.readouterr().out  # the members' processes write to the same stdout
    assert "members 1, 2 of 2: 2 at a time, 1 thread each" in out
    assert "member 2: epoch 2: loss" in out  # each member's lines, named
    # What a stop while member 2 trained leaves: member 1 saved, the fingerprints of both
    # (written before they started), no model yet.
    real_rmtree(work / "member-2")
    real_rmtree(tmp_path / "m")
    result = train(
        tiny_examples,
        tiny_examples,
        TINY_TAGGER,
        config,
        tmp_path / "m",
        progress=False,
        resume=True,
    )
    a, b = _weights(tiny_ensemble.out_dir), _weights(tmp_path / "m")
    assert all(torch.equal(a[k], side_by_side[k]) for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert result.n_expanded == 0 and not work.exists()
