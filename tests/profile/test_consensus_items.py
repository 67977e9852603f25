"""consensus_items: the distinct names of a consensus, in order of first occurrence."""

from __future__ import annotations

from rudder.profile import consensus_items, format_consensus


def test_consensus_items_keeps_first_occurrences():
    names = ["log", "log", "planks", "crafting_table", "log", "stick", "planks"]
    assert consensus_items(names) == ["log", "planks", "crafting_table", "stick"]
    assert consensus_items([]) == []
    assert format_consensus(names).startswith("2× log, planks")
