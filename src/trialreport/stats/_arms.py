"""Arm labels and (treatment, reference) pairs, resolved strictly to column positions."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from numbers import Integral

__all__ = ["Pair", "resolve_arm", "resolve_pairs"]

Pair = tuple[Hashable, Hashable]


def _is_position(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def resolve_arm(arms: Sequence[Hashable], arm: Hashable, what: str = "arm") -> int:
    """Position of ``arm`` in ``arms``: a label of ``arms``, or else a 0-based position.

    A value that is one of the labels is always read as that label. An integer is read as
    a position only when no label is an integer (so arm codes such as 0, 54, 81 cannot be
    mistaken for positions). Anything else is an error naming the arms.
    """
    labels = list(arms)
    if len(set(labels)) != len(labels):
        dupes = sorted({str(a) for a in labels if labels.count(a) > 1})
        raise ValueError(f"arm labels must be unique; repeated: {', '.join(dupes)}")
    try:
        if arm in labels:
            return labels.index(arm)
    except TypeError:  # unhashable
        pass
    if _is_position(arm) and not any(_is_position(a) for a in labels):
        if 0 <= int(arm) < len(labels):
            return int(arm)
        raise ValueError(f"{what} position {arm} is out of range: there are {len(labels)} arms")
    known = ", ".join(repr(a) for a in labels)
    raise ValueError(f"unknown {what} {arm!r}; arms are {known}")


def resolve_pairs(arms: Sequence[Hashable], reference: Hashable | None = None,
                  pairs: Sequence[Pair] | None = None) -> list[tuple[int, int]]:
    """``(treatment, reference)`` position pairs from exactly one of ``reference`` / ``pairs``.

    ``reference``: every other arm against it, in arm order. ``pairs``: as given, in order;
    a pair of an arm with itself, or the same pair twice, is an error.
    """
    if (reference is None) == (pairs is None):
        raise ValueError("give exactly one of reference= (all arms against it) or pairs=")
    if reference is not None:
        ref = resolve_arm(arms, reference, "reference arm")
        return [(i, ref) for i in range(len(arms)) if i != ref]
    out: list[tuple[int, int]] = []
    for k, pair in enumerate(pairs):
        try:
            treatment, ref = pair
        except (TypeError, ValueError):
            raise ValueError(
                f"pairs[{k}] = {pair!r} is not a (treatment, reference) pair") from None
        t = resolve_arm(arms, treatment, "treatment arm")
        r = resolve_arm(arms, ref, "reference arm")
        if t == r:
            raise ValueError(f"pairs[{k}] compares arm {arms[t]!r} with itself")
        if (t, r) in out:
            raise ValueError(f"pairs[{k}] ({arms[t]!r}, {arms[r]!r}) is given twice")
        out.append((t, r))
    if not out:
        raise ValueError("pairs is empty: nothing to compare")
    return out
