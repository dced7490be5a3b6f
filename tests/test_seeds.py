"""The one seed-list parser that the CLI, the littering evaluation and the footage renderer share."""

from __future__ import annotations

import pytest

from estatewatch.bench import littering_eval, world_cache
from estatewatch.bench.seeds import parse_seeds
from estatewatch.commands import vision as vision_commands


@pytest.mark.parametrize(("text", "seeds"), [
    ("", []),
    (" , ,", []),
    ("7", [7]),
    ("1-5", [1, 2, 3, 4, 5]),
    ("3,5,9-11", [3, 5, 9, 10, 11]),
    (" 1 , 2 - 3 ", [1, 2, 3]),
    ("9-11,3", [9, 10, 11, 3]),  # the order written, not sorted
    ("5-3", []),  # an empty range, as range() has it
    ("-2-1", [-2, -1, 0, 1]),
])
def test_the_accepted_forms(text: str, seeds: list[int]) -> None:
    assert parse_seeds(text) == seeds


def test_a_long_range_is_every_seed_in_it() -> None:
    assert parse_seeds("1-40") == list(range(1, 41))


@pytest.mark.parametrize("text", ["a", "3-", "1-2-3", "1-x", "1;2", "1.5"])
def test_a_malformed_part_is_named_in_the_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"seeds: .* is neither a seed nor a range"):
        parse_seeds(text)


def test_the_commands_and_the_benchmarks_use_this_parser() -> None:
    for module in (vision_commands, littering_eval, world_cache):
        assert vars(module)["parse_seeds"] is parse_seeds, module.__name__
