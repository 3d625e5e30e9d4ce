"""Vocab: a frozen string <-> id table with padding and unknown entries, saved as a JSON list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1


class Vocab:
    """An immutable mapping between strings and contiguous ids.

    Args:
        items: the strings, in id order.
        specials: whether ids 0 and 1 are ``PAD`` and ``UNK`` (words and characters) or not (tags).
    """

    __slots__ = ("_items", "_index", "specials")

    def __init__(self, items: Sequence[str], *, specials: bool = True) -> None:
        items = list(items)
        if specials and items[:2] != [PAD, UNK]:
            items = [PAD, UNK, *(i for i in items if i not in (PAD, UNK))]
        if len(set(items)) != len(items):
            raise ValueError("expected unique vocabulary items, got duplicates")
        self._items = tuple(items)
        self._index = {s: i for i, s in enumerate(self._items)}
        self.specials = specials

    @classmethod
    def build(cls, counts: Mapping[str, int], min_count: int = 1) -> Vocab:
        """Strings seen at least ``min_count`` times, most frequent first (ties by text)."""
        kept = sorted(
            (s for s, n in counts.items() if n >= min_count), key=lambda s: (-counts[s], s)
        )
        return cls(kept)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, item: object) -> bool:
        return item in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self._items == other._items

    def __hash__(self) -> int:
        return hash(self._items)

    def id(self, item: str) -> int:
        """The id of ``item``; ``UNK_ID`` for an unseen string when the vocab has specials."""
        found = self._index.get(item)
        if found is not None:
            return found
        if self.specials:
            return UNK_ID
        raise KeyError(item)

    def ids(self, items: Iterable[str]) -> list[int]:
        return [self.id(s) for s in items]

    def item(self, id_: int) -> str:
        return self._items[id_]

    @property
    def items(self) -> tuple[str, ...]:
        return self._items

    def to_json(self) -> list[str]:
        return list(self._items)

    @classmethod
    def from_json(cls, items: list[str], *, specials: bool = True) -> Vocab:
        return cls(items, specials=specials)
