"""train(): fit a BiLSTM-CRF, keep the epoch with the best dev F1, save it atomically."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import logging
import multiprocessing
import os
import random
import shutil
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from pydantic import ValidationError
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from tqdm import tqdm

from data.example import Example
from model import artifact
from model.artifact import LoadedModel, ModelMeta
from model.config import TaggerConfig
from model.encode import Encoder, Vocabs
from model.ensemble import merge
from model.errors import ModelError
from model.predictor import Predictor
from model.tagger import BiLSTMTagger
from model.vocab import Vocab
from training.checkpoint import Checkpoint, checkpoint_dir
from training.checkpoint import remove as remove_checkpoint
from training.config import TrainConfig
from training.dataset import Aligned, align, batches, build_lexicon, build_vocabs
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
    # An ensemble's members, each as trained on its own (model.ensemble); empty for one network,
    # and then best_epoch and history are the network's own.
    members: list[TrainResult] = field(default_factory=list)


def data_sha256(examples: Sequence[Example]) -> str:
    """A fingerprint of the training data, stored in the model's metadata."""
    digest = hashlib.sha256()
    for example in examples:
        digest.update(json.dumps(example.to_json(), ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def train(
    train_examples: Sequence[Example],
    dev_examples: Sequence[Example],
    tagger_config: TaggerConfig,
    train_config: TrainConfig,
    out_dir: str | Path,
    progress: bool = True,
    resume: bool = False,
    init: LoadedModel | None = None,
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
        init: a trained model (loaded with its tagger) to start from instead of fresh weights:
            fine-tuning. Its network and lexicon are kept; words, characters and labels the
            training data adds get new rows (see :func:`grow`). ``tagger_config`` must then be
            the model's own.

    Returns:
        The result, with the dev report of the kept epoch.

    Raises:
        ValueError: no examples, a checkpoint made with other data or settings, or an ``init``
            model with another network than ``tagger_config``.
    """
    _check(train_examples, dev_examples)
    if train_config.members > 1:
        if tagger_config.members > 1:
            raise ValueError(
                "members are trained one network each: leave the network's members at 1"
            )
        return _train_members(
            train_examples,
            dev_examples,
            tagger_config,
            train_config,
            out_dir,
            progress,
            resume,
            init,
        )
    if init is None and tagger_config.members > 1:
        raise ValueError(
            f"a tagger of {tagger_config.members} networks is made by merging trained ones: "
            f"train with {tagger_config.members} members (--members), each of one network"
        )
    if resume and members_dir(out_dir).exists():
        raise ValueError(
            f"{members_dir(out_dir)} holds the members of a stopped ensemble: resume with the "
            "--members it was started with, or run without --resume to start over"
        )
    return _train_one(
        train_examples, dev_examples, tagger_config, train_config, out_dir, progress, resume, init
    )


def _train_one(
    train_examples: Sequence[Example],
    dev_examples: Sequence[Example],
    tagger_config: TaggerConfig,
    train_config: TrainConfig,
    out_dir: str | Path,
    progress: bool,
    resume: bool,
    init: LoadedModel | None,
    label: str = "",
) -> TrainResult:
    """:func:`train` for one network. ``label`` names it in the progress lines (an ensemble's
    member trained beside others, whose progress bars would overwrite each other: it gets none)."""
    if init is not None and init.config != tagger_config:
        raise ValueError(_config_mismatch(init.config, tagger_config))
    train_config = train_config.for_data_size(len(train_examples))
    budget = f"up to {train_config.epochs} epochs, patience {train_config.patience}"
    log.info("%s", budget)
    if progress:
        tqdm.write(f"{label}{len(train_examples):,} training sentences: {budget}")
    rng = _seed(train_config)
    aligned = _align(train_examples, tagger_config)
    decay = train_config.average_decay(len(train_examples))
    run = _Run.start(aligned, tagger_config, train_config, rng, init, decay)
    fingerprint = _fingerprint(train_examples, tagger_config, train_config, decay)
    if init is not None:
        fingerprint["init"] = init.meta.version
    if resume:
        _resume(run, out_dir, fingerprint)
    for epoch in range(run.next_epoch, train_config.epochs + 1):
        if run.out_of_patience(epoch, train_config.patience):
            break
        loss = _train_epoch(run, aligned, train_config, epoch, progress and not label)
        report = evaluate(run.predictor, dev_examples)
        _log_epoch(epoch, loss, report, progress, run.average is not None, label)
        run.keep_if_best(epoch, loss, report)
        _checkpoint(run, epoch, out_dir, fingerprint)
    meta = _save_best(
        run,
        out_dir,
        train_config.name,
        fingerprint["train_data_sha256"],
        None if init is None else f"{init.meta.name} {init.meta.version}",
    )
    remove_checkpoint(out_dir)
    assert run.best_report is not None
    return TrainResult(
        Path(out_dir), meta, run.best_epoch, run.best_report, run.history, aligned.n_expanded
    )


def _train_members(
    train_examples: Sequence[Example],
    dev_examples: Sequence[Example],
    tagger_config: TaggerConfig,
    train_config: TrainConfig,
    out_dir: str | Path,
    progress: bool,
    resume: bool,
    init: LoadedModel | None,
) -> TrainResult:
    """``train_config.members`` taggers, each trained as :func:`train` trains one (its own seed,
    early stopping and kept epoch), then merged into one tagger that scores their mean
    (model.ensemble.merge) and saved at ``out_dir``.

    With ``train_config.threads`` of 2 or more, members train side by side in processes of their
    own, the threads shared out among them (two members on 2 threads: one each); otherwise one
    after the other. Each member's weights follow from its seed and threads alone.

    The members are saved as they finish in a work directory beside ``out_dir``
    (``.<name>.members``), each with its checkpoint while it trains: a stopped run resumed with the
    same data and settings keeps the members it finished and goes on with the one it was
    training. The work directory goes once the merged model is saved."""
    if init is not None:
        raise ValueError(
            "--members trains fresh networks and cannot start from a model (--init); leave it "
            "out to fine-tune the model as it is"
        )
    work = members_dir(out_dir)
    if not resume:
        shutil.rmtree(work, ignore_errors=True)
    count = train_config.members
    # One process per member while there are threads for them, the threads shared out: torch runs
    # an epoch of this network on two threads only 1.1-1.3 times as fast as on one (README). A
    # member's weights follow from its seed and its threads, so a resumed run gives it the same
    # threads as the run it goes on from.
    processes = min(count, train_config.threads)
    threads = train_config.threads // processes
    configs = [
        train_config.model_copy(
            update={"members": 1, "seed": train_config.seed + k, "threads": threads}
        )
        for k in range(count)
    ]
    outs = [work / f"member-{k + 1}" for k in range(count)]
    results: list[TrainResult | None] = [
        _finished_member(out, train_examples, tagger_config, config) if resume else None
        for out, config in zip(outs, configs, strict=True)
    ]
    todo = [k for k in range(count) if results[k] is None]
    for k in todo:  # before it trains: a member is kept on resume only if made with the same
        _write_fingerprint(outs[k], train_examples, tagger_config, configs[k])
    jobs = [
        (train_examples, dev_examples, tagger_config, configs[k], outs[k], progress, resume, None)
        for k in todo
    ]
    if min(len(todo), processes) > 1:
        if progress:
            tqdm.write(
                f"members {', '.join(str(k + 1) for k in todo)} of {count}: {processes} at a time, "
                f"{threads} thread{'s' if threads > 1 else ''} each"
            )
        for k, result in _side_by_side(todo, jobs, processes):
            results[k] = result
    else:
        for k, job in zip(todo, jobs, strict=True):
            if progress:
                tqdm.write(f"member {k + 1} of {count} (seed {configs[k].seed})")
            results[k] = _train_one(*job)
    trained = [r for r in results if r is not None and r.n_expanded >= 0]
    n_expanded = (
        trained[0].n_expanded if trained else _align(train_examples, tagger_config).n_expanded
    )
    members = [dataclasses.replace(r, n_expanded=n_expanded) for r in results if r is not None]
    assert len(members) == count
    taggers = [artifact.load(m.out_dir).tagger for m in members]
    assert all(t is not None for t in taggers), "loaded with their taggers"
    merged = merge(taggers)  # type: ignore[arg-type]
    report = evaluate(_predictor(merged, train_config.name), dev_examples)
    if progress:
        tqdm.write(f"{len(members)} members merged: dev F1 {report.micro.f1:.4f}")
    meta = artifact.save(
        out_dir,
        merged,
        name=train_config.name,
        train_data_sha256=data_sha256(train_examples),
        dev_metrics={
            **report.to_json(),
            # Each member's run, for the plots (training/plots.py); not in the version.
            "members": [
                {
                    "seed": config.seed,
                    "best_epoch": m.best_epoch,
                    "dev_f1": round(m.dev_report.micro.f1, 4),
                    "history": _history_json(m.history),
                }
                for config, m in zip(configs, members, strict=True)
            ],
        },
    )
    shutil.rmtree(work, ignore_errors=True)
    return TrainResult(Path(out_dir), meta, 0, report, [], n_expanded, members=members)


def _side_by_side(
    todo: list[int], jobs: list[tuple[Any, ...]], processes: int
) -> Iterator[tuple[int, TrainResult]]:
    """Each job (:func:`_train_one`'s arguments) in a process of its own, ``processes`` at a time;
    (member, result) as each finishes. A member that fails, or Ctrl-C, stops the others at once
    (their checkpoints are written atomically, so a resumed run goes on from their last epoch)."""
    spawn = multiprocessing.get_context("spawn")  # no fork of a process with torch threads
    pool = ProcessPoolExecutor(processes, mp_context=spawn)
    try:
        futures = {
            pool.submit(_train_one, *job, f"member {k + 1}: "): k
            for k, job in zip(todo, jobs, strict=True)
        }
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for process in multiprocessing.active_children():
            process.terminate()
        raise
    pool.shutdown()


def members_dir(out_dir: str | Path) -> Path:
    """Where an ensemble's members are kept while it trains: beside ``out_dir``."""
    out = Path(out_dir).resolve()
    return out.parent / f".{out.name}.members"


def _member_fingerprint(
    examples: Sequence[Example], tagger: TaggerConfig, config: TrainConfig
) -> dict[str, Any]:
    """What a member is trained with: the data, the settings and the budget (a member kept on
    resume is one finished under the same budget)."""
    budget = config.for_data_size(len(examples))
    decay = budget.average_decay(len(examples))
    fingerprint = _fingerprint(examples, tagger, config, decay)
    fingerprint["budget"] = {"epochs": budget.epochs, "patience": budget.patience}
    return json.loads(json.dumps(fingerprint))


def _fingerprint_path(member_out: Path) -> Path:
    return member_out.parent / f"{member_out.name}.fingerprint.json"


def _write_fingerprint(
    member_out: Path, examples: Sequence[Example], tagger: TaggerConfig, config: TrainConfig
) -> None:
    """What a member is trained with, beside it, written (atomically) before it trains."""
    path = _fingerprint_path(member_out)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as f:
        f.write(json.dumps(_member_fingerprint(examples, tagger, config)).encode())
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)  # a crash leaves no half-written fingerprint


def _finished_member(
    member_out: Path, examples: Sequence[Example], tagger: TaggerConfig, config: TrainConfig
) -> TrainResult | None:
    """The member a stopped run finished at ``member_out`` (saved, its checkpoint gone), or None
    if it did not finish it. Its ``n_expanded`` is -1: not known without aligning again.

    Raises:
        ValueError: it was (or is being) trained with other data, settings or budget."""
    try:
        saved = json.loads(_fingerprint_path(member_out).read_text())
    except (OSError, ValueError):
        return None  # never started
    if saved != _member_fingerprint(examples, tagger, config):
        raise ValueError(
            f"{member_out} was trained with other data or settings; "
            "run without --resume to start over"
        )
    if checkpoint_dir(member_out).exists():
        return None  # stopped while it trained: it goes on from its checkpoint
    try:
        meta = artifact.load(member_out, with_tagger=False).meta
    except ModelError:
        return None
    metrics = meta.dev_metrics
    history = [EpochLog(h["epoch"], h["loss"], h["dev_f1"]) for h in metrics.get("history", [])]
    log.warning("resuming: %s was finished, keeping it", member_out.name)
    return TrainResult(
        member_out, meta, metrics["best_epoch"], Report.from_json(metrics), history, -1
    )


def _history_json(history: Sequence[EpochLog]) -> list[dict[str, float]]:
    return [
        {"epoch": h.epoch, "loss": round(h.loss, 6), "dev_f1": round(h.dev_f1, 4)} for h in history
    ]


def _check(train_examples: Sequence[Example], dev_examples: Sequence[Example]) -> None:
    if not train_examples:
        raise ValueError("expected at least one training example, got none")
    if not dev_examples:
        raise ValueError("expected at least one dev example, got none")


def _seed(config: TrainConfig) -> random.Random:
    """Seed torch (the network's initial weights, dropout) and return the shuffling generator."""
    torch.manual_seed(config.seed)
    torch.set_num_threads(config.threads)
    return random.Random(config.seed)


def _config_mismatch(kept: TaggerConfig, asked: TaggerConfig) -> str:
    differ = [
        f"{k} {getattr(asked, k)!r} (the model has {v!r})"
        for k, v in kept.model_dump().items()
        if getattr(asked, k) != v
    ]
    return (
        "a fine-tuned model keeps the network of the model it starts from; "
        f"leave out the network options that differ: {', '.join(differ)}"
    )


def grow(init: BiLSTMTagger, vocabs: Vocabs) -> BiLSTMTagger:
    """A tagger for ``vocabs`` (which extend ``init``'s: same items first, new ones after) that
    keeps every weight of ``init``.

    Each tensor of the new network that is larger than the old one (the word and character
    embeddings, the output layer and the CRF's transitions, one row and column per new tag) takes
    the old values in its leading block; the rows for new items keep their fresh initialisation.
    """
    tagger = BiLSTMTagger(init.config, vocabs)
    state = tagger.state_dict()
    with torch.no_grad():
        for key, old in init.state_dict().items():
            new = state[key]
            if new.dim() != old.dim() or any(
                n < o for n, o in zip(new.shape, old.shape, strict=False)
            ):
                raise ValueError(f"cannot grow {key} from {tuple(old.shape)} to {tuple(new.shape)}")
            new[tuple(slice(0, n) for n in old.shape)] = old
    return tagger


def extend_vocabs(old: Vocabs, new: Vocabs) -> Vocabs:
    """``old``'s words, characters and tags with ids unchanged, then what ``new`` adds; the old
    lexicon (the network learnt its ids)."""

    def extended(a: Vocab, b: Vocab, specials: bool = True) -> Vocab:
        return Vocab([*a.items, *(i for i in b.items if i not in a)], specials=specials)

    return Vocabs(
        words=extended(old.words, new.words),
        chars=extended(old.chars, new.chars),
        tags=extended(old.tags, new.tags, specials=False),
        lexicon=old.lexicon,
    )


def _align(examples: Sequence[Example], config: TaggerConfig) -> Aligned:
    """Tokens and gold tags (after the context's, see :func:`training.dataset.align`); spans
    off token boundaries are expanded, and that is reported."""
    aligned = align(examples, config.context_tokens, config.tokenizer)
    if aligned.n_expanded:
        log.warning(
            "%d of %d gold spans did not fall on token boundaries and were expanded to the tokens "
            "covering them",
            aligned.n_expanded,
            aligned.n_spans,
        )
    return aligned


# What may differ between a stopped run and its resumption: the budget and the threads.
_UNFINGERPRINTED = {"epochs", "patience", "threads"}


def _fingerprint(
    examples: Sequence[Example],
    tagger_config: TaggerConfig,
    train_config: TrainConfig,
    average_decay: float | None,
) -> dict[str, Any]:
    """What a checkpoint must have been made with to be resumed: the data and the settings."""
    fingerprint = {
        "train_data_sha256": data_sha256(examples),
        "tagger_config": tagger_config.model_dump(),
        "train_config": train_config.model_dump(exclude=_UNFINGERPRINTED),
    }
    if average_decay is not None:  # it follows the budget: another --epochs, another average
        fingerprint["average_decay"] = average_decay
    return fingerprint


@dataclass
class _Run:
    """A training run in progress: the network and its optimiser, the moving average of its
    weights, the shuffling generator, and the best epoch so far."""

    tagger: BiLSTMTagger
    encoder: Encoder
    optimizer: torch.optim.Optimizer
    rng: random.Random
    average: AveragedModel | None  # updated after every batch; None: the weights as trained
    predictor: Predictor  # reads the scored weights as they change, for the dev scores
    best_f1: float = -1.0
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    best_report: Report | None = None
    history: list[EpochLog] = field(default_factory=list)
    next_epoch: int = 1

    @classmethod
    def start(
        cls,
        aligned: Aligned,
        tagger_config: TaggerConfig,
        train_config: TrainConfig,
        rng: random.Random,
        init: LoadedModel | None = None,
        average_decay: float | None = None,
    ) -> _Run:
        """Vocabularies from the training data, a freshly initialised network (or ``init``'s,
        grown to the new vocabularies), Adam, and the moving average of the weights when
        ``average_decay`` is given.

        The average is torch's exponential moving average, starting from the weights after the
        first batch: the first weights keep a share of ``decay ** batches`` in it (about 10 %
        after the 11,250 batches of the default model's kept epoch), which pulls the kept
        network towards a plainer one. The bias-corrected average (without that share) was
        measured too and was less precise on the conversation dev set (README, "Results")."""
        if init is not None:
            assert init.tagger is not None, "an init model is loaded with its tagger"
            old = init.tagger.vocabs
            vocabs = extend_vocabs(
                old, build_vocabs(aligned.sentences, train_config.min_word_count, old.lexicon)
            )
            tagger = grow(init.tagger, vocabs)
        else:
            lexicon = None
            if tagger_config.uses_lexicon:
                lexicon = build_lexicon(clusters=tagger_config.cluster_dim > 0)
            vocabs = build_vocabs(aligned.sentences, train_config.min_word_count, lexicon)
            tagger = BiLSTMTagger(tagger_config, vocabs)
        encoder = Encoder(
            vocabs, tagger_config.max_word_chars, place_holdout=train_config.place_holdout
        )
        optimizer = torch.optim.Adam(
            [p for p in tagger.parameters() if p.requires_grad], lr=train_config.lr
        )
        average = None
        if average_decay is not None:
            average = AveragedModel(tagger, multi_avg_fn=get_ema_multi_avg_fn(average_decay))
        scored = tagger if average is None else average.module
        return cls(tagger, encoder, optimizer, rng, average, _predictor(scored, train_config.name))

    @property
    def scored(self) -> BiLSTMTagger:
        """The network that is scored on dev and kept: the moving average, if there is one."""
        return self.tagger if self.average is None else self.average.module

    def out_of_patience(self, epoch: int, patience: int) -> bool:
        """No better dev F1 for ``patience`` epochs before ``epoch``."""
        return bool(self.best_epoch) and epoch - 1 - self.best_epoch >= patience

    def keep_if_best(self, epoch: int, loss: float, report: Report) -> None:
        self.history.append(EpochLog(epoch, loss, report.micro.f1))
        if report.micro.f1 > self.best_f1:
            self.best_f1, self.best_epoch, self.best_report = report.micro.f1, epoch, report
            self.best_state = copy.deepcopy(self.scored.state_dict())


def _predictor(tagger: BiLSTMTagger, name: str) -> Predictor:
    meta = ModelMeta(
        name=name, version="unsaved", created_at="", labels=artifact.labels_of(tagger.vocabs.tags)
    )
    loaded = LoadedModel(meta=meta, config=tagger.config, tagger=tagger, path=Path())
    return Predictor(loaded, backend="torch")  # eager: it must see the weights as they change


def _resume(run: _Run, out_dir: str | Path, fingerprint: dict[str, Any]) -> None:
    """Go on from the checkpoint beside ``out_dir``, if there is one made with the same data and
    settings."""
    saved = Checkpoint.load(out_dir)
    if saved is None:
        return
    if _as_made_now(saved.info, fingerprint) != json.loads(json.dumps(fingerprint)):
        raise ValueError(
            f"the checkpoint at {checkpoint_dir(out_dir)} was made with other data or settings; "
            "run without --resume to start over"
        )
    run.tagger.load_state_dict(saved.model)
    if run.average is not None:
        assert saved.average is not None, "the fingerprint holds the averaging setting"
        run.average.load_state_dict(saved.average)
    run.optimizer.load_state_dict(saved.optimizer)
    torch.set_rng_state(saved.torch_rng)
    run.rng.setstate(saved.python_rng)
    run.best_f1, run.best_epoch = saved.info["best_f1"], saved.info["best_epoch"]
    run.best_state = saved.best
    run.best_report = Report.from_json(saved.info["best_report"])
    run.history = [EpochLog(*h) for h in saved.info["history"]]
    run.next_epoch = saved.epoch + 1
    log.warning("resuming after epoch %d (best so far: epoch %d)", saved.epoch, run.best_epoch)


def _as_made_now(info: dict[str, Any], fingerprint: dict[str, Any]) -> dict[str, Any]:
    """A checkpoint's fingerprint with the settings it predates at their defaults (a checkpoint
    from before an option was made as its default does), for comparing with this run's."""
    saved = {k: info.get(k) for k in fingerprint}
    try:
        tagger = TaggerConfig.model_validate(saved["tagger_config"])
        training = TrainConfig.model_validate(saved["train_config"])
    except (ValidationError, TypeError):
        return saved  # not a config this release reads: it differs
    saved["tagger_config"] = tagger.model_dump()
    saved["train_config"] = training.model_dump(exclude=_UNFINGERPRINTED)
    return json.loads(json.dumps(saved))


def _train_epoch(
    run: _Run, aligned: Aligned, config: TrainConfig, epoch: int, progress: bool
) -> float:
    """One pass over the shuffled training batches; the mean loss."""
    run.tagger.train()
    total, steps = 0.0, 0
    n_batches = -(-len(aligned.sentences) // config.batch_size)
    epoch_batches = batches(aligned.sentences, run.encoder, config.batch_size, run.rng)
    bar = tqdm(
        epoch_batches, total=n_batches, desc=f"epoch {epoch}", disable=not progress, leave=False
    )
    for batch, tag_ids in bar:
        run.optimizer.zero_grad()
        loss = run.tagger.loss(batch, tag_ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(run.tagger.parameters(), config.clip)
        run.optimizer.step()
        if run.average is not None:
            run.average.update_parameters(run.tagger)
        total, steps = total + loss.item(), steps + 1
        if steps % 20 == 0:
            bar.set_postfix(loss=f"{total / steps:.3f}")
    run.tagger.eval()
    run.scored.eval()
    return total / max(steps, 1)


def _log_epoch(
    epoch: int, loss: float, report: Report, progress: bool, averaged: bool, label: str = ""
) -> None:
    """The loss of the weights as trained; the dev F1 of the scored ones (the average, which
    starts near the first weights and catches up over the first epochs)."""
    of = " (weights averaged)" if averaged else ""
    log.info("%sepoch %d  loss %.4f  dev F1%s %.4f", label, epoch, loss, of, report.micro.f1)
    if progress:
        tqdm.write(f"{label}epoch {epoch}: loss {loss:.4f}  dev F1{of} {report.micro.f1:.4f}")


def _checkpoint(run: _Run, epoch: int, out_dir: str | Path, fingerprint: dict[str, Any]) -> None:
    """Everything needed to go on after ``epoch`` exactly as if never stopped."""
    assert run.best_state is not None and run.best_report is not None
    Checkpoint(
        epoch=epoch,
        model=run.tagger.state_dict(),
        best=run.best_state,
        optimizer=run.optimizer.state_dict(),
        torch_rng=torch.get_rng_state(),
        python_rng=run.rng.getstate(),
        info={
            **fingerprint,
            "best_f1": run.best_f1,
            "best_epoch": run.best_epoch,
            "best_report": run.best_report.to_json(),
            "history": [[h.epoch, h.loss, h.dev_f1] for h in run.history],
        },
        average=None if run.average is None else run.average.state_dict(),
    ).save(out_dir)


def _save_best(
    run: _Run, out_dir: str | Path, name: str, train_data_sha256: str, initialized_from: str | None
) -> ModelMeta:
    """The best epoch's weights, saved as the model directory (atomically)."""
    assert run.best_state is not None and run.best_report is not None
    run.tagger.load_state_dict(run.best_state)
    run.tagger.eval()
    return artifact.save(
        out_dir,
        run.tagger,
        name=name,
        train_data_sha256=train_data_sha256,
        dev_metrics={
            "best_epoch": run.best_epoch,
            **run.best_report.to_json(),
            # What training did per epoch, for the plots (training/plots.py); not in the version.
            "history": _history_json(run.history),
        },
        initialized_from=initialized_from,
    )
