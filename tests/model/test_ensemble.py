"""model.ensemble.merge: the wide network scores what its members score on average, exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from model import artifact
from model.config import TaggerConfig
from model.decode import CRFScores, FastDecoder
from model.encode import Encoder, Vocabs
from model.ensemble import merge
from model.lexicon import Lexicon, clusters_by_word
from model.predictor import Predictor
from model.tagger import BiLSTMTagger
from model.tokenize import tokenize
from model.vocab import Vocab
from tests.model.test_lexicon import CLUSTERS, LOG_PROBS, TABLE, ZIPF

TEXTS = [
    "leave Beijing on November 2nd",
    "i want to fly from denver to chicago tomorrow",
    "Stay in Paris",
    "thanks",
    "from Boston to Bali on Monday, then dine",
]
SMALL = {"word_dim": 6, "char_dim": 4, "char_filters": 5, "shape_dim": 3, "hidden_dim": 7}


@pytest.fixture(scope="module")
def vocabs() -> Vocabs:
    words = {t.text.lower() for text in TEXTS for t in tokenize(text)}
    chars = {c for text in TEXTS for c in text}
    labels = ["departure", "destination", "date"]
    lexicon = Lexicon.build(TABLE, ZIPF, ZIPF.__getitem__, clusters_by_word(CLUSTERS, LOG_PROBS))
    return Vocabs(
        words=Vocab(sorted(words)),
        chars=Vocab(sorted(chars)),
        tags=Vocab(["O", *(f"{p}-{label}" for label in labels for p in "BI")], specials=False),
        lexicon=lexicon,
    )


def _members(config: TaggerConfig, vocabs: Vocabs, count: int) -> list[BiLSTMTagger]:
    """Taggers with random weights everywhere (the CRF and the zero-initialised cluster tables
    too), so that no block of the merge can be wrong unseen."""
    members = []
    for seed in range(count):
        torch.manual_seed(seed)
        tagger = BiLSTMTagger(config, vocabs)
        with torch.no_grad():
            for name, parameter in tagger.named_parameters():
                if "embedding" in name:
                    parameter.normal_()
                    if parameter.shape[0] > 1:
                        parameter[0] = 0.0  # the padding row stays zero, as training keeps it
                elif "crf" in name:
                    parameter.normal_()
        members.append(tagger.eval())
    return members


def _emissions(tagger: BiLSTMTagger, vocabs: Vocabs) -> np.ndarray:
    batch = Encoder(vocabs, tagger.config.max_word_chars)(
        [[t.text for t in tokenize(text)] for text in TEXTS]
    )  # sentences of several lengths: the padded, packed path
    with torch.no_grad():
        return tagger.emissions(batch).numpy()


@pytest.mark.parametrize(
    "options",
    [
        {},  # the default network: a BiLSTM over words, characters, shape, frequency and places
        {"cell": "gru", "layers": 2, "bidirectional": False, "char_dim": 0, "frequency_dim": 0},
        {"cell": "rnn", "cluster_dim": 2, "gazetteer_dim": 0, "shape_dim": 0},
        {"layers": 3, "cluster_dim": 3, "char_kernel": 5},
        {"cell": "peephole", "use_crf": False},
    ],
    ids=["default", "gru-2-layers-one-way", "rnn-clusters", "lstm-3-layers", "peephole-no-crf"],
)
@pytest.mark.parametrize("count", [2, 3])
def test_the_merged_network_scores_the_mean_of_its_members(options, count, vocabs) -> None:
    config = TaggerConfig(**{**SMALL, **options})
    members = _members(config, vocabs, count)
    wide = merge(members)
    assert wide.config == config.model_copy(update={"members": count})
    mean = np.mean([_emissions(m, vocabs) for m in members], axis=0)
    np.testing.assert_allclose(_emissions(wide, vocabs), mean, atol=1e-5, rtol=1e-5)
    wide_crf, crfs = CRFScores.of_crf(wide.crf), [CRFScores.of_crf(m.crf) for m in members]
    for field in ("transitions", "start", "end"):
        expected = np.mean([getattr(c, field) for c in crfs], axis=0)
        np.testing.assert_allclose(getattr(wide_crf, field), expected, atol=1e-6)


def test_the_merged_network_decodes_the_members_mean_scores(vocabs) -> None:
    config = TaggerConfig(**SMALL)
    members = _members(config, vocabs, 2)
    wide = merge(members)
    emissions = np.mean([_emissions(m, vocabs) for m in members], axis=0)
    crfs = [CRFScores.of_crf(m.crf) for m in members]
    mean_crf = CRFScores(
        *(np.mean([getattr(c, f) for c in crfs], axis=0) for f in ("transitions", "start", "end"))
    )
    lengths = [len(tokenize(text)) for text in TEXTS]
    expected = FastDecoder(mean_crf).decode(emissions, lengths)
    got = FastDecoder(wide.crf).decode(_emissions(wide, vocabs), lengths)
    assert got[0] == expected[0]  # the same best paths
    np.testing.assert_allclose(np.concatenate(got[1]), np.concatenate(expected[1]), atol=1e-5)


def test_one_member_merged_is_the_member(vocabs) -> None:
    [member] = _members(TaggerConfig(**SMALL), vocabs, 1)
    assert merge([member]) is member


@pytest.mark.parametrize(
    "options",
    [{}, {"cell": "peephole", "cluster_dim": 2}, {"cell": "gru", "bidirectional": False}],
    ids=["default", "peephole-clusters", "gru-one-way"],
)
def test_a_merged_model_saves_loads_and_serves_on_both_backends(options, vocabs, tmp_path) -> None:
    wide = merge(_members(TaggerConfig(**{**SMALL, **options}), vocabs, 2))
    meta = artifact.save(tmp_path / "wide", wide, name="wide")
    assert meta.format_version == artifact.ENSEMBLE_FORMAT_VERSION  # older releases refuse it
    loaded = artifact.load(tmp_path / "wide")
    assert loaded.config == wide.config
    answers = {
        backend: [
            (p.tags, [(s.start, s.end, s.label) for s in p.spans])
            for p in Predictor.from_dir(tmp_path / "wide", backend=backend).predict(TEXTS)
        ]
        for backend in ("torch", "onnx")
    }
    assert answers["torch"] == answers["onnx"]


def test_members_that_cannot_be_merged_are_refused_with_the_reason(vocabs) -> None:
    config = TaggerConfig(**SMALL)
    [a] = _members(config, vocabs, 1)
    [wider] = _members(config.model_copy(update={"hidden_dim": 9}), vocabs, 1)
    with pytest.raises(ValueError, match=r"member 2 has hidden_dim 9 \(member 1: 7\)"):
        merge([a, wider])
    others = Vocabs(
        Vocab([*vocabs.words.items[2:], "zebra"]), vocabs.chars, vocabs.tags, vocabs.lexicon
    )
    with pytest.raises(ValueError, match="member 2 has others"):
        merge([a, BiLSTMTagger(config, others)])
    with pytest.raises(ValueError, match="member 1 is an ensemble"):
        merge([merge(_members(config, vocabs, 2)), a])
    with pytest.raises(ValueError, match="at least one"):
        merge([])
