"""The CRF's decoding for inference: best paths and the marginals of their tags, in C
(model/_decode.c, built by ``pip install`` where a C compiler is) or else in NumPy.

Both give the same paths bit for bit and marginals within about 1e-12 (tests/model/test_crf.py).
The C code is what makes decoding cheap for a server's small batches: NumPy spends a few
microseconds of dispatch per call on 7 x 7 matrices, a dozen calls per token, where the
arithmetic takes nanoseconds (one 13-token sentence: about 110 us in NumPy, 6 in C).

Imports no torch: a served model's CRF scores come from its weights file
(:meth:`CRFScores.of_weights`), a training model's from its :class:`model.crf.CRF`
(:meth:`CRFScores.of_crf`). Same convention as model/crf.py: ``transitions[i, j]`` scores
moving from tag ``i`` to tag ``j``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from model.crf import CRF

try:
    from model import _decode as compiled
except ImportError:  # built without a C compiler (setup.py): decoding runs in NumPy
    compiled = None

FORBIDDEN = -1e4  # added to a move or a tag BIO forbids; large enough that no path takes it
# Up to this many tags the marginals come from scans of K x K matrix products (few NumPy calls,
# K^3 work per product); above it, from one vector-matrix product per token (K^2 work): with 120
# labels (241 tags), the scans cost ~60x more than the steps.
SCAN_MAX_TAGS = 32
# A floor for the per-step rescaling, so a row whose mass underflowed divides by no zero.
TINY = 1e-300


@dataclass(frozen=True, slots=True)
class CRFScores:
    """A trained CRF's scores as float64 arrays, the BIO penalties added.

    Attributes:
        transitions: (num_tags, num_tags).
        start: (num_tags,).
        end: (num_tags,).
    """

    transitions: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def of_crf(cls, crf: CRF) -> CRFScores:
        """From a torch CRF, as its weights are now."""
        transitions, start = crf._scores()
        return cls(
            transitions.detach().double().numpy(),  # (K, K)
            start.detach().double().numpy(),  # (K,)
            crf.end_transitions.detach().double().numpy(),  # (K,)
        )

    @classmethod
    def of_weights(cls, weights: Mapping[str, np.ndarray], prefix: str = "crf.") -> CRFScores:
        """From a tagger's saved weights (``safetensors.numpy``): the same float32 sums as
        :meth:`model.crf.CRF._scores`, so the same numbers bit for bit."""
        transitions = weights[prefix + "transitions"] + weights[prefix + "transition_penalty"]
        start = weights[prefix + "start_transitions"] + weights[prefix + "start_penalty"]
        return cls(
            transitions.astype(np.float64),  # (K, K)
            start.astype(np.float64),  # (K,)
            weights[prefix + "end_transitions"].astype(np.float64),  # (K,)
        )


def _scan(matrices: np.ndarray, reverse: bool) -> np.ndarray:
    """Running products of a chain of matrices (B, N, K, K), in log2(N) batched products
    (Hillis-Steele), each product rescaled by its largest entry: only ratios within one product
    matter to the marginals. ``reverse`` gives suffix products instead of prefix ones."""
    out = matrices.copy()
    count, span, level = out.shape[1], 1, 0
    while span < count:
        if reverse:
            out[:, :-span] = out[:, :-span] @ out[:, span:]
        else:
            out[:, span:] = out[:, :-span] @ out[:, span:]
        span, level = span * 2, level + 1
        if level % 2 == 0 or span >= count:
            # Entries start <= 1 after a rescale, so two products grow them at most K^3-fold.
            out /= np.maximum.reduce(out.reshape(*out.shape[:2], -1), axis=2)[:, :, None, None]
    return out


class FastDecoder:
    """The CRF's decoding for inference, in C where it was built, else in NumPy: the same results
    as :class:`CRF`'s ``viterbi`` and ``marginals`` without a torch call per time step (a dozen
    small matrices per sentence cost more in dispatch than in arithmetic).

    The marginals come from forward-backward in probability space, rescaled at every step: a
    matrix product per step instead of a log-sum-exp (half the NumPy calls, the same numbers to
    about 1e-12). Scores are clipped at ``exp(-MIN_LOG)`` below the best tag of each step, so no
    row can underflow to all zeros; what that changes is a probability below 1e-200.

    Args:
        crf: the trained CRF (a torch :class:`~model.crf.CRF`, whose scores are copied, so make a
            decoder after training changes them) or its :class:`CRFScores`.
        temperature: divides every score for the marginals (see :meth:`CRF.marginals`).
        use_compiled: decode in C (model/_decode.c) when it was built; False: in NumPy.
    """

    MIN_LOG = -500.0

    def __init__(
        self, crf: CRF | CRFScores, temperature: float = 1.0, use_compiled: bool = True
    ) -> None:
        scores = crf if isinstance(crf, CRFScores) else CRFScores.of_crf(crf)
        self.transitions = np.ascontiguousarray(scores.transitions, dtype=np.float64)  # (K, K)
        self.start = np.ascontiguousarray(scores.start, dtype=np.float64)  # (K,)
        self.end = np.ascontiguousarray(scores.end, dtype=np.float64)  # (K,)
        self.temperature = temperature
        self.compiled = compiled if use_compiled else None
        tau = temperature
        self._moves = np.exp(self.transitions / tau)  # (K, K); forbidden moves are exactly 0
        self._moves_t = np.ascontiguousarray(self._moves.T)  # (K, K)
        self._start_p = np.exp(self.start / tau - (self.start / tau).max())  # (K,)
        end_p = np.exp(self.end / tau - (self.end / tau).max())  # (K,)
        self._end_p = end_p / end_p.sum()  # (K,)

    def decode(
        self,
        emissions: np.ndarray,
        lengths: Sequence[int],
        allowed: np.ndarray | None = None,
    ) -> tuple[list[list[int]], list[list[float]]]:
        """Best path per sentence and the marginal probability of each chosen tag.

        Args:
            emissions: (batch, seq_len, K) scores; rows past each length are ignored.
            lengths: real tokens per sentence.
            allowed: (batch, seq_len, K) bool, the tags each token may take (None: all). A tag
                not allowed is never on the best path and gets no probability mass; tag 0 must
                stay allowed everywhere, so that a path always exists.
        """
        emissions = emissions.astype(np.float64)  # (B, T, K)
        if allowed is not None and (allowed.shape != emissions.shape or not allowed[..., 0].all()):
            raise ValueError(
                f"expected allowed of shape {emissions.shape} with tag 0 allowed everywhere, "
                f"got shape {allowed.shape}"
            )
        if self.compiled is not None and np.isfinite(emissions).all():
            # (A NaN or an infinity from a broken network: NumPy's rules say what comes of it,
            # NaN confidences, so the C code is held to finite scores.)
            return self._decode_compiled(emissions, lengths, allowed)
        if allowed is not None:
            emissions = np.where(allowed, emissions, FORBIDDEN)  # (B, T, K)
        batch, seq_len, num_tags = emissions.shape
        padded = min(lengths) < seq_len
        mask = np.arange(seq_len)[None, :, None] < np.asarray(lengths)[:, None, None]  # (B, T, 1)
        # ----- Viterbi -----
        score = self.start + emissions[:, 0]  # (B, K)
        pointers = np.zeros((batch, seq_len, num_tags), dtype=np.intp)  # (B, T, K)
        for t in range(1, seq_len):
            candidates = score[:, :, None] + self.transitions  # (B, K, K)
            candidates.argmax(1, out=pointers[:, t])  # (B, K)
            step = np.maximum.reduce(candidates, axis=1) + emissions[:, t]  # (B, K)
            score = np.where(mask[:, t], step, score) if padded else step  # (B, K)
        last = (score + self.end).argmax(1)  # (B,)
        # Backtrack the whole batch at once; each sentence starts from its own last token.
        ends = np.asarray(lengths) - 1  # (B,)
        rows = np.arange(batch)  # (B,)
        best = np.empty((batch, seq_len), dtype=np.intp)  # (B, T)
        current = last
        for t in range(seq_len - 1, -1, -1):
            current = np.where(t >= ends, last, current) if padded else current  # (B,)
            best[:, t] = current
            if t > 0:
                current = pointers[rows, t, current]  # (B,)
        # ----- forward-backward at the temperature, as scans over rescaled probabilities -----
        scaled = emissions / self.temperature  # (B, T, K)
        scaled -= np.maximum.reduce(scaled, axis=2, keepdims=True)
        weights = np.exp(np.maximum(scaled, self.MIN_LOG))  # (B, T, K), best tag of a step is 1
        alphas = np.empty_like(weights)  # (B, T, K)
        betas = np.empty_like(weights)  # (B, T, K)
        alphas[:, 0] = self._start_p * weights[:, 0]
        betas[:, seq_len - 1] = self._end_p
        if seq_len > 1 and num_tags > SCAN_MAX_TAGS:
            self._steps(weights, alphas, betas, mask)
        elif seq_len > 1:
            # moves[:, t - 1] = the step from t - 1 to t; past a sentence's end, the identity.
            moves = self._moves * weights[:, 1:, None, :]  # (B, T-1, K, K)
            if padded:
                moves = np.where(mask[:, 1:, :, None], moves, np.eye(num_tags))
            prefix = _scan(moves, reverse=False)  # prefix[:, t - 1] = moves 1..t
            suffix = _scan(moves, reverse=True)  # suffix[:, t] = moves t+1..T-1
            alphas[:, 1:] = (alphas[:, :1, None, :] @ prefix)[:, :, 0]
            betas[:, :-1] = suffix @ self._end_p
        probs = alphas * betas  # (B, T, K), unnormalized marginals
        probs /= probs.sum(2, keepdims=True)
        np.minimum(probs, 1.0, out=probs)  # rounding may leave 1 + 1e-16
        picked = probs[rows[:, None], np.arange(seq_len), best]  # (B, T)
        paths = [row[:n] for row, n in zip(best.tolist(), lengths, strict=True)]
        chosen = [row[:n] for row, n in zip(picked.tolist(), lengths, strict=True)]
        return paths, chosen

    def _decode_compiled(
        self, emissions: np.ndarray, lengths: Sequence[int], allowed: np.ndarray | None
    ) -> tuple[list[list[int]], list[list[float]]]:
        """:meth:`decode` in C: emissions (B, T, K) float64, allowed checked or None."""
        assert self.compiled is not None
        batch, seq_len, _ = emissions.shape
        paths = np.empty((batch, seq_len), dtype=np.int64)  # (B, T)
        picked = np.empty((batch, seq_len), dtype=np.float64)  # (B, T)
        self.compiled.decode(
            np.ascontiguousarray(emissions),
            np.ascontiguousarray(lengths, dtype=np.int64),
            None if allowed is None else np.ascontiguousarray(allowed, dtype=np.bool_),
            self.transitions,
            self.start,
            self.end,
            self._moves,
            self._start_p,
            self._end_p,
            self.temperature,
            self.MIN_LOG,
            FORBIDDEN,
            TINY,
            paths,
            picked,
        )
        return (
            [row[:n] for row, n in zip(paths.tolist(), lengths, strict=True)],
            [row[:n] for row, n in zip(picked.tolist(), lengths, strict=True)],
        )

    def _steps(
        self, weights: np.ndarray, alphas: np.ndarray, betas: np.ndarray, mask: np.ndarray
    ) -> None:
        """Forward-backward one token at a time, each row rescaled to its largest entry (only
        ratios within a row matter to the marginals); fills ``alphas`` and ``betas`` (B, T, K)
        from their first and last rows. Past a sentence's end, beta stays the end scores."""
        seq_len = weights.shape[1]
        for t in range(1, seq_len):
            step = (alphas[:, t - 1] @ self._moves) * weights[:, t]  # (B, K)
            alphas[:, t] = step / np.maximum(step.max(1, keepdims=True), TINY)
        for t in range(seq_len - 2, -1, -1):
            step = (weights[:, t + 1] * betas[:, t + 1]) @ self._moves_t  # (B, K)
            step /= np.maximum(step.max(1, keepdims=True), TINY)
            betas[:, t] = np.where(mask[:, t + 1], step, self._end_p)  # (B, K)
