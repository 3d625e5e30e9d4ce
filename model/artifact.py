"""The saved-model format: one directory of JSON files and safetensors weights, written atomically.

Layout (format_version 2)::

    meta.json            format, format_version, name, version, created_at, labels, metrics, ...
    config.json          TaggerConfig
    vocab.json           {"words": [...], "chars": [...], "tags": [...]}  (id = position)
    lexicon.json.gz      word frequencies, place names and (with cluster_dim) word clusters
                         (model.lexicon), gzipped JSON (0.7 MB, 2.3 MB unpacked; 1.3 MB with
                         clusters), when the config uses them
    weights.safetensors  the state_dict tensors and nothing else (no pickle anywhere)
    graph.json, token_inputs.onnx, contextual.onnx
                         the network exported for ONNX Runtime, its tensors read from the
                         weights file (model/graph.py); what serving runs, without torch

Format version 1 (before the lexicon) still loads: its config has no frequency or gazetteer input.
Format version 3 is the same layout for an ensemble (``members`` in config.json, one set of
weights per member network).

A model's version is computed from its files (:func:`version_of`): the weights, the config, the
vocabularies, the lexicon and the calibration's temperature and confidence floor, everything that
changes its answers, so a recalibrated model gets a new version. ``meta.json`` records it; a
directory whose ``meta.json`` records another (one written before this rule) is read with the
computed one; a format 2 directory recording a version neither rule gives (its files changed after
it was saved) is refused.

:func:`load` builds the torch tagger; ``load(dir, with_tagger=False)`` reads everything else without
importing torch (the vocabularies, the CRF's scores, the checked graph), which is what serving
needs.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import orjson
import spacy
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from model import graph as graphs
from model.config import CELLS, TaggerConfig
from model.decode import CRFScores
from model.encode import Vocabs
from model.errors import CorruptModelError, IncompatibleModelError, ModelNotFoundError
from model.lexicon import Lexicon
from model.vocab import Vocab

if TYPE_CHECKING:  # torch is imported only where a tagger is built or saved
    import torch

    from model.tagger import BiLSTMTagger

FORMAT = "slot-tagger"
FORMAT_VERSION = 2
# An ensemble (config members > 1, model/ensemble.py) is format 3, so that a release from before
# ensembles refuses it as a format it does not read instead of as a broken config; one network
# is still written as format 2, which those releases read.
ENSEMBLE_FORMAT_VERSION = 3
READABLE_VERSIONS = (1, 2, 3)
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "default"
FILES = ("meta.json", "config.json", "vocab.json", "weights.safetensors")
LEXICON_FILE = "lexicon.json.gz"
SLOT_TAGGER_VERSION = "0.1.0"
# The files a model's answers depend on (with meta.json's Calibration: see version_of).
ANSWER_FILES = ("weights.safetensors", "config.json", "vocab.json", LEXICON_FILE)


class ModelMeta(BaseModel):
    """What ``meta.json`` holds: enough to tell what a model is without loading its weights."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    name: str
    version: str
    created_at: str
    labels: list[str]
    train_data_sha256: str | None = None
    dev_metrics: dict[str, Any] = Field(default_factory=dict)
    calibration: dict[str, float] = Field(default_factory=dict)
    versions: dict[str, str] = Field(default_factory=dict)
    initialized_from: str | None = Field(
        None, description="name and version of the model training started from (fine-tuning)"
    )


@dataclass(frozen=True, slots=True)
class Calibration:
    """What calibration changes in a model's answers (``slot-tagger calibrate`` fits both).

    Attributes:
        temperature: every CRF score is divided by it before confidences are read (the best path
            stays the same).
        min_confidence: spans under it are dropped, tags and all; 0 keeps every span.
    """

    temperature: float = 1.0
    min_confidence: float = 0.0

    @classmethod
    def of(cls, calibration: Mapping[str, float]) -> Calibration:
        """From ``meta.json``'s calibration, which also holds figures about the fit."""
        fields = ("temperature", "min_confidence")
        return cls(**{f: float(calibration[f]) for f in fields if f in calibration})


@dataclass(frozen=True, slots=True)
class LoadedModel:
    """A model read back from disk, in eval mode.

    Attributes:
        tagger: the torch network; None when loaded without torch
            (``load(dir, with_tagger=False)``).
        vocabs: the tagger's vocabularies (given or not, they are the tagger's when it has one).
        crf: the CRF's scores read from the weights file, when there is no tagger to ask.
        graph: the saved ONNX graph, checked against the weights; None if the directory has
            none.
    """

    meta: ModelMeta
    config: TaggerConfig
    tagger: BiLSTMTagger | None
    path: Path
    vocabs: Vocabs = None  # type: ignore[assignment]  # filled from the tagger when not given
    crf: CRFScores | None = None
    graph: graphs.Graph | None = None

    def __post_init__(self) -> None:
        if self.vocabs is None:
            if self.tagger is None:
                raise ValueError("expected a tagger or vocabularies, got neither")
            object.__setattr__(self, "vocabs", self.tagger.vocabs)


def library_versions() -> dict[str, str]:
    import torch

    return {
        "slot_tagger": SLOT_TAGGER_VERSION,
        "torch": torch.__version__,
        "spacy": spacy.__version__,
        "python": platform.python_version(),
    }


def labels_of(tags: Vocab) -> list[str]:
    """The labels a tag vocabulary encodes (``B-departure`` -> ``departure``), sorted."""
    return sorted({t.partition("-")[2] for t in tags.items if t != "O"})


def version_of(files: Mapping[str, bytes], calibration: Mapping[str, float]) -> str:
    """A model's version: 12 hex digits of a hash of everything that changes its answers.

    Args:
        files: the model directory's files by name; those in :data:`ANSWER_FILES` count.
        calibration: ``meta.json``'s calibration; its temperature and confidence floor count.
    """
    digest = hashlib.sha256()
    for name in ANSWER_FILES:
        if name in files:
            digest.update(f"{name}\0{len(files[name])}\0".encode())
            digest.update(files[name])
    answers = dataclasses.asdict(Calibration.of(calibration))
    digest.update(json.dumps(answers, sort_keys=True).encode())
    return digest.hexdigest()[:12]


def save(
    out_dir: str | Path,
    tagger: BiLSTMTagger,
    *,
    name: str,
    train_data_sha256: str | None = None,
    dev_metrics: dict[str, Any] | None = None,
    calibration: dict[str, float] | None = None,
    graph: bool = True,
    initialized_from: str | None = None,
) -> ModelMeta:
    """Write ``tagger`` to ``out_dir`` atomically, with its exported graph unless ``graph`` is
    False (model/graph.py: what serving runs without torch).

    Everything goes into a sibling temporary directory first, each file fsynced; then the old
    directory is moved aside, the new one renamed into place and the old one deleted. A crash at any
    point leaves either the previous model or the new one at ``out_dir``, never a mix.

    Returns:
        The metadata written.
    """
    import safetensors.torch

    state = {k: v.detach().cpu().contiguous() for k, v in tagger.state_dict().items()}
    vocab = {
        "words": tagger.vocabs.words.to_json(),
        "chars": tagger.vocabs.chars.to_json(),
        "tags": tagger.vocabs.tags.to_json(),
    }
    files = {
        "config.json": json.dumps(_config_json(tagger.config), indent=2).encode(),
        "vocab.json": json.dumps(vocab, ensure_ascii=False).encode(),
        "weights.safetensors": safetensors.torch.save(state),
    }
    if tagger.vocabs.lexicon is not None:
        lexicon = tagger.vocabs.lexicon.to_json()
        raw = json.dumps(lexicon, ensure_ascii=False, separators=(",", ":")).encode()
        files[LEXICON_FILE] = gzip.compress(raw, mtime=0)  # mtime 0: same model, same bytes
    meta = ModelMeta(
        format_version=ENSEMBLE_FORMAT_VERSION if tagger.config.members > 1 else FORMAT_VERSION,
        name=name,
        version=version_of(files, calibration or {}),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        labels=labels_of(tagger.vocabs.tags),
        train_data_sha256=train_data_sha256,
        dev_metrics=dev_metrics or {},
        calibration=calibration or {},
        versions=library_versions(),
        initialized_from=initialized_from,
    )
    meta_json = json.dumps(meta.model_dump(), indent=2).encode()
    exported = graphs.files(tagger, files) if graph else {}
    write_directory(out_dir, {"meta.json": meta_json, **files, **exported})
    return meta


def _config_json(config: TaggerConfig) -> dict[str, Any]:
    """config.json's content: without cluster_dim when it is 0 and members when 1, so a model
    without clusters or members has the files (and the version) it had before the options."""
    left_out = {
        name
        for name, unused in (("cluster_dim", 0), ("members", 1))
        if getattr(config, name) == unused
    }
    return config.model_dump(exclude=left_out)


def export_graph(model_dir: str | Path) -> graphs.Graph:
    """Export the network of the model at ``model_dir`` and save it there (rewriting the
    directory atomically; every other file stays byte for byte): for models saved without
    their graph, or with a graph of other weights.

    Raises:
        ModelNotFoundError, IncompatibleModelError, CorruptModelError: see :func:`load`.
    """
    path = Path(model_dir)
    loaded = load(path, graph=False)
    assert loaded.tagger is not None
    kept = {f.name: _read(f) for f in sorted(path.iterdir()) if f.is_file()}
    for name in (graphs.GRAPH_FILE, graphs.TOKEN_GRAPH, graphs.CONTEXTUAL_GRAPH):
        kept.pop(name, None)
    write_directory(path, {**kept, **graphs.files(loaded.tagger, kept)})
    return graphs.read(path, kept)


def store_calibration(model_dir: str | Path, calibration: dict[str, float]) -> ModelMeta:
    """Rewrite the model at ``model_dir`` with ``calibration`` in its metadata, atomically.

    The network, its vocabularies and its metadata stay as they are (written by :func:`save`, so
    a format 1 directory comes back as format 2); the version changes with the temperature and
    the confidence floor.

    Args:
        model_dir: a model directory.
        calibration: what ``slot-tagger calibrate`` fitted (``temperature``, ``min_confidence``,
            and figures about the fit).

    Returns:
        The metadata written.

    Raises:
        ModelNotFoundError, IncompatibleModelError, CorruptModelError: see :func:`load`.
    """
    loaded = load(model_dir, graph=False)  # the graph is exported again
    return save(
        model_dir,
        loaded.tagger,
        name=loaded.meta.name,
        train_data_sha256=loaded.meta.train_data_sha256,
        dev_metrics=loaded.meta.dev_metrics,
        calibration=calibration,
    )


def write_directory(out_dir: str | Path, contents: dict[str, bytes]) -> None:
    """Replace the directory ``out_dir`` with one holding ``contents``, atomically.

    Files go into a sibling temporary directory first, each fsynced; then the old directory is
    moved to ``.<name>.old``, the new one renamed into place, and the old one deleted. A crash
    leaves the old directory or the new one; in the instant between the two renames it leaves
    ``.<name>.old``, which the next :func:`load` or save puts back (:func:`recover`).
    """
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    recover(out)
    _remove_stale_copies(out)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a model is read by other users (a container)
    try:
        for filename, data in contents.items():
            with open(tmp / filename, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        old = out.parent / f".{out.name}.old"
        if old.exists():
            shutil.rmtree(old)
        if out.exists():
            out.rename(old)
        tmp.rename(out)
        _fsync_dir(out.parent)
        if old.exists():
            shutil.rmtree(old)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _remove_stale_copies(out: Path) -> None:
    """Delete the temporary copies a killed save left (``.<name>.tmp-<pid>-*`` of a process that
    is gone, or of a release that did not name the process); a running save's copy stays."""
    for copy in out.parent.glob(f".{out.name}.tmp-*"):
        pid = copy.name.removeprefix(f".{out.name}.tmp-").partition("-")[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(copy, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def recover(out_dir: str | Path) -> None:
    """Put back ``.<name>.old`` if a crash came between the two renames of a save."""
    out = Path(out_dir)
    old = out.parent / f".{out.name}.old"
    if not out.exists() and old.is_dir():
        old.rename(out)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _json(path: Path, data: bytes) -> Any:
    try:
        return orjson.loads(data)  # several times faster than json: the lexicon is 100k entries
    except (ValueError, RecursionError) as e:  # bad UTF-8 or JSON, an integer of 5,000 digits
        raise CorruptModelError(f"model file {path} is not readable JSON: {e}") from e


def _gzipped_json(path: Path, data: bytes) -> Any:
    try:
        return orjson.loads(gzip.decompress(data))
    except (OSError, EOFError, ValueError, RecursionError) as e:
        raise CorruptModelError(f"model file {path} is not readable gzipped JSON: {e}") from e


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise CorruptModelError(f"model file {path} is not readable: {e}") from e


def _answer_files(path: Path) -> dict[str, bytes]:
    """The files of :data:`ANSWER_FILES` the directory has, by name."""
    return {name: _read(path / name) for name in ANSWER_FILES if (path / name).is_file()}


def _with_version(path: Path, meta: ModelMeta, files: Mapping[str, bytes]) -> ModelMeta:
    """The metadata with the version computed from the files (a directory written before the
    version covered the config and the calibration records the weights' hash alone).

    Raises:
        CorruptModelError: a format 2 ``meta.json`` records a version neither rule gives: the
            files were changed after the model was saved (weights copied over, say). Format 1
            directories, from the first release, are read with the computed version.
    """
    version = version_of(files, meta.calibration)
    if meta.version == version:
        return meta
    weights = files.get("weights.safetensors", b"")
    legacy = hashlib.sha256(weights).hexdigest()[:12]
    if meta.format_version >= 2 and meta.version != legacy:
        raise CorruptModelError(
            f"model at {path}: meta.json records version {meta.version!r:.40} but its files give "
            f"{version!r}; the files were changed after it was saved — save it again with "
            "`slot-tagger train` (or model.artifact.save)"
        )
    return meta.model_copy(update={"version": version})


def _stored_meta(path: Path) -> ModelMeta:
    """``meta.json`` as written, checked: the directory is complete and of a format we read."""
    recover(path)
    if not path.is_dir():
        raise ModelNotFoundError(f"no model directory at {path}")
    missing = [f for f in FILES if not (path / f).is_file()]
    if missing:
        raise ModelNotFoundError(f"model at {path} is missing {', '.join(missing)}")
    raw = _json(path / "meta.json", _read(path / "meta.json"))
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        found = raw.get("format") if isinstance(raw, dict) else None
        raise IncompatibleModelError(
            f"model at {path} has format {found!r}; this slot-tagger reads {FORMAT!r} models"
        )
    if raw.get("format_version") not in READABLE_VERSIONS:
        *first, last = map(str, READABLE_VERSIONS)
        readable = f"{', '.join(first)} and {last}" if first else last
        raise IncompatibleModelError(
            f"model at {path} has format_version {raw.get('format_version')}; this slot-tagger "
            f"reads {readable} — retrain with `slot-tagger train` or install a matching "
            "release"
        )
    try:
        return ModelMeta.model_validate(raw)
    except ValidationError as e:
        raise CorruptModelError(f"model at {path} has an invalid meta.json: {_one_line(e)}") from e


def _one_line(error: Exception) -> str:
    """An error as one line (pydantic's span several): what is wrong, and where."""
    if isinstance(error, ValidationError):
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()]
        return "; ".join(problems[:3])
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def _check_weights(
    path: Path, config: TaggerConfig, vocabs: Vocabs, state: Mapping[str, torch.Tensor]
) -> None:
    """Refuse weights that cannot serve before the network is built: shapes its config does not
    give (built on the meta device first, which allocates nothing, so an absurd size in
    config.json costs nothing), and NaN or infinite values (such a model tags nothing)."""
    import torch

    from model.tagger import BiLSTMTagger

    try:
        with torch.device("meta"):
            shapes = {
                k: tuple(v.shape) for k, v in BiLSTMTagger(config, vocabs).state_dict().items()
            }
    except Exception as e:  # noqa: BLE001 - any config the network cannot be built from
        raise CorruptModelError(f"model at {path}: its config cannot build a network ({e})") from e
    stored = {k: tuple(v.shape) for k, v in state.items()}
    if shapes != stored:
        wrong = sorted(set(shapes.items()) ^ set(stored.items()))[0][0]
        raise CorruptModelError(
            f"model at {path}: weights do not match its config and vocabularies ({wrong!r} "
            f"has shape {stored.get(wrong)}; the config gives {shapes.get(wrong)})"
        )
    for name, tensor in state.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise CorruptModelError(
                f"model at {path}: weights {name!r} hold NaN or infinite values; retrain it"
            )


def read_meta(model_dir: str | Path) -> ModelMeta:
    """Read and check ``meta.json``, without building the network; the version is computed from
    the files (:func:`version_of`).

    Raises:
        ModelNotFoundError: no such directory or file.
        IncompatibleModelError: another format, or another format version.
        CorruptModelError: the file does not parse.
    """
    path = Path(model_dir)
    meta = _stored_meta(path)
    return _with_version(path, meta, _answer_files(path))


def load(model_dir: str | Path, *, with_tagger: bool = True, graph: bool = True) -> LoadedModel:
    """Load a model directory written by :func:`save`, without executing any code from it.

    Args:
        model_dir: the directory.
        with_tagger: build the torch tagger; False reads the rest without importing torch, and
            then the directory must have its exported graph.
        graph: read the saved graph, if there is one, refusing one of other weights; False
            ignores it (to export it again).

    Raises:
        ModelNotFoundError, IncompatibleModelError, CorruptModelError: see :mod:`model.errors`.
    """
    path = Path(model_dir)
    meta = _stored_meta(path)
    files = _answer_files(path)
    try:
        raw_config = _json(path / "config.json", files["config.json"])
        if meta.format_version == 1 and isinstance(raw_config, dict):
            raw_config = {"frequency_dim": 0, "gazetteer_dim": 0, **raw_config}
        if isinstance(raw_config, dict):  # saved before dialogue context or clusters: none
            raw_config = {"context_tokens": 0, "cluster_dim": 0, **raw_config}
            _check_cell(path, raw_config)
        config = TaggerConfig.model_validate(raw_config)
        raw_vocab = _json(path / "vocab.json", files["vocab.json"])
        lexicon = None
        if config.uses_lexicon:
            if LEXICON_FILE not in files:
                raise ModelNotFoundError(f"model at {path} is missing {LEXICON_FILE}")
            lexicon = Lexicon.from_json(_gzipped_json(path / LEXICON_FILE, files[LEXICON_FILE]))
        vocabs = Vocabs(
            words=Vocab.from_json(raw_vocab["words"]),
            chars=Vocab.from_json(raw_vocab["chars"]),
            tags=Vocab.from_json(raw_vocab["tags"], specials=False),
            lexicon=lexicon,
        )
    except (ValidationError, KeyError, TypeError, ValueError) as e:
        raise CorruptModelError(
            f"model at {path} has an invalid config.json, vocab.json or {LEXICON_FILE}: "
            f"{_one_line(e)}"
        ) from e
    if labels_of(vocabs.tags) != sorted(meta.labels):
        raise CorruptModelError(
            f"model at {path}: meta.json labels {sorted(meta.labels)} do not match the tags in "
            f"vocab.json {labels_of(vocabs.tags)}"
        )
    if not with_tagger:
        return _without_tagger(meta, config, vocabs, path, files)
    try:
        import safetensors.torch

        from model.tagger import BiLSTMTagger
    except ImportError:
        missing = (
            "" if graphs.exists(path) else f" has no exported graph ({graphs.GRAPH_FILE}), and"
        )
        raise ModelNotFoundError(
            f"model at {path}{missing} needs torch to run its network, which is not installed: "
            "install 'slot-tagger[train]' (and run `slot-tagger export` on the model once, so "
            "that serving needs no torch)"
        ) from None
    try:
        state = safetensors.torch.load(files["weights.safetensors"])
    except (OSError, safetensors.SafetensorError) as e:
        raise CorruptModelError(f"model at {path} has unreadable weights: {e}") from e
    _check_weights(path, config, vocabs, state)
    tagger = BiLSTMTagger(config, vocabs)
    try:
        tagger.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0]
        raise CorruptModelError(
            f"model at {path}: weights do not match its config and vocabularies ({first})"
        ) from e
    tagger.eval()
    # Last, so that a missing or unreadable file is reported as what it is; a graph is refused for
    # other weights only once these weights are known to be good.
    meta = _with_version(path, meta, files)
    saved_graph = graphs.read(path, files) if graph and graphs.exists(path) else None
    return LoadedModel(
        meta=meta, config=config, tagger=tagger, path=path.resolve(), graph=saved_graph
    )


def _check_cell(path: Path, raw_config: Mapping[str, Any]) -> None:
    """Refuse a recurrent cell this release cannot run (a model from a newer one), naming it.
    A config without a cell was saved before cells could be chosen: an LSTM, both ways."""
    cell = raw_config.get("cell", "lstm")
    if cell not in CELLS:
        raise IncompatibleModelError(
            f"model at {path} uses the recurrent cell {cell!r}, which this slot-tagger cannot "
            f"run (it runs {', '.join(CELLS)}): install the release that trained it, or retrain "
            "with `slot-tagger train --cell CELL`"
        )


def _without_tagger(
    meta: ModelMeta,
    config: TaggerConfig,
    vocabs: Vocabs,
    path: Path,
    files: Mapping[str, bytes],
) -> LoadedModel:
    """The model as serving needs it, torch never imported: the graph (checked against the very
    weights, config and vocabularies read here when it was exported) and the CRF's scores."""
    import safetensors.numpy

    try:
        weights = safetensors.numpy.load(files["weights.safetensors"])
        crf = CRFScores.of_weights(weights)
    except (OSError, KeyError, safetensors.SafetensorError) as e:
        raise CorruptModelError(f"model at {path} has unreadable weights: {e}") from e
    for name, array in weights.items():  # as _check_weights does for the torch tagger
        if np.issubdtype(array.dtype, np.floating) and not bool(np.isfinite(array).all()):
            raise CorruptModelError(
                f"model at {path}: weights {name!r} hold NaN or infinite values; retrain it"
            )
    meta = _with_version(path, meta, files)
    graph = graphs.read(path, files, weights)
    return LoadedModel(meta, config, None, path.resolve(), vocabs, crf, graph)
