"""An ensemble of taggers as one: :func:`merge` puts K trained taggers side by side in one tagger
(``TaggerConfig.members`` K) whose tag scores are the mean of theirs, under one CRF whose scores
are the mean of theirs.

Each member keeps its own network whole (embeddings, character CNN, recurrent layer, output
layer); the members read the same tokens through the same vocabularies, which is why they must
have been trained on the same data. Decoding the mean scores decodes the product of the members'
CRFs (each to the power 1/K): the one path they agree on most, and marginals from that product.

It is exact: the merged tagger gives the members' mean emissions to float rounding
(tests/model/test_ensemble.py), and everything downstream of a tagger (saving, the ONNX graphs,
calibration, serving) takes it as it is. It costs what its members cost together: K times the
weights, and K recurrent layers per batch instead of one. Fine-tuning a merged model trains its
members together, through the mean.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from model.tagger import BiLSTMTagger


def merge(members: Sequence[BiLSTMTagger]) -> BiLSTMTagger:
    """One tagger whose emissions are the mean of the members' and whose CRF scores are the mean
    of theirs (see the module docstring); one member is returned as it is.

    Args:
        members: trained taggers of one network each, with the same config and the same
            vocabularies (the same training data gives the same ones).

    Raises:
        ValueError: no members, or members that cannot be merged (another config, other
            vocabularies, an ensemble among them).
    """
    if not members:
        raise ValueError("expected at least one tagger to merge, got none")
    config, vocabs = members[0].config, members[0].vocabs
    for k, member in enumerate(members, start=1):
        if member.config.members > 1:
            raise ValueError(f"expected taggers of one network each, member {k} is an ensemble")
        if member.config != config:
            differ = ", ".join(
                f"{name} {value!r} (member 1: {getattr(config, name)!r})"
                for name, value in member.config.model_dump().items()
                if getattr(config, name) != value
            )
            raise ValueError(f"expected members with the same config, member {k} has {differ}")
        if member.vocabs != vocabs:
            raise ValueError(
                f"expected members with the same vocabularies, member {k} has others "
                "(train every member on the same data)"
            )
    if len(members) == 1:
        return members[0]
    merged = BiLSTMTagger(config.model_copy(update={"members": len(members)}), vocabs).eval()
    assert merged.members is not None
    with torch.no_grad():
        for network, member in zip(merged.members, members, strict=True):
            state = member.state_dict()
            network.load_state_dict({k: v for k, v in state.items() if not k.startswith("crf.")})
        crfs = [m.crf.state_dict() for m in members]
        merged.crf.load_state_dict(
            {key: torch.stack([c[key] for c in crfs]).mean(dim=0) for key in crfs[0]}
        )
    return merged
