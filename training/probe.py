"""The long-memory probe: does a cell carry the word that decides a city's role across k words
that carry none?

Each probe sentence has one city and one cue ("leave", "from", "flying out of" for a departure;
"arrive in", "to", "landing in" for a destination), k filler words apart (1 <= k <= 40): the cue
before the city ("leave as i told my sister last week ... Beijing") or after it ("Beijing as i
told my sister ... leaving from there"). The filler is a window of one long neutral passage,
with no word that hints at a role. Nothing but the cue tells departure from destination.

``python -m training.probe`` (``make probe``) trains every cell on short distances only
(k <= 5) and on the full range, three seeds each, with the same small budget; scores role
accuracy (the city found
with the right label) per k and side on fresh sentences; measures the first layer's forget gate
(model.cells.forget_gates) on the filler between cue and city; writes ``docs/probe.json`` and
plots ``docs/probe.png``.
"""

from __future__ import annotations

import json
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import typer

from data.example import Example, GoldSpan
from model import artifact
from model.cells import forget_gates
from model.config import CELLS, TaggerConfig
from model.encode import Encoder
from model.predictor import Predictor
from model.tagger import BiLSTMTagger
from training.config import TrainConfig
from training.train import train

MAX_K = 40
SHORT_K = 5
_CITY_NAMES = (
    "Beijing Boston Paris London Tokyo Denver Chicago Lima Oslo Madrid Rome Cairo Dublin Lisbon "
    "Vienna Prague Seoul Sydney Toronto Miami Atlanta Seattle Houston Dallas Berlin Munich Zurich "
    "Geneva Milan Athens Istanbul Mumbai Delhi Bangkok Manila Jakarta Nairobi Lagos Havana Quito"
)
CITIES = tuple(_CITY_NAMES.split())
# (label, cue before the city, cue after it): the cue's first word decides.
CUES = {
    "departure": (
        ("leave", "leave from there"),
        ("from", "leaving from there"),
        ("flying out of", "flying out of there"),
        ("departing from", "departing from there"),
    ),
    "destination": (
        ("arrive in", "arrive there"),
        ("to", "going there"),
        ("landing in", "landing there"),
        ("heading to", "heading there"),
    ),
}
# Neutral words only: no "from", "to", "in", "out", no verb of travel.
_PASSAGE = (
    "as i told my sister last week when we talked about the trip and the weather and the kids "
    "and the new job that my manager said would be fine although i am not sure because the "
    "hotel was full and the car was still broken and my brother thinks that we should wait a "
    "little longer but honestly i think that it will all be fine if we are patient and calm "
    "and keep our plans simple this time"
)
FILLER = tuple(_PASSAGE.split())
SIDES = ("before", "after")  # where the cue stands, relative to the city


@dataclass(frozen=True, slots=True)
class ProbeSentence:
    """One sentence and where its parts are (token positions: every word is one token)."""

    example: Example
    label: str
    side: str
    k: int
    city_at: int  # the city's token position
    filler: tuple[int, int]  # token positions [begin, end) of the filler


def sentence(rng: random.Random, k: int, side: str, label: str) -> ProbeSentence:
    """One probe sentence with k filler words, the cue on ``side`` of the city."""
    before, after = rng.choice(CUES[label])
    start = rng.randrange(len(FILLER) - k + 1)
    filler = FILLER[start : start + k]
    city = rng.choice(CITIES)
    if side == "before":
        words = [*before.split(), *filler, city]
        city_at, span = len(words) - 1, (len(before.split()), len(words) - 1)
    else:
        words = [city, *filler, *after.split()]
        city_at, span = 0, (1, 1 + k)
    text = " ".join(words)
    begin = len(" ".join(words[:city_at])) + (1 if city_at else 0)
    gold = GoldSpan(start=begin, end=begin + len(city), label=label)
    return ProbeSentence(Example(text=text, spans=[gold]), label, side, k, city_at, span)


def sentences(seed: int, n: int, max_k: int) -> list[ProbeSentence]:
    """``n`` sentences, k uniform in 1..max_k, sides and labels balanced."""
    rng = random.Random(seed)
    return [
        sentence(rng, rng.randint(1, max_k), SIDES[i % 2], ("departure", "destination")[i // 2 % 2])
        for i in range(n)
    ]


def scoring_grid(seed: int, per_k: int) -> list[ProbeSentence]:
    """``per_k`` sentences per k (1..MAX_K) and side, labels alternating."""
    rng = random.Random(seed)
    labels = ("departure", "destination")
    return [
        sentence(rng, k, side, labels[i % 2])
        for k in range(1, MAX_K + 1)
        for side in SIDES
        for i in range(per_k)
    ]


def role_accuracy(predictor: Predictor, grid: Sequence[ProbeSentence]) -> dict[str, list[float]]:
    """Per side, the share of sentences at each k (index k - 1) whose city is found as exactly
    its gold span with its gold label."""
    predictions = predictor.predict([s.example.text for s in grid], batch_size=64)
    hits: dict[tuple[str, int], list[bool]] = {}
    for s, prediction in zip(grid, predictions, strict=True):
        gold = s.example.spans[0]
        right = any(
            (p.start, p.end, p.label) == (gold.start, gold.end, gold.label)
            for p in prediction.spans
        )
        hits.setdefault((s.side, s.k), []).append(right)
    return {side: [statistics.mean(hits[(side, k)]) for k in range(1, MAX_K + 1)] for side in SIDES}


def gate_statistics(tagger: BiLSTMTagger, grid: Sequence[ProbeSentence]) -> dict[str, Any] | None:
    """The first layer's forget gate on the filler, in the direction that reads cue then city
    (left to right when the cue is before, right to left when after): its mean over filler
    steps, units and sentences; and per sentence, how much of the cell state at the cue the
    best-keeping unit still holds at the city (the product of its forget gates over the
    filler; median over sentences with k >= 10). None for a cell without gates."""
    encoder = Encoder(tagger.vocabs, tagger.config.max_word_chars)
    means: dict[str, list[float]] = {side: [] for side in SIDES}
    kept: dict[str, list[float]] = {side: [] for side in SIDES}
    for side in SIDES:
        chosen = [s for s in grid if s.side == side]
        if side == "after" and not tagger.config.bidirectional:
            continue  # nothing reads right to left
        batch = encoder([s.example.text.split() for s in chosen])
        with torch.no_grad():
            x = tagger.token_inputs(
                torch.as_tensor(batch.word_ids),
                torch.as_tensor(batch.char_ids),
                torch.as_tensor(batch.shape_ids),
                torch.as_tensor(batch.frequency_ids),
                torch.as_tensor(batch.cluster_ids),
            )  # (B, T, I)
            x = tagger.rnn_inputs(x, torch.as_tensor(batch.gazetteer_ids))  # (B, T, I + G)
            gates = forget_gates(tagger.rnn, x, torch.as_tensor(batch.lengths))
        if gates is None:
            return None
        direction = gates[0 if side == "before" else 1]  # (B, T, H)
        for b, s in enumerate(chosen):
            begin, end = s.filler
            f = direction[b, begin:end]  # (k, H)
            means[side].append(float(f.mean()))
            if s.k >= 10:
                kept[side].append(float(f.prod(dim=0).max()))
    return {
        "forget_mean": {side: statistics.mean(v) for side, v in means.items() if v},
        "best_unit_kept_k10": {side: statistics.median(v) for side, v in kept.items() if v},
    }


def run(
    cell: str,
    regime: str,
    train_set: list[ProbeSentence],
    dev_set: list[ProbeSentence],
    grid: list[ProbeSentence],
    tagger_config: TaggerConfig,
    train_config: TrainConfig,
) -> dict[str, Any]:
    """Train one cell on one regime and measure it."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "m"
        started = time.perf_counter()
        config = tagger_config.model_copy(update={"cell": cell})
        train(
            [s.example for s in train_set],
            [s.example for s in dev_set],
            config,
            train_config,
            out,
            False,
        )
        train_s = time.perf_counter() - started
        accuracy = role_accuracy(Predictor.from_dir(out), grid)
        tagger = artifact.load(out).tagger
        assert tagger is not None
        gates = gate_statistics(tagger, grid)
    return {
        "cell": cell,
        "regime": regime,
        "train_s": train_s,
        "accuracy": accuracy,
        "gates": gates,
    }


def plot(results: list[dict[str, Any]], path: Path) -> None:
    """Role accuracy against k (mean over the seeds): one panel per regime and side, one line
    per cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    regimes = list(dict.fromkeys(r["regime"] for r in results))
    fig, axes = plt.subplots(len(regimes), 2, figsize=(10, 3.2 * len(regimes)), sharey=True)
    axes = [axes] if len(regimes) == 1 else axes
    ks = range(1, MAX_K + 1)
    for row, regime in zip(axes, regimes, strict=True):
        for ax, side in zip(row, SIDES, strict=True):
            for r in (r for r in results if r["regime"] == regime):
                ax.plot(ks, r["accuracy"][side], label=r["cell"], linewidth=1.5)
            if regime.startswith("short"):
                ax.axvspan(0.5, SHORT_K + 0.5, color="0.9", zorder=0)
            ax.set_title(f"trained on {regime}; cue {side} the city", fontsize=10)
            ax.set_xlabel("k (filler words between cue and city)")
            ax.set_ylim(-0.02, 1.02)
            ax.grid(alpha=0.3)
        row[0].set_ylabel("role accuracy")
    axes[0][1].legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=72)
    plt.close(fig)
    tmp.replace(path)


def _write_json(path: Path, value: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=1) + "\n")
    tmp.replace(path)


def main(
    n: int = typer.Option(800, help="training sentences per model"),
    per_k: int = typer.Option(20, help="test sentences per k and side"),
    epochs: int = typer.Option(5),
    hidden_dim: int = typer.Option(32),
    seeds: int = typer.Option(3, help="models per cell and regime (seeds 0, 1, ...)"),
    cell: list[str] = typer.Option([], help="only these cells (default: all)"),
    out: Path = typer.Option(Path("docs"), help="where probe.json and probe.png go"),
) -> None:
    """Train each cell on short distances and on the full range; plot role accuracy against k."""
    tagger_config = TaggerConfig(
        word_dim=32,
        char_dim=0,
        shape_dim=0,
        frequency_dim=0,
        gazetteer_dim=0,
        hidden_dim=hidden_dim,
        dropout=0.1,
        word_dropout=0.0,
        context_tokens=0,
    )
    regimes = {f"k ≤ {SHORT_K}": SHORT_K, f"k ≤ {MAX_K}": MAX_K}
    grid = scoring_grid(1000, per_k)
    results = []
    for seed in range(seeds):
        train_config = TrainConfig(epochs=epochs, patience=epochs, lr=1e-2, seed=seed, name="probe")
        for regime, max_k in regimes.items():
            train_set = sentences(seed, n, max_k)
            dev_set = sentences(seed + 100, 200, max_k)
            for name in [c for c in CELLS if not cell or c in cell]:
                result = run(name, regime, train_set, dev_set, grid, tagger_config, train_config)
                result["seed"] = seed
                results.append(result)
                summary_line = {k: v for k, v in result.items() if k != "accuracy"}
                typer.echo(json.dumps(summary_line), err=True)
    out.mkdir(parents=True, exist_ok=True)
    budget = {"n": n, "per_k": per_k, "epochs": epochs, "hidden_dim": hidden_dim, "seeds": seeds}
    pooled = pool(results)
    _write_json(out / "probe.json", {"budget": budget, "pooled": pooled, "results": results})
    plot(pooled, out / "probe.png")
    typer.echo(summary(pooled))


def pool(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per cell and regime: accuracy and gate figures averaged over the seeds, and
    each side's lowest seed accuracy at k 21-40 (``worst_far``)."""
    pooled = []
    keys = list(dict.fromkeys((r["cell"], r["regime"]) for r in results))
    for cell, regime in keys:
        runs = [r for r in results if (r["cell"], r["regime"]) == (cell, regime)]
        accuracy = {
            side: [statistics.mean(r["accuracy"][side][i] for r in runs) for i in range(MAX_K)]
            for side in SIDES
        }
        worst_far = {
            side: min(statistics.mean(r["accuracy"][side][20:]) for r in runs) for side in SIDES
        }
        gates = None
        if runs[0]["gates"] is not None:
            gates = {
                figure: {
                    side: statistics.mean(r["gates"][figure][side] for r in runs)
                    for side in runs[0]["gates"][figure]
                }
                for figure in runs[0]["gates"]
            }
        pooled.append(
            {
                "cell": cell,
                "regime": regime,
                "seeds": len(runs),
                "accuracy": accuracy,
                "worst_far": worst_far,
                "gates": gates,
            }
        )
    return pooled


def summary(results: list[dict[str, Any]]) -> str:
    """Markdown: per cell and regime (seeds pooled), mean role accuracy for k 1-5, 6-20 and
    21-40 per side, the worst seed's far end, and the forget gate on the filler."""
    lines = [
        "| cell | trained on | cue before: k 1–5 / 6–20 / 21–40 | cue after: k 1–5 / 6–20 / 21–40 "
        "| worst seed, k 21–40 (before / after) "
        "| forget gate on the filler (before / after) | best unit keeps, k ≥ 10 (before / after) |",
        "|---|---|---|---|---|---|---|",
    ]
    bands = ((1, 5), (6, 20), (21, 40))
    for r in results:
        acc = [
            " / ".join(f"{statistics.mean(r['accuracy'][side][a - 1 : b]):.2f}" for a, b in bands)
            for side in SIDES
        ]
        gates = r["gates"]
        if gates is None:
            forget = kept = "— (no gate)"
        else:
            forget = " / ".join(f"{gates['forget_mean'].get(s, float('nan')):.2f}" for s in SIDES)
            kept = " / ".join(
                f"{gates['best_unit_kept_k10'].get(s, float('nan')):.2f}" for s in SIDES
            )
        worst = " / ".join(f"{r['worst_far'][side]:.2f}" for side in SIDES)
        lines.append(
            f"| {r['cell']} | {r['regime']} | {acc[0]} | {acc[1]} | {worst} | {forget} | {kept} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    typer.run(main)
