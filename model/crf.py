"""A linear-chain CRF with BIO constraints: training loss, Viterbi decoding and tag marginals
(in torch; the NumPy decoder that inference uses is model/decode.py).

Convention, stated once: ``transitions[i, j]`` scores moving from tag ``i`` to tag ``j``.
All tensors are batch-first; ``mask[b, t]`` is True for real tokens, which come first in each row.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

# Added to a transition BIO forbids; large enough that no path takes it. Defined beside the
# NumPy decoder (model/decode.py), which serving uses without torch.
from model.decode import FORBIDDEN

# From this many tags on, the forward algorithm takes each step as a (batch, K) x (K, K) matrix
# product of rescaled probabilities instead of a log-sum-exp over a (batch, K, K) tensor: with
# 241 tags (ATIS's 120 labels), 15x less time for the loss and its gradient on one thread. Fewer
# tags (the shipped model has 7) keep the log-sum-exp, and so their exact numbers.
MATMUL_MIN_TAGS = 33
# A floor for a step's summed probability: a tag reachable only through paths e^-69 below the
# best one (float32 underflow) is scored as that, which changes log Z by less than 1e-30.
TINY = 1e-30


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
        by_matmul = self.num_tags >= MATMUL_MIN_TAGS
        if by_matmul:
            # logsumexp_i(alpha_i + T_ij)
            #   = top + shift + log(sum_i e^(alpha_i - top) e^(T_ij - shift))
            # for any constants top and shift; detached, they carry no gradient (none is due).
            shift = transitions.max().detach()  # ()
            moves = torch.exp(transitions - shift)  # (K, K); forbidden moves are 0
        for t in range(1, emissions.shape[1]):
            if by_matmul:
                top = alpha.max(1, keepdim=True).values.detach()  # (B, 1)
                summed = torch.exp(alpha - top) @ moves  # (B, K)
                step = torch.log(torch.clamp(summed, min=TINY)) + top + shift  # (B, K)
            else:
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
