"""Event alphabets, event sequences, and the encoder interface.

An event encoder maps each step of an episode to zero or more events from a finite
alphabet. Encoders that report a *state* (a cluster id at every step) set
``collapse_repeats = True``: an event is emitted only when it differs from the last
emitted one. Encoders that report *happenings* (an item gained) emit every event.

Batch encoding (:meth:`EventEncoder.encode`) and online encoding
(:meth:`EventEncoder.stream`) run the same per-step functions, so they give exactly the
same events.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from rudder.data.episode import Episode
from rudder.errors import NotFittedError


@dataclasses.dataclass(frozen=True)
class EventAlphabet:
    """A finite, ordered set of named events; event ids are positions in ``names``.

    There is no limit on the number of events (the official code was limited to the 20
    amino-acid letters).

    Attributes:
        names: unique, non-empty names, one per event id.
    """

    names: tuple[str, ...]

    def __post_init__(self) -> None:
        names = tuple(self.names)
        if not names:
            raise ValueError("an EventAlphabet needs at least one event name")
        for name in names:
            if not isinstance(name, str) or not name:
                raise ValueError(f"event names must be non-empty strings, got {name!r}")
        if len(set(names)) != len(names):
            duplicates = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(f"event names must be unique, repeated: {duplicates}")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "_index", {name: i for i, name in enumerate(names)})

    def __len__(self) -> int:
        return len(self.names)

    def __iter__(self):
        return iter(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self._index  # type: ignore[attr-defined]

    def index(self, name: str) -> int:
        """The id of event ``name``; ``KeyError`` naming the known events if unknown."""
        try:
            return self._index[name]  # type: ignore[attr-defined]
        except KeyError:
            shown = ", ".join(self.names[:10]) + (", ..." if len(self.names) > 10 else "")
            raise KeyError(f"unknown event {name!r}; the alphabet has: {shown}") from None

    def name(self, event: int) -> str:
        """The name of event id ``event`` (``"?<id>"`` for ids outside the alphabet)."""
        if 0 <= event < len(self.names):
            return self.names[event]
        return f"?{event}"


@dataclasses.dataclass(frozen=True, eq=False)
class EventSequence:
    """The events of one episode, in order.

    Attributes:
        events: shape (K,), int64: event ids.
        steps: shape (K,), int64, non-decreasing: the state index at which each event
            was emitted; 0 means at reset (from s_0), t+1 means by step t (the
            transition s_t, a_t -> s_{t+1}).
        num_steps: the episode length T.
    """

    events: np.ndarray
    steps: np.ndarray
    num_steps: int

    def __post_init__(self) -> None:
        events = np.asarray(self.events, dtype=np.int64).reshape(-1)
        steps = np.asarray(self.steps, dtype=np.int64).reshape(-1)
        if events.shape != steps.shape:
            raise ValueError(f"`events` {events.shape} and `steps` {steps.shape} differ in shape")
        if steps.size and (steps[0] < 0 or steps[-1] > self.num_steps or np.any(np.diff(steps) < 0)):
            raise ValueError(f"`steps` must be non-decreasing within [0, {self.num_steps}]")
        object.__setattr__(self, "events", events)
        object.__setattr__(self, "steps", steps)
        object.__setattr__(self, "num_steps", int(self.num_steps))

    def __len__(self) -> int:
        return int(self.events.shape[0])


class EventStream:
    """Online encoding of one episode: feed the steps in order, get the new events.

    Made by :meth:`EventEncoder.stream`; one stream per environment (it keeps the last
    emitted event to collapse repeats).
    """

    __slots__ = ("_encoder", "_collapse", "_last")

    def __init__(self, encoder: EventEncoder) -> None:
        self._encoder = encoder
        self._collapse = encoder.collapse_repeats
        self._last: int | None = None

    def _emit(self, raw: Sequence[int]) -> list[int]:
        if not raw:
            return []
        if not self._collapse:
            self._last = raw[-1]
            return list(raw)
        emitted = []
        for event in raw:
            if event != self._last:
                emitted.append(event)
                self._last = event
        return emitted

    def reset(self, observation: Any) -> list[int]:
        """Starts a new episode; returns the events emitted at reset (from s_0)."""
        self._last = None
        return self._emit(self._encoder.events_at_reset(observation))

    def step(self, observation: Any, action: Any, next_observation: Any, info: Mapping) -> list[int]:
        """Returns the events emitted by the transition ``observation, action -> next_observation``."""
        return self._emit(self._encoder.events_at_step(observation, action, next_observation, info))


class EventEncoder(abc.ABC):
    """Maps the steps of an episode to events of :attr:`alphabet`.

    Subclasses implement :meth:`fit`, :meth:`events_at_reset`, :meth:`events_at_step`,
    and the save/load pair :meth:`get_config` / :meth:`from_config`.
    """

    #: Drop an event that equals the last emitted event (state-like encoders).
    collapse_repeats: ClassVar[bool] = True
    #: Registry of encoder classes by name, for loading saved models.
    registry: ClassVar[dict[str, type[EventEncoder]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        EventEncoder.registry[cls.__name__] = cls

    _alphabet: EventAlphabet | None = None

    @property
    def alphabet(self) -> EventAlphabet:
        """The events this encoder can emit (available after :meth:`fit`)."""
        if self._alphabet is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call .fit(demonstrations) first")
        return self._alphabet

    @property
    def is_fitted(self) -> bool:
        return self._alphabet is not None

    @abc.abstractmethod
    def fit(self, episodes: Sequence[Episode]) -> EventEncoder:
        """Learns the alphabet (and clusters) from episodes; returns ``self``."""

    def events_at_reset(self, observation: Any) -> Sequence[int]:
        """Raw events of the initial observation s_0; none by default (events that
        describe changes need a step). State-like encoders return the state's event."""
        self.alphabet  # noqa: B018 - raises NotFittedError
        return []

    @abc.abstractmethod
    def events_at_step(
        self, observation: Any, action: Any, next_observation: Any, info: Mapping
    ) -> Sequence[int]:
        """Raw events of one transition, before repeats are collapsed."""

    def stream(self) -> EventStream:
        """A fresh online encoder for one environment."""
        self.alphabet  # noqa: B018 - raises NotFittedError early
        return EventStream(self)

    def encode(self, episode: Episode) -> EventSequence:
        """The events of a whole episode (the same as streaming it step by step)."""
        stream = self.stream()
        events: list[int] = stream.reset(episode.observation(0))
        steps = [0] * len(events)
        for t in range(episode.length):
            new = stream.step(
                episode.observation(t), episode.actions[t], episode.observation(t + 1), episode.info(t)
            )
            events.extend(new)
            steps.extend([t + 1] * len(new))
        return EventSequence(np.asarray(events, dtype=np.int64), np.asarray(steps, dtype=np.int64), episode.length)

    def encode_all(self, episodes: Sequence[Episode]) -> list[EventSequence]:
        """:meth:`encode` for each episode."""
        return [self.encode(episode) for episode in episodes]

    # -- saving ---------------------------------------------------------------------
    @abc.abstractmethod
    def get_config(self) -> dict[str, Any]:
        """JSON-serialisable settings and the alphabet names (``"alphabet"`` key)."""

    def get_arrays(self) -> dict[str, np.ndarray]:
        """Fitted numeric state to store in an ``.npz`` (no object arrays)."""
        return {}

    @classmethod
    def _check_config(cls, config: Mapping[str, Any], overrides: Mapping[str, Any]) -> None:
        """Raises unless ``config`` is for this class and no unknown overrides are given."""
        if overrides:
            raise TypeError(f"{cls.__name__}.from_config() takes no overrides, got {sorted(overrides)}")
        if config.get("type", cls.__name__) != cls.__name__:
            raise ValueError(f"config is for {config.get('type')!r}, not {cls.__name__}; use load_encoder()")

    @classmethod
    @abc.abstractmethod
    def from_config(cls, config: Mapping[str, Any], arrays: Mapping[str, np.ndarray], **overrides: Any) -> EventEncoder:
        """Rebuilds a fitted encoder from :meth:`get_config` and :meth:`get_arrays`."""
