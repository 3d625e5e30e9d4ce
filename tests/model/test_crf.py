"""The CRF against brute force over every tag path (pytorch-crf's oracle)."""

import itertools

import numpy as np
import pytest
import torch

from model import decode
from model.crf import CRF, allowed_transitions

TAGS = ["O", "B-a", "I-a", "B-b", "I-b"]


def make_crf(seed: int = 0) -> CRF:
    torch.manual_seed(seed)
    crf = CRF(len(TAGS), *allowed_transitions(TAGS))
    with torch.no_grad():
        for p in (crf.transitions, crf.start_transitions, crf.end_transitions):
            p.normal_()
    return crf


def brute_force(crf: CRF, emissions: torch.Tensor, length: int) -> dict[tuple[int, ...], float]:
    """Score of every path of the first ``length`` tokens of one sentence."""
    scores = {}
    mask = torch.ones(1, length, dtype=torch.bool)
    for path in itertools.product(range(len(TAGS)), repeat=length):
        tag_ids = torch.tensor([path])
        scores[path] = crf.path_score(emissions[None, :length], tag_ids, mask).item()
    return scores


def test_log_partition_viterbi_and_marginals_match_brute_force_with_padding() -> None:
    crf = make_crf()
    lengths = [4, 2, 1]
    emissions = torch.randn(3, 4, len(TAGS))
    mask = torch.arange(4)[None, :] < torch.tensor(lengths)[:, None]
    log_z = crf.log_partition(emissions, mask)
    paths = crf.viterbi(emissions, mask)
    marginals = crf.marginals(emissions, mask)
    for b, n in enumerate(lengths):
        scores = brute_force(crf, emissions[b], n)
        values = torch.tensor(list(scores.values()))
        assert torch.allclose(log_z[b], torch.logsumexp(values, 0), atol=1e-4)
        assert tuple(paths[b]) == max(scores, key=scores.get)
        probs = (values - torch.logsumexp(values, 0)).exp()
        for t in range(n):
            for k in range(len(TAGS)):
                expected = sum(p for path, p in zip(scores, probs, strict=True) if path[t] == k)
                assert abs(marginals[b, t, k].item() - float(expected)) < 1e-4
        assert torch.all(marginals[b, n:] == 0)


def test_decoding_never_yields_ill_formed_bio_even_when_emissions_ask_for_it() -> None:
    crf = make_crf(1)
    emissions = torch.zeros(2, 3, len(TAGS))
    emissions[:, :, TAGS.index("I-a")] = 50.0  # every token wants I-a
    emissions[1, 1, TAGS.index("B-b")] = 100.0  # ... and B-b -> I-a in the second sentence
    for path in crf.viterbi(emissions, torch.ones(2, 3, dtype=torch.bool)):
        tags = [TAGS[k] for k in path]
        previous = "O"
        for tag in tags:
            if tag.startswith("I-"):
                assert previous in (f"B-{tag[2:]}", tag), tags
            previous = tag


def test_allowed_transitions_follow_bio() -> None:
    allowed, allowed_start = allowed_transitions(TAGS)
    assert not allowed[TAGS.index("O"), TAGS.index("I-a")]
    assert not allowed[TAGS.index("B-b"), TAGS.index("I-a")]
    assert allowed[TAGS.index("B-a"), TAGS.index("I-a")]
    assert allowed[TAGS.index("I-a"), TAGS.index("B-b")]
    assert allowed_start.tolist() == [True, True, False, True, False]


def test_nll_is_log_partition_minus_gold_score() -> None:
    crf = make_crf(2)
    emissions = torch.randn(1, 3, len(TAGS))
    mask = torch.ones(1, 3, dtype=torch.bool)
    gold = torch.tensor([[1, 2, 0]])
    expected = crf.log_partition(emissions, mask) - crf.path_score(emissions, gold, mask)
    assert torch.allclose(crf.nll(emissions, gold, mask), expected.mean())


def test_temperature_divides_every_score_and_keeps_the_best_path() -> None:
    crf = make_crf(3)
    emissions = torch.randn(1, 3, len(TAGS))
    mask = torch.ones(1, 3, dtype=torch.bool)
    scores = brute_force(crf, emissions[0], 3)
    values = torch.tensor(list(scores.values())) / 2.0
    probs = (values - torch.logsumexp(values, 0)).exp()
    marginals = crf.marginals(emissions, mask, temperature=2.0)
    for t in range(3):
        for k in range(len(TAGS)):
            expected = sum(p for path, p in zip(scores, probs, strict=True) if path[t] == k)
            assert abs(marginals[0, t, k].item() - float(expected)) < 1e-4
    sharp = crf.marginals(emissions, mask).max(dim=2).values
    soft = marginals.max(dim=2).values
    assert torch.all(soft <= sharp + 1e-6)


def _assert_fast_decoder_matches(crf: CRF, emissions: torch.Tensor, lengths: list[int]) -> None:
    """FastDecoder's paths are the torch CRF's Viterbi paths, and its chosen tags' marginals the
    torch CRF's, at two temperatures, on a padded batch, in C and in NumPy."""
    from model.decode import FastDecoder

    mask = torch.arange(emissions.shape[1])[None, :] < torch.tensor(lengths)[:, None]
    for temperature, use_compiled in itertools.product((1.0, 1.7), (True, False)):
        decoder = FastDecoder(crf, temperature, use_compiled=use_compiled)
        paths, chosen = decoder.decode(emissions.numpy(), lengths)
        assert paths == crf.viterbi(emissions, mask)
        marginals = crf.marginals(emissions, mask, temperature)
        for b, path in enumerate(paths):
            expected = marginals[b, torch.arange(len(path)), torch.tensor(path)].tolist()
            assert all(abs(x - y) < 1e-5 for x, y in zip(chosen[b], expected, strict=True))


def test_fast_decoder_matches_the_torch_crf_with_padding_and_temperature() -> None:
    crf = make_crf(4)
    lengths = [5, 3, 1, 4]
    emissions = torch.randn(4, 5, len(TAGS)) * 3
    _assert_fast_decoder_matches(crf, emissions, lengths)


def test_fast_decoder_with_many_tags_matches_the_torch_crf() -> None:
    """Past SCAN_MAX_TAGS the marginals come one token at a time: the same numbers."""
    from model.decode import SCAN_MAX_TAGS

    tags = ["O"] + [f"{p}-label_{k}.x" for k in range(30) for p in ("B", "I")]
    assert len(tags) > SCAN_MAX_TAGS
    torch.manual_seed(5)
    crf = CRF(len(tags), *allowed_transitions(tags))
    with torch.no_grad():
        for p in (crf.transitions, crf.start_transitions, crf.end_transitions):
            p.normal_()
    lengths = [6, 2, 1, 5]
    emissions = torch.randn(4, 6, len(tags)) * 3
    _assert_fast_decoder_matches(crf, emissions, lengths)


def test_many_tags_log_partition_and_gradient_match_the_log_sum_exp(monkeypatch) -> None:
    """From MATMUL_MIN_TAGS tags on, the forward algorithm multiplies matrices: same log Z, same
    gradients, with padding."""
    from model import crf as crf_module

    tags = ["O"] + [f"{p}-label_{k}.x" for k in range(30) for p in ("B", "I")]
    assert len(tags) >= crf_module.MATMUL_MIN_TAGS
    torch.manual_seed(6)
    crf = CRF(len(tags), *allowed_transitions(tags))
    with torch.no_grad():
        for p in (crf.transitions, crf.start_transitions, crf.end_transitions):
            p.normal_()
    emissions = (torch.randn(3, 7, len(tags)) * 3).requires_grad_()
    mask = torch.arange(7)[None, :] < torch.tensor([7, 4, 1])[:, None]
    tag_ids = torch.randint(0, len(tags), (3, 7))

    def run() -> tuple[torch.Tensor, list[torch.Tensor]]:
        crf.zero_grad()
        emissions.grad = None
        log_z = crf.log_partition(emissions, mask)
        crf.nll(emissions, tag_ids, mask).backward()
        return log_z.detach(), [emissions.grad.clone(), crf.transitions.grad.clone()]

    fast, fast_grads = run()
    monkeypatch.setattr(crf_module, "MATMUL_MIN_TAGS", 10**6)
    slow, slow_grads = run()
    assert torch.allclose(fast, slow, atol=1e-4)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(fast_grads, slow_grads, strict=True))


def _has_c_compiler() -> bool:
    import shutil
    import sysconfig

    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(compiler) is not None


needs_compiled = pytest.mark.skipif(
    decode.compiled is None, reason="model/_decode.c was not built (no C compiler)"
)


@pytest.mark.skipif(not _has_c_compiler(), reason="no C compiler: decoding runs in NumPy")
def test_the_compiled_decoder_is_built() -> None:
    """`pip install` on a machine with a C compiler builds model/_decode.c (setup.py): what the
    tests and the served model run."""
    assert decode.compiled is not None
    assert decode.FastDecoder(make_crf()).compiled is decode.compiled


@needs_compiled
@pytest.mark.parametrize("num_tags", [7, 41])
def test_compiled_and_numpy_decoders_agree_on_ties_limits_and_padding(num_tags: int) -> None:
    """The same paths, ties included (emissions rounded to integers tie often: both take the
    lowest tag), and the same marginals, with tags forbidden per token and forbidden moves."""
    from model.decode import FORBIDDEN, CRFScores, FastDecoder

    rng = np.random.default_rng(num_tags)
    for trial in range(60):
        batch, seq_len = int(rng.integers(1, 6)), int(rng.integers(1, 16))
        transitions = rng.normal(size=(num_tags, num_tags)) * 3
        transitions[rng.random((num_tags, num_tags)) < 0.2] += FORBIDDEN
        scores = CRFScores(transitions, rng.normal(size=num_tags), rng.normal(size=num_tags))
        emissions = (rng.normal(size=(batch, seq_len, num_tags)) * 4).astype(np.float32)
        if trial % 3 == 0:
            emissions = np.round(emissions)
        lengths = [seq_len, *rng.integers(1, seq_len + 1, size=batch - 1).tolist()]
        allowed = rng.random((batch, seq_len, num_tags)) < 0.7
        allowed[..., 0] = True
        limits = allowed if trial % 2 else None
        temperature = (1.0, 1.5, 0.7)[trial % 3]
        c_paths, c_chosen = FastDecoder(scores, temperature).decode(emissions, lengths, limits)
        np_paths, np_chosen = FastDecoder(scores, temperature, use_compiled=False).decode(
            emissions, lengths, limits
        )
        assert c_paths == np_paths
        for ours, theirs in zip(c_chosen, np_chosen, strict=True):
            assert np.allclose(ours, theirs, rtol=0, atol=1e-9)


@needs_compiled
@pytest.mark.parametrize(
    "change, message",
    [
        ({"lengths": np.array([0], dtype=np.int64)}, "expected lengths from 1 to T=3, got 0"),
        ({"lengths": np.array([4], dtype=np.int64)}, "expected lengths from 1 to T=3, got 4"),
        ({"lengths": np.array([3, 3], dtype=np.int64)}, "expected lengths of shape"),
        ({"emissions": np.zeros((1, 3, 5), dtype=np.float32)}, "expected emissions of 3 dim"),
        ({"emissions": np.zeros((1, 3, 0))}, "expected emissions of at least one tag"),
        ({"moves": np.zeros((4, 4))}, "expected moves of shape"),
        ({"end": np.zeros(3)}, "expected end of shape"),
        ({"allowed": np.ones((1, 2, 5), dtype=bool)}, "expected allowed of shape"),
        ({"paths": np.zeros((1, 6), dtype=np.int64)[:, ::2]}, "expected paths as a C-contig"),
        ({"temperature": 0.0}, "expected a temperature > 0"),
    ],
)
def test_the_compiled_decoder_refuses_arrays_it_cannot_read(change: dict, message: str) -> None:
    """Wrong shapes, types, lengths or a zero temperature: a ValueError naming what is wrong,
    never a read past an array."""
    k = len(TAGS)
    args = {
        "emissions": np.zeros((1, 3, k)),
        "lengths": np.array([3], dtype=np.int64),
        "allowed": None,
        "transitions": np.zeros((k, k)),
        "start": np.zeros(k),
        "end": np.zeros(k),
        "moves": np.ones((k, k)),
        "start_p": np.ones(k),
        "end_p": np.ones(k),
        "temperature": 1.0,
        "min_log": -500.0,
        "forbidden": -1e4,
        "tiny": 1e-300,
        "paths": np.zeros((1, 3), dtype=np.int64),
        "picked": np.zeros((1, 3)),
    }
    decode.compiled.decode(*args.values())  # as given, it decodes
    with pytest.raises(ValueError, match=message):
        decode.compiled.decode(*{**args, **change}.values())


def test_scores_that_are_not_finite_decode_as_numpy_reads_them() -> None:
    """A NaN or an infinity among the scores (a broken network) gives what NumPy's rules give,
    NaN confidences, not confident-looking numbers: such a batch is decoded in NumPy."""
    from model.decode import FastDecoder

    crf = make_crf(2)
    emissions = torch.randn(2, 4, len(TAGS)).numpy()
    emissions[1, 2, 3] = np.nan
    c_paths, c_chosen = FastDecoder(crf).decode(emissions, [4, 4])
    np_paths, np_chosen = FastDecoder(crf, use_compiled=False).decode(emissions, [4, 4])
    assert c_paths == np_paths
    assert np.isnan(c_chosen[1]).all() and np.isnan(np_chosen[1]).all()
    assert c_chosen[0] == pytest.approx(np_chosen[0], abs=1e-12)


@needs_compiled
def test_the_compiled_decoder_takes_an_empty_batch_and_a_single_tag() -> None:
    """No sentences decode to nothing; with one tag every token takes it, with certainty."""
    from model.decode import CRFScores, FastDecoder

    decoder = FastDecoder(CRFScores(np.zeros((3, 3)), np.zeros(3), np.zeros(3)))
    assert decoder.decode(np.zeros((0, 4, 3)), []) == ([], [])
    single = FastDecoder(CRFScores(np.ones((1, 1)), np.zeros(1), np.zeros(1)))
    paths, chosen = single.decode(np.random.default_rng(0).normal(size=(2, 3, 1)), [3, 2])
    assert paths == [[0, 0, 0], [0, 0]]
    assert chosen == [[1.0, 1.0, 1.0], [1.0, 1.0]]
