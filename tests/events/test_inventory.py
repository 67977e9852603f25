"""InventoryEncoder: one event per gained (or lost) item."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.data.episode import Episode
from rudder.events import InventoryEncoder, load_encoder


def _episode(observations, *, infos=None) -> Episode:
    if isinstance(observations, dict):
        length = len(next(iter(observations.values()))) - 1
    else:
        length = len(observations) - 1
    return Episode(
        observations, np.zeros(length, dtype=np.int64), np.zeros(length), infos=infos or {}
    )


# A MineRL-like flattened observation. Step by step:
#   t0: log 0->1           gain log
#   t1: log 1->2           gain log
#   t2: log 2->1, planks 0->4     gain planks, lose log
#   t3: log 1->5           gain log (+4 is one event)
#   t4: nothing
#   t5: planks 4->3, stick 0->2   gain stick, lose planks
CRAFTING = _episode(
    {
        "pov": np.zeros((7, 2, 2)),
        "inventory/log": np.array([0, 1, 2, 1, 5, 5, 5]),
        "inventory/planks": np.array([0, 0, 0, 4, 4, 4, 3]),
        "inventory/stick": np.array([0, 0, 0, 0, 0, 0, 2]),
    }
)


@pytest.fixture(scope="module")
def crafting() -> InventoryEncoder:
    return InventoryEncoder().fit([CRAFTING])


def _names(encoder, sequence):
    return [encoder.alphabet.name(event) for event in sequence.events]


def test_gains_golden(crafting):
    assert crafting.items == ("log", "planks", "stick")
    assert crafting.alphabet.names == ("log", "planks", "stick", "other")
    sequence = crafting.encode(CRAFTING)
    assert _names(crafting, sequence) == ["log", "log", "planks", "log", "stick"]
    assert sequence.steps.tolist() == [1, 2, 3, 4, 6]


def test_losses_golden():
    encoder = InventoryEncoder(include_losses=True).fit([CRAFTING])
    assert encoder.alphabet.names == (
        "log",
        "planks",
        "stick",
        "-log",
        "-planks",
        "-stick",
        "other",
    )
    sequence = encoder.encode(CRAFTING)
    # Several events in one step come in alphabet order: gains before losses.
    assert _names(encoder, sequence) == ["log", "log", "planks", "-log", "log", "stick", "-planks"]
    assert sequence.steps.tolist() == [1, 2, 3, 3, 4, 6, 6]


def test_items_ordered_by_first_gain_then_name():
    episode = _episode(
        {
            "inventory/dirt": np.array([0, 0, 1]),
            "inventory/b": np.array([0, 1, 1]),
            "inventory/a": np.array([0, 1, 1]),
            "inventory/never": np.array([3, 3, 3]),
        }
    )
    encoder = InventoryEncoder().fit([episode])
    assert encoder.items == ("a", "b", "dirt")
    # Two items in one step: two events, in alphabet order.
    assert encoder.encode(episode).events.tolist() == [0, 1, 2]


def test_repeats_are_not_collapsed():
    logs = _episode({"inventory/log": np.arange(8)})
    encoder = InventoryEncoder().fit([logs])
    sequence = encoder.encode(logs)
    assert sequence.events.tolist() == [0] * 7
    assert sequence.steps.tolist() == list(range(1, 8))
    assert encoder.events_at_reset({"inventory/log": np.array(3)}) == []


def test_unseen_items_are_other(crafting):
    other = crafting.alphabet.index("other")
    before = {"inventory/log": 1, "inventory/diamond": 0}
    after = {"inventory/log": 2, "inventory/diamond": 1, "inventory/emerald": 3}
    assert crafting.events_at_step(before, 0, after, {}) == [0, other, other]
    # MineRL's nested dict at run time works too.
    nested_before = {"pov": np.zeros(3), "inventory": {"stick": 0}}
    nested_after = {"pov": np.zeros(3), "inventory": {"stick": 1, "torch": 1}}
    assert crafting.events_at_step(nested_before, 0, nested_after, {}) == [2, other]


def test_given_items_and_count_vectors():
    episode = _episode(np.array([[0, 0], [1, 0], [1, 2], [0, 2]]))
    encoder = InventoryEncoder(items=["planks", "log"], include_losses=True).fit([episode])
    assert encoder.alphabet.names == ("planks", "log", "-planks", "-log", "other")
    assert _names(encoder, encoder.encode(episode)) == ["planks", "log", "-planks"]
    with pytest.raises(ValueError, match="pass items="):
        InventoryEncoder().fit([episode])
    with pytest.raises(ValueError, match="`items` names 3 items"):
        InventoryEncoder(items=["a", "b", "c"]).fit([episode])


def test_source_info_holds_changes():
    changes = np.array([[1, 0], [0, 0], [2, 1], [0, -1]])
    episode = _episode(np.zeros(5), infos={"inventory": changes})
    encoder = InventoryEncoder(items=["log", "planks"], source="info").fit([episode])
    sequence = encoder.encode(episode)
    assert _names(encoder, sequence) == ["log", "log", "planks"]
    assert sequence.steps.tolist() == [1, 3, 3]
    # Flat info keys, items learned.
    flat = _episode(
        np.zeros(3), infos={"inventory/log": np.array([0, 1]), "inventory/dirt": np.array([1, 0])}
    )
    encoder = InventoryEncoder(source="info").fit([flat])
    assert encoder.items == ("dirt", "log")
    assert encoder.events_at_step(None, 0, None, {"inventory": {"log": 1, "gold": 2}}) == [1, 2]
    with pytest.raises(TypeError, match="info"):
        encoder.events_at_step(None, 0, None, [1, 2])


def test_prefix_options():
    episode = _episode({"log": np.array([0, 1]), "dirt": np.array([0, 0])})
    encoder = InventoryEncoder(prefix="").fit([episode])
    assert encoder.items == ("log",)
    with pytest.raises(
        ValueError, match="no key 'inventory' and no keys starting with 'inventory/'"
    ):
        InventoryEncoder().fit([episode])
    with pytest.raises(ValueError, match="single number"):
        InventoryEncoder(prefix="").fit([_episode({"log": np.zeros((2, 3))})])


def test_constructor_errors():
    with pytest.raises(ValueError, match="'other'"):
        InventoryEncoder(items=["log", "other"])
    with pytest.raises(ValueError, match="unique"):
        InventoryEncoder(items=["log", "log"])
    with pytest.raises(TypeError, match="string"):
        InventoryEncoder(items="log")
    with pytest.raises(ValueError, match="`source`"):
        InventoryEncoder(source="action")
    with pytest.raises(ValueError, match="clash"):
        InventoryEncoder(items=["a", "-a"], include_losses=True).fit(
            [_episode({"inventory/a": np.arange(2)})]
        )


def test_round_trip(crafting):
    config = json.loads(json.dumps(crafting.get_config()))
    loaded = load_encoder(config, crafting.get_arrays())
    assert loaded.items == crafting.items
    np.testing.assert_array_equal(loaded.encode(CRAFTING).events, crafting.encode(CRAFTING).events)


ITEMS = ("log", "planks", "stick", "diamond")


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(
        st.lists(st.integers(0, 3), min_size=len(ITEMS), max_size=len(ITEMS)),
        min_size=1,
        max_size=15,
    ),
    include_losses=st.booleans(),
)
def test_encode_equals_stream(counts, include_losses):
    counts = np.array(counts)
    episode = _episode({f"inventory/{item}": counts[:, i] for i, item in enumerate(ITEMS)})
    # Fitted without "diamond", which therefore maps to "other".
    encoder = InventoryEncoder(include_losses=include_losses).fit([CRAFTING])
    sequence = encoder.encode(episode)
    stream = encoder.stream()
    events = stream.reset(episode.observation(0))
    steps = [0] * len(events)
    for t in range(episode.length):
        new = stream.step(episode.observation(t), 0, episode.observation(t + 1), {})
        assert new == sorted(new)
        events += new
        steps += [t + 1] * len(new)
    assert sequence.events.tolist() == events
    assert sequence.steps.tolist() == steps
    # Exactly one event per item whose count went up (or down, with losses).
    change = np.diff(counts, axis=0)
    expected = int(np.sum(change > 0)) + (int(np.sum(change < 0)) if include_losses else 0)
    assert len(events) == expected
