"""Dialogue context: the earlier turns of a conversation, as the tokens the network reads first.

A chatbot asks "Where will you be flying from?" and the user types "Boston.": the text alone
cannot say whether Boston is a departure. A model trained with context (``TaggerConfig.
context_tokens`` > 0) reads the last turns before the text, each turn followed by
:data:`SEPARATOR`, then the text itself::

    where will you be flying from ? <turn> Boston .

The context tokens are always tagged O (no span is ever returned in them: the decoder may not
tag them, and training's gold tags are O), so they only steer the text's tags, the way "leave"
steers "Beijing". A model trained without context (``context_tokens`` 0, every model saved before
this existed) ignores context, so its answers stay exactly what they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

from model.tokenize import tokenize

# What a caller may pass as one text's context: its turns, one string (one turn), or nothing.
Context: TypeAlias = Sequence[str] | str | None

# Ends each turn of the context: a token no text produces (the tokenizer splits "<" and ">").
SEPARATOR = "<turn>"


def context_prefix(context: Sequence[str], budget: int) -> list[str]:
    """The token texts the network reads before the text: the last ``budget`` tokens of the
    turns (oldest first), each turn followed by :data:`SEPARATOR`.

    Args:
        context: the earlier turns, oldest first, the turn just before the text last.
        budget: most tokens kept, separators included, counted from the end; 0 keeps none.

    Returns:
        Token texts; empty when ``budget`` is 0 or no turn has a token.
    """
    if budget <= 0:
        return []
    kept: list[str] = []
    for turn in reversed(context):
        tokens = [t.text for t in tokenize(turn)]
        if not tokens:
            continue
        kept = [*tokens, SEPARATOR, *kept]
        if len(kept) >= budget:
            return kept[-budget:]
    return kept


def as_turns(context: Context) -> list[str]:
    """The context as a list of turns: a single string is one turn, None is no context."""
    if context is None:
        return []
    if isinstance(context, str):
        return [context]
    return list(context)
