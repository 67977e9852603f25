"""Events from inventory changes: one event each time an item is gained (or lost).

In Minecraft-like tasks (MineRL ObtainDiamond, the Align-RUDDER showcase) the natural
events are "got a log", "got planks", ...: every increase of an item count is an event
named after the item. Seven logs collected one after the other are seven events.

Where the inventory is read (``source``):

* ``source="observation"`` (the default): the inventory is part of the observation, and
  an event is emitted when a count in ``next_observation`` is larger than in
  ``observation``. The observation is either

  - a dict with ``key`` (default ``"inventory"``) mapping to a dict ``{item: count}``
    (MineRL's nested observation) or to a count vector aligned with ``items``;
  - a dict with flat keys ``prefix + item`` (default ``"inventory/log"``: the layout of
    a MineRL observation flattened into an :class:`~rudder.data.Episode`); with
    ``prefix=""`` every key of the dict is an item;
  - an array: a count vector aligned with ``items``.

* ``source="info"``: the step's ``info`` holds the *change* of the inventory in that
  step (``info`` of a single step cannot tell the previous counts), laid out as above:
  ``info[key]`` a dict ``{item: change}`` or a vector aligned with ``items``, or flat keys
  ``prefix + item``. Every positive change is a gain.

Example:
    >>> encoder = InventoryEncoder().fit(demonstrations)  # doctest: +SKIP
    >>> [encoder.alphabet.name(e) for e in encoder.encode(demonstrations[0]).events]  # doctest: +SKIP
    ['log', 'log', 'planks', 'crafting_table', ...]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from rudder.data.episode import Episode, check_episodes
from rudder.errors import DataFormatError, NotFittedError
from rudder.events.base import EventAlphabet, EventEncoder

OTHER = "other"
LOSS_PREFIX = "-"
_SOURCES = ("observation", "info")
_SETTINGS = ("items", "source", "key", "prefix", "include_losses")


def _count(value: Any, *, where: str) -> float:
    array = np.asarray(value)
    if array.size != 1 or array.dtype.kind not in "biuf":
        raise ValueError(
            f"{where} must be a single number (an item count), got "
            f"{'dtype ' + str(array.dtype) if array.size == 1 else 'shape ' + str(array.shape)}"
        )
    count = float(array.reshape(()))
    if not math.isfinite(count):
        raise ValueError(f"{where} must be a finite item count, got {count}; clean the episodes first")
    return count


class InventoryEncoder(EventEncoder):
    """One event per item whose count increases in a step (and, optionally, decreases).

    Events are named after the items (``"log"``); with ``include_losses`` also
    ``"-log"`` when the count decreases. Items that were not learned by :meth:`fit` (or
    not listed in ``items``) give the last event, ``"other"``. A step that changes
    several items emits one event per item, in alphabet order; a change of +4 is still
    one event. Nothing is emitted at reset, and repeats are not collapsed.

    Args:
        items: the item names, in alphabet order. ``None``: learned by :meth:`fit` as
            the items that change in the demonstrations, ordered by their first
            event (ties: by name). Required when inventories are count vectors.
        source: ``"observation"`` (counts in the observations) or ``"info"`` (per-step
            changes in the step info); see the module documentation.
        key: the dict key of a nested inventory (dict or vector).
        prefix: the prefix of flat inventory keys (``prefix + item``), used when ``key``
            is absent; ``""`` makes every key an item.
        include_losses: also emit ``"-item"`` events when a count decreases.

    Attributes:
        items: the fitted item names (tuple), one gain event each.
    """

    collapse_repeats = False

    def __init__(
        self,
        *,
        items: Sequence[str] | None = None,
        source: Literal["observation", "info"] = "observation",
        key: str = "inventory",
        prefix: str = "inventory/",
        include_losses: bool = False,
    ) -> None:
        if items is not None:
            if isinstance(items, str):
                raise TypeError(
                    f"`items` must be a sequence of item names, got the string {items!r}"
                )
            items = tuple(items)
            for item in items:
                if not isinstance(item, str) or not item:
                    raise ValueError(f"`items` must be non-empty strings, got {item!r}")
            if len(set(items)) != len(items):
                raise ValueError(f"`items` must be unique, got {list(items)}")
            if OTHER in items:
                raise ValueError(
                    f"`items` may not contain {OTHER!r}: it names the event of unknown items"
                )
        if source not in _SOURCES:
            raise ValueError(f"`source` must be one of {_SOURCES}, got {source!r}")
        if not isinstance(key, str) or not key:
            raise TypeError(f"`key` must be a non-empty string, got {key!r}")
        if not isinstance(prefix, str):
            raise TypeError(f"`prefix` must be a string, got {prefix!r}")
        if not isinstance(include_losses, (bool, np.bool_)):
            raise TypeError(f"`include_losses` must be a bool, got {include_losses!r}")
        self._items_setting: tuple[str, ...] | None = items
        self.source = source
        self.key = key
        self.prefix = prefix
        self.include_losses = bool(include_losses)
        self._alphabet = None
        self._items: tuple[str, ...] | None = None
        self._gain_ids: dict[str, int] = {}
        self._loss_ids: dict[str, int] = {}
        self._other = -1

    @property
    def items(self) -> tuple[str, ...]:
        """The item names with a gain event (fitted, or as given)."""
        if self._items is None:
            raise NotFittedError(
                f"{type(self).__name__} is not fitted; call .fit(demonstrations) first"
            )
        return self._items

    # -- reading inventories --------------------------------------------------------
    def _vector(self, value: Any, *, where: str) -> dict[str, float]:
        array = np.asarray(value)
        if array.dtype.kind not in "biuf" or array.ndim != 1:
            raise ValueError(
                f"{where} must be a 1-D count vector, got shape {array.shape} and dtype "
                f"{array.dtype}"
            )
        names = self._items_setting
        if names is None:
            raise ValueError(
                f"{where} is a count vector of {array.shape[0]} items, but `items` is None; "
                "pass items=[...] naming the entries of the vector"
            )
        if array.shape[0] != len(names):
            raise ValueError(
                f"{where} has {array.shape[0]} counts, but `items` names {len(names)} items "
                f"({list(names)[:5]}...); make them match"
            )
        if array.dtype.kind == "f" and not np.all(np.isfinite(array)):
            bad = int(np.flatnonzero(~np.isfinite(array))[0])
            raise ValueError(
                f"{where} must hold finite item counts, got {array[bad]} for {names[bad]!r}; clean the episodes first"
            )
        return {name: float(count) for name, count in zip(names, array, strict=True)}

    def read(self, container: Any, *, where: str = "observation") -> dict[str, float]:
        """The inventory (counts, or changes with ``source="info"``) as ``{item: number}``.

        Args:
            container: an observation (dict or count vector) or a step info dict.
            where: what ``container`` is, for error messages.
        """
        if isinstance(container, Mapping):
            if self.key in container:
                value = container[self.key]
                if isinstance(value, Mapping):
                    return {
                        str(item): _count(count, where=f"{where}[{self.key!r}][{item!r}]")
                        for item, count in value.items()
                    }
                return self._vector(value, where=f"{where}[{self.key!r}]")
            if self.prefix:
                entries = {
                    name[len(self.prefix) :]: value
                    for name, value in container.items()
                    if isinstance(name, str)
                    and name.startswith(self.prefix)
                    and len(name) > len(self.prefix)
                }
            else:
                entries = {str(name): value for name, value in container.items()}
            if not entries:
                raise ValueError(
                    f"no inventory in {where}: no key {self.key!r} and no keys starting with "
                    f"{self.prefix!r}; its keys are {sorted(map(str, container))}; "
                    "set key=... or prefix=..."
                )
            return {
                item: _count(value, where=f"{where}[{self.prefix + item!r}]")
                for item, value in entries.items()
            }
        if self.source == "info":
            raise TypeError(
                f"{where} must be a dict (the step info), got {type(container).__name__}"
            )
        return self._vector(container, where=where)

    def changes(self, observation: Any, next_observation: Any, info: Mapping) -> dict[str, float]:
        """``{item: change}`` of one step (items that did not change may be left out)."""
        if self.source == "info":
            return self.read(info, where="info")
        before = self.read(observation, where="observation")
        after = self.read(next_observation, where="next_observation")
        return {item: after.get(item, 0.0) - before.get(item, 0.0) for item in {**before, **after}}

    # -- fitting --------------------------------------------------------------------
    def fit(self, episodes: Sequence[Episode]) -> InventoryEncoder:
        """Learns the items (unless given) from the inventory changes of the episodes.

        Returns:
            ``self``.
        """
        episodes = check_episodes(episodes)
        first_event: dict[str, tuple[int, int]] = {}
        for index, episode in enumerate(episodes):
            if self.source == "info" and episode.length and not episode.infos:
                raise ValueError(
                    f"`episodes[{index}]` has no infos, but source='info'; record the "
                    "inventory changes in the infos or use source='observation'"
                )
            for step in range(episode.length):
                changes = self.changes(
                    episode.observation(step), episode.observation(step + 1), episode.info(step)
                )
                for item, change in changes.items():
                    if change > 0 or (self.include_losses and change < 0):
                        first_event.setdefault(item, (index, step))
        if self._items_setting is not None:
            items = self._items_setting
        else:
            items = tuple(sorted(first_event, key=lambda item: (first_event[item], item)))
            if OTHER in items:
                raise ValueError(
                    f"the demonstrations have an item named {OTHER!r}, which names the event "
                    "of unknown items; pass items=[...] without it"
                )
        names = list(items)
        if self.include_losses:
            names += [LOSS_PREFIX + item for item in items]
        names.append(OTHER)
        if len(set(names)) != len(names):
            raise ValueError(
                f"item names clash with loss events ({LOSS_PREFIX!r} + item): {names}; "
                "rename the items or use include_losses=False"
            )
        self._set_items(items, EventAlphabet(tuple(names)))
        return self

    def _set_items(self, items: tuple[str, ...], alphabet: EventAlphabet) -> None:
        self._items = tuple(items)
        self._gain_ids = {item: alphabet.index(item) for item in items}
        self._loss_ids = (
            {item: alphabet.index(LOSS_PREFIX + item) for item in items}
            if self.include_losses
            else {}
        )
        self._other = alphabet.index(OTHER)
        self._alphabet = alphabet

    # -- events ---------------------------------------------------------------------
    def events_at_step(
        self, observation: Any, action: Any, next_observation: Any, info: Mapping
    ) -> list[int]:
        """One event per changed item, sorted by event id (unknown items: ``"other"``)."""
        self.alphabet  # noqa: B018 - raises NotFittedError
        events = []
        for item, change in self.changes(observation, next_observation, info).items():
            if change > 0:
                events.append(self._gain_ids.get(item, self._other))
            elif change < 0 and self.include_losses:
                events.append(self._loss_ids.get(item, self._other))
        return sorted(events)

    # -- saving ---------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """Settings, the fitted items and the alphabet, JSON-serialisable."""
        return {
            "type": type(self).__name__,
            "alphabet": list(self.alphabet.names),
            "items": None if self._items_setting is None else list(self._items_setting),
            "fitted_items": list(self.items),
            "source": self.source,
            "key": self.key,
            "prefix": self.prefix,
            "include_losses": self.include_losses,
        }

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray], **overrides: Any
    ) -> InventoryEncoder:
        """Rebuilds a fitted encoder from :meth:`get_config` (no arrays are needed)."""
        cls._check_config(config, overrides)
        if "alphabet" not in config or "fitted_items" not in config:
            raise DataFormatError(f"{cls.__name__} config needs 'alphabet' and 'fitted_items'")
        encoder = cls(**{key: config[key] for key in _SETTINGS if key in config})
        try:
            encoder._set_items(
                tuple(config["fitted_items"]), EventAlphabet(tuple(config["alphabet"]))
            )
        except KeyError as error:
            raise DataFormatError(f"{cls.__name__} config is inconsistent: {error}") from None
        return encoder

    def __repr__(self) -> str:
        fitted = f", items={len(self.items)}" if self.is_fitted else ""
        return f"InventoryEncoder(source={self.source!r}, include_losses={self.include_losses}{fitted})"
