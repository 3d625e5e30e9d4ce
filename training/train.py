"""train(): fit a BiLSTM-CRF, keep the epoch with the best dev F1, save it atomically."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm import tqdm

from data.example import Example
from model import artifact
from model.artifact import LoadedModel, ModelMeta
from model.config import TaggerConfig
from model.encode import Encoder
from model.predictor import Predictor
from model.tagger import BiLSTMTagger
from training.checkpoint import Checkpoint, checkpoint_dir
from training.checkpoint import remove as remove_checkpoint
from training.config import TrainConfig
from training.dataset import align, batches, build_lexicon, build_vocabs
from training.evaluate import Report, evaluate

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EpochLog:
    epoch: int
    loss: float
    dev_f1: float


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What training produced: where the model is, its dev report and the per-epoch history."""

    out_dir: Path
    meta: ModelMeta
    best_epoch: int
    dev_report: Report
    history: list[EpochLog]
    n_expanded: int


def data_sha256(examples: Sequence[Example]) -> str:
    """A fingerprint of the training data, stored in the model's metadata."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(example.model_dump_json().encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _predictor(tagger: BiLSTMTagger, name: str) -> Predictor:
    meta = ModelMeta(
        name=name, version="unsaved", created_at="", labels=artifact.labels_of(tagger.vocabs.tags)
    )
    return Predictor(LoadedModel(meta=meta, config=tagger.config, tagger=tagger, path=Path()))


def train(
    train_examples: Sequence[Example],
    dev_examples: Sequence[Example],
    tagger_config: TaggerConfig,
    train_config: TrainConfig,
    out_dir: str | Path,
    progress: bool = True,
    resume: bool = False,
) -> TrainResult:
    """Train a tagger and save the best epoch to ``out_dir``.

    The same examples, configs and seed give identical weights, also when the run was stopped and
    resumed from its checkpoint.

    Args:
        train_examples: the training set.
        dev_examples: scored after every epoch; the best micro F1 is kept (early stopping).
        tagger_config: the network.
        train_config: the optimisation.
        out_dir: where the model directory goes (replaced atomically).
        progress: show a progress bar per epoch on stderr.
        resume: go on from the checkpoint a stopped run left beside ``out_dir``.

    Returns:
        The result, with the dev report of the kept epoch.

    Raises:
        ValueError: no examples, or a checkpoint made with other data or settings.
    """
    if not train_examples:
        raise ValueError("expected at least one training example, got none")
    if not dev_examples:
        raise ValueError("expected at least one dev example, got none")
    torch.manual_seed(train_config.seed)
    torch.set_num_threads(train_config.threads)
    rng = random.Random(train_config.seed)
    aligned = align(train_examples)
    if aligned.n_expanded:
        log.warning(
            "%d of %d gold spans did not fall on token boundaries and were expanded to the tokens "
            "covering them",
            aligned.n_expanded,
            aligned.n_spans,
        )
    uses_lexicon = tagger_config.frequency_dim > 0 or tagger_config.gazetteer_dim > 0
    lexicon = build_lexicon() if uses_lexicon else None
    vocabs = build_vocabs(aligned.sentences, train_config.min_word_count, lexicon)
    tagger = BiLSTMTagger(tagger_config, vocabs)
    encoder = Encoder(
        vocabs, tagger_config.max_word_chars, place_holdout=train_config.place_holdout
    )
    optimizer = torch.optim.Adam(
        [p for p in tagger.parameters() if p.requires_grad], lr=train_config.lr
    )
    predictor = _predictor(tagger, train_config.name)
    fingerprint = {
        "train_data_sha256": data_sha256(train_examples),
        "tagger_config": tagger_config.model_dump(),
        "train_config": train_config.model_dump(exclude={"epochs", "patience", "threads"}),
    }
    best_f1, best_epoch, best_state, best_report = -1.0, 0, None, None
    history: list[EpochLog] = []
    first_epoch = 1
    if resume and (saved := Checkpoint.load(out_dir)) is not None:
        if {k: saved.info.get(k) for k in fingerprint} != json.loads(json.dumps(fingerprint)):
            raise ValueError(
                f"the checkpoint at {checkpoint_dir(out_dir)} was made with other data or "
                "settings; "
                "run without --resume to start over"
            )
        tagger.load_state_dict(saved.model)
        optimizer.load_state_dict(saved.optimizer)
        torch.set_rng_state(saved.torch_rng)
        rng.setstate(saved.python_rng)
        best_f1, best_epoch = saved.info["best_f1"], saved.info["best_epoch"]
        best_state = saved.best
        best_report = Report.from_json(saved.info["best_report"])
        history = [EpochLog(*h) for h in saved.info["history"]]
        first_epoch = saved.epoch + 1
        log.warning("resuming after epoch %d (best so far: epoch %d)", saved.epoch, best_epoch)
    for epoch in range(first_epoch, train_config.epochs + 1):
        if best_epoch and epoch - 1 - best_epoch >= train_config.patience:
            break
        tagger.train()
        total, steps = 0.0, 0
        n_batches = -(-len(aligned.sentences) // train_config.batch_size)
        epoch_batches = batches(aligned.sentences, encoder, train_config.batch_size, rng)
        bar = tqdm(
            epoch_batches, total=n_batches, desc=f"epoch {epoch}", disable=not progress, leave=False
        )
        for batch, tag_ids in bar:
            optimizer.zero_grad()
            loss = tagger.loss(batch, tag_ids)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(tagger.parameters(), train_config.clip)
            optimizer.step()
            total, steps = total + loss.item(), steps + 1
            if steps % 20 == 0:
                bar.set_postfix(loss=f"{total / steps:.3f}")
        tagger.eval()
        report = evaluate(predictor, dev_examples)
        history.append(EpochLog(epoch, total / max(steps, 1), report.micro.f1))
        log.info("epoch %d  loss %.4f  dev F1 %.4f", epoch, total / max(steps, 1), report.micro.f1)
        if progress:
            tqdm.write(
                f"epoch {epoch}: loss {total / max(steps, 1):.4f}  dev F1 {report.micro.f1:.4f}"
            )
        if report.micro.f1 > best_f1:
            best_f1, best_epoch, best_report = report.micro.f1, epoch, report
            best_state = copy.deepcopy(tagger.state_dict())
        assert best_state is not None and best_report is not None
        Checkpoint(
            epoch=epoch,
            model=tagger.state_dict(),
            best=best_state,
            optimizer=optimizer.state_dict(),
            torch_rng=torch.get_rng_state(),
            python_rng=rng.getstate(),
            info={
                **fingerprint,
                "best_f1": best_f1,
                "best_epoch": best_epoch,
                "best_report": best_report.to_json(),
                "history": [[h.epoch, h.loss, h.dev_f1] for h in history],
            },
        ).save(out_dir)
    assert best_state is not None and best_report is not None
    tagger.load_state_dict(best_state)
    tagger.eval()
    meta = artifact.save(
        out_dir,
        tagger,
        name=train_config.name,
        train_data_sha256=fingerprint["train_data_sha256"],
        dev_metrics={"best_epoch": best_epoch, **best_report.to_json()},
    )
    remove_checkpoint(out_dir)
    return TrainResult(Path(out_dir), meta, best_epoch, best_report, history, aligned.n_expanded)
