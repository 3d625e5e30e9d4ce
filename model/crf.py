"""A linear-chain CRF with BIO constraints: training loss, Viterbi decoding and tag marginals.

Convention, stated once: ``transitions[i, j]`` scores moving from tag ``i`` to tag ``j``.
All tensors are batch-first; ``mask[b, t]`` is True for real tokens, which come first in each row.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

FORBIDDEN = -1e4  # added to a transition BIO forbids; large enough that no path takes it


def allowed_transitions(tags: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Which moves keep BIO well-formed.

    ``I-x`` may only follow ``B-x`` or ``I-x``, and a sentence may not start with ``I-x``.

    Args:
        tags: the tag names, in id order.

    Returns:
        ``(allowed, allowed_start)``: bool tensors of shape (num_tags, num_tags) and (num_tags,).
    """
    num_tags = len(tags)
    allowed = torch.ones(num_tags, num_tags, dtype=torch.bool)  # (K, K)
    allowed_start = torch.ones(num_tags, dtype=torch.bool)  # (K,)
    for j, to_tag in enumerate(tags):
        prefix, _, label = to_tag.partition("-")
        if prefix != "I":
            continue
        allowed_start[j] = False
        for i, from_tag in enumerate(tags):
            allowed[i, j] = from_tag in (f"B-{label}", f"I-{label}")
    return allowed, allowed_start


class CRF(nn.Module):
    """Linear-chain CRF over emission scores.

    Args:
        num_tags: number of tags.
        allowed: (num_tags, num_tags) bool, the transitions that may be taken.
        allowed_start: (num_tags,) bool, the tags a sentence may start with.
    """

    def __init__(self, num_tags: int, allowed: torch.Tensor, allowed_start: torch.Tensor) -> None:
        super().__init__()
        if allowed.shape != (num_tags, num_tags) or allowed_start.shape != (num_tags,):
            raise ValueError(
                f"expected masks of shape ({num_tags}, {num_tags}) and ({num_tags},), "
                f"got {tuple(allowed.shape)} and {tuple(allowed_start.shape)}"
            )
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.zeros(num_tags, num_tags))  # (K, K)
        self.start_transitions = nn.Parameter(torch.zeros(num_tags))  # (K,)
        self.end_transitions = nn.Parameter(torch.zeros(num_tags))  # (K,)
        self.register_buffer("transition_penalty", (~allowed).float() * FORBIDDEN)  # (K, K)
        self.register_buffer("start_penalty", (~allowed_start).float() * FORBIDDEN)  # (K,)

    def _scores(self) -> tuple[torch.Tensor, torch.Tensor]:
        transitions = self.transitions + self.transition_penalty  # (K, K)
        start = self.start_transitions + self.start_penalty  # (K,)
        return transitions, start

    def log_partition(self, emissions: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """log Z per sentence: (batch, seq_len, K), (batch, seq_len) -> (batch,)."""
        return self._forward_alphas(emissions, mask)[1]

    def _forward_alphas(
        self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        transitions, start = self._scores()
        transitions, start = transitions / temperature, start / temperature  # (K, K), (K,)
        alpha = start + emissions[:, 0]  # (B, K)
        alphas = [alpha]
        for t in range(1, emissions.shape[1]):
            step = torch.logsumexp(alpha[:, :, None] + transitions[None], dim=1)  # (B, K)
            step = step + emissions[:, t]  # (B, K)
            alpha = torch.where(mask[:, t, None], step, alpha)  # (B, K)
            alphas.append(alpha)
        log_z = torch.logsumexp(alpha + self.end_transitions / temperature, dim=1)  # (B,)
        return alphas, log_z

    def path_score(
        self, emissions: torch.Tensor, tag_ids: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Score of the given tag paths: (batch, seq_len, K), (batch, seq_len) x2 -> (batch,)."""
        transitions, start = self._scores()
        maskf = mask.float()  # (B, T)
        emitted = emissions.gather(2, tag_ids[:, :, None]).squeeze(2)  # (B, T)
        score = start[tag_ids[:, 0]] + (emitted * maskf).sum(1)  # (B,)
        moves = transitions[tag_ids[:, :-1], tag_ids[:, 1:]]  # (B, T-1)
        score = score + (moves * maskf[:, 1:]).sum(1)  # (B,)
        last = tag_ids.gather(1, (mask.sum(1) - 1)[:, None]).squeeze(1)  # (B,)
        return score + self.end_transitions[last]  # (B,)

    def nll(
        self, emissions: torch.Tensor, tag_ids: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        """Mean negative log-likelihood of the gold paths over the batch (a scalar)."""
        log_z = self.log_partition(emissions, mask)  # (B,)
        return (log_z - self.path_score(emissions, tag_ids, mask)).mean()

    def viterbi(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The best allowed tag path of each sentence, as lists of length ``mask[b].sum()``."""
        transitions, start = self._scores()
        score = start + emissions[:, 0]  # (B, K)
        backpointers = []
        for t in range(1, emissions.shape[1]):
            best, index = (score[:, :, None] + transitions[None]).max(dim=1)  # (B, K) x2
            step = best + emissions[:, t]  # (B, K)
            score = torch.where(mask[:, t, None], step, score)  # (B, K)
            backpointers.append(index)
        score = score + self.end_transitions  # (B, K)
        lengths = mask.sum(1).tolist()
        last = score.argmax(1).tolist()
        pointers = torch.stack(backpointers, 1).tolist() if backpointers else []  # (B, T-1, K)
        paths = []
        for b, n in enumerate(lengths):
            path = [last[b]]
            for t in range(n - 2, -1, -1):
                path.append(pointers[b][t][path[-1]])
            paths.append(path[::-1])
        return paths

    def marginals(
        self, emissions: torch.Tensor, mask: torch.Tensor, temperature: float = 1.0
    ) -> torch.Tensor:
        """P(tag at t = k | sentence): (batch, seq_len, K) -> (batch, seq_len, K); 0 at padding.

        ``temperature`` divides every score (emissions and transitions) first: above 1 it
        softens overconfident probabilities (temperature scaling); the best path is unchanged.
        """
        transitions, _ = self._scores()
        transitions = transitions / temperature  # (K, K)
        emissions = emissions / temperature  # (B, T, K)
        alphas, log_z = self._forward_alphas(emissions, mask, temperature)
        seq_len = emissions.shape[1]
        beta = (self.end_transitions / temperature).expand(emissions.shape[0], -1)  # (B, K)
        betas = [beta]
        for t in range(seq_len - 2, -1, -1):
            step = torch.logsumexp(
                transitions[None] + (emissions[:, t + 1] + beta)[:, None, :], dim=2
            )  # (B, K)
            beta = torch.where(mask[:, t + 1, None], step, beta)  # (B, K)
            betas.append(beta)
        log_marginals = torch.stack(alphas, 1) + torch.stack(betas[::-1], 1)  # (B, T, K)
        probs = (log_marginals - log_z[:, None, None]).exp()  # (B, T, K)
        return probs * mask[:, :, None]  # (B, T, K)


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
    """The CRF's decoding in NumPy, for inference: the same results as :class:`CRF`'s ``viterbi``
    and ``marginals`` without a torch call per time step (a dozen small matrices per sentence cost
    more in dispatch than in arithmetic).

    The marginals come from forward-backward in probability space, rescaled at every step: a
    matrix product per step instead of a log-sum-exp (half the NumPy calls, the same numbers to
    about 1e-12). Scores are clipped at ``exp(-MIN_LOG)`` below the best tag of each step, so no
    row can underflow to all zeros; what that changes is a probability below 1e-200.

    Args:
        crf: the trained CRF; its scores are copied, so make a decoder after training changes them.
        temperature: divides every score for the marginals (see :meth:`CRF.marginals`).
    """

    MIN_LOG = -500.0

    def __init__(self, crf: CRF, temperature: float = 1.0) -> None:
        transitions, start = crf._scores()
        self.transitions = transitions.detach().double().numpy()  # (K, K)
        self.start = start.detach().double().numpy()  # (K,)
        self.end = crf.end_transitions.detach().double().numpy()  # (K,)
        self.temperature = temperature
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
        if allowed is not None:
            if allowed.shape != emissions.shape or not allowed[..., 0].all():
                raise ValueError(
                    f"expected allowed of shape {emissions.shape} with tag 0 allowed everywhere, "
                    f"got shape {allowed.shape}"
                )
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
        if seq_len > 1:
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
