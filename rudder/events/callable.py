"""Events from a user function: the quickest way to encode domain knowledge.

Example:
    >>> def door_events(observation, action, next_observation, info):
    ...     return "door opened" if info.get("door_opened") else None
    >>> encoder = CallableEventEncoder(door_events).fit(demonstrations)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from rudder.data.episode import Episode, check_episodes
from rudder.errors import DataFormatError
from rudder.events.base import EventAlphabet, EventEncoder

OTHER = "other"

#: ``function(observation, action, next_observation, info)`` -> event, ``None`` or a list.
EventFunction = Callable[[Any, Any, Any, Mapping], Any]


class CallableEventEncoder(EventEncoder):
    """Events returned by ``function(observation, action, next_observation, info)``.

    The function returns one hashable event, ``None`` (no event), or a ``list`` of events
    (emitted in list order; ``None`` entries are skipped). A tuple is one event. Events
    are identified by their name ``str(event)``: :meth:`fit` collects the names in order
    of first appearance over the demonstrations; at run time an event whose name was not
    seen in fit becomes the last event, ``"other"``. Nothing is emitted at reset.

    The function is not saved: :meth:`from_config` needs it again as ``function=``.

    Args:
        function: the event function.
        collapse_repeats: drop an event equal to the last emitted one (``True`` for
            state-like events such as "in room 2", ``False`` for happenings such as
            "picked up a key").
    """

    def __init__(self, function: EventFunction, *, collapse_repeats: bool = True) -> None:
        if not callable(function):
            raise TypeError(
                f"`function` must be callable as function(observation, action, "
                f"next_observation, info), got {function!r}"
            )
        if not isinstance(collapse_repeats, (bool, np.bool_)):
            raise TypeError(f"`collapse_repeats` must be a bool, got {collapse_repeats!r}")
        self.function = function
        # An instance attribute shadows the class default; EventStream reads it per encoder.
        self.collapse_repeats = bool(collapse_repeats)  # type: ignore[misc]
        self._alphabet = None
        self._ids: dict[str, int] = {}

    def _raw_events(
        self, observation: Any, action: Any, next_observation: Any, info: Mapping
    ) -> list[Hashable]:
        result = self.function(observation, action, next_observation, info)
        if result is None:
            return []
        events = result if isinstance(result, list) else [result]
        checked = []
        for event in events:
            if event is None:
                continue
            try:
                hash(event)
            except TypeError:
                raise TypeError(
                    f"`function` returned the unhashable event {event!r} "
                    f"({type(event).__name__}); return a str, int, tuple, None or a list of them"
                ) from None
            checked.append(event)
        return checked

    def fit(self, episodes: Sequence[Episode]) -> CallableEventEncoder:
        """Collects the events of the demonstrations in order of first appearance.

        Raises:
            ValueError: ``episodes`` is empty, two different events share a name, or an
                event is named ``"other"``.
        """
        episodes = check_episodes(episodes)
        seen: dict[str, Hashable] = {}
        for episode in episodes:
            for step in range(episode.length):
                for event in self._raw_events(
                    episode.observation(step),
                    episode.actions[step],
                    episode.observation(step + 1),
                    episode.info(step),
                ):
                    name = str(event)
                    if name not in seen:
                        if not name:
                            raise ValueError(
                                f"`function` returned {event!r}, whose name str(event) is empty; "
                                "event names must be non-empty"
                            )
                        if name == OTHER:
                            raise ValueError(
                                f"`function` returned an event named {OTHER!r}, which names the "
                                "event of unknown events; rename it"
                            )
                        seen[name] = event
                    elif seen[name] != event:
                        raise ValueError(
                            f"`function` returned different events {seen[name]!r} and {event!r} "
                            f"with the same name {name!r}; event names str(event) must be unique"
                        )
        self._set_alphabet(EventAlphabet((*seen, OTHER)))
        return self

    def _set_alphabet(self, alphabet: EventAlphabet) -> None:
        if alphabet.names[-1] != OTHER:
            raise DataFormatError(f"the last event must be {OTHER!r}, got {alphabet.names[-1]!r}")
        self._ids = {name: index for index, name in enumerate(alphabet.names[:-1])}
        self._alphabet = alphabet

    def events_at_step(
        self, observation: Any, action: Any, next_observation: Any, info: Mapping
    ) -> list[int]:
        """The ids of the function's events, in order; unseen names give ``"other"``."""
        other = len(self.alphabet) - 1
        return [
            self._ids.get(str(event), other)
            for event in self._raw_events(observation, action, next_observation, info)
        ]

    def get_config(self) -> dict[str, Any]:
        """The alphabet and settings, JSON-serialisable (the function is not saved)."""
        return {
            "type": type(self).__name__,
            "alphabet": list(self.alphabet.names),
            "collapse_repeats": self.collapse_repeats,
            "function": getattr(self.function, "__qualname__", repr(self.function)),
        }

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray], **overrides: Any
    ) -> CallableEventEncoder:
        """Rebuilds a fitted encoder; the function must be passed again as ``function=``.

        Args:
            config: from :meth:`get_config`.
            arrays: unused (the encoder has no arrays).
            **overrides: ``function`` (required) and optionally ``collapse_repeats``.
        """
        unknown = sorted(set(overrides) - {"function", "collapse_repeats"})
        if unknown:
            raise TypeError(f"{cls.__name__}.from_config() got unexpected overrides {unknown}")
        if "function" not in overrides:
            saved = config.get("function", "the event function")
            raise TypeError(
                f"{cls.__name__}.from_config() missing required keyword argument 'function': "
                f"functions are not saved; pass the same function ({saved}) again, e.g. "
                "load_encoder(config, arrays, function=my_events)"
            )
        cls._check_config(config, {})
        if "alphabet" not in config:
            raise DataFormatError(f"{cls.__name__} config needs 'alphabet'")
        encoder = cls(
            overrides["function"],
            collapse_repeats=overrides.get(
                "collapse_repeats", config.get("collapse_repeats", True)
            ),
        )
        encoder._set_alphabet(EventAlphabet(tuple(config["alphabet"])))
        return encoder

    def __repr__(self) -> str:
        name = getattr(self.function, "__qualname__", repr(self.function))
        return f"CallableEventEncoder({name}, collapse_repeats={self.collapse_repeats})"
