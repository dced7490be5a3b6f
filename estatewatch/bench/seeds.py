"""Seed lists as the evaluation and render commands take them: ``1-40``, ``3,5,9-11``; empty means none.

One parser for the CLI (``estatewatch eval littering``) and the benchmark scripts, so a range typed into one means
the same scenes in the other.
"""

from __future__ import annotations

import re

_PART = re.compile(r"(-?\d+)(?:\s*-\s*(-?\d+))?")


def parse_seeds(text: str) -> list[int]:
    """The seeds of comma-separated parts, each a seed or an inclusive range ``lo-hi``, in the order written.

    Blank parts are skipped (``""`` is no seeds); a range whose end is below its start is empty.

    Raises:
        ValueError: a part that is neither a whole number nor a range, named in the message.
    """
    seeds: list[int] = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        match = _PART.fullmatch(part)
        if match is None:
            raise ValueError(f"seeds: {part!r} is neither a seed nor a range lo-hi (e.g. 1-40,45)")
        lo, hi = match.group(1), match.group(2)
        seeds.extend(range(int(lo), int(hi if hi is not None else lo) + 1))
    return seeds
