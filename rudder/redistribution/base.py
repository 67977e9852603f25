"""The redistributor interface: what every reward redistributor and its online state offer.

:class:`Redistributor` and :class:`OnlineRedistributionState` are ``typing.Protocol``
classes (checkable with ``isinstance``): Align-RUDDER's
:class:`~rudder.redistribution.AlignmentRedistributor` and RUDDER's
:class:`~rudder.redistribution.LSTMRedistributor` satisfy them without inheriting from
them, and the wrappers and training code accept any object that does.
:class:`ReturnBookkeeping` is the shared base of the online states: it keeps the episode's
return, the redistributed return, and applies the terminal correction G - sum(R).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rudder.data.episode import Episode

__all__ = ["OnlineRedistributionState", "Redistributor", "ReturnBookkeeping"]


@runtime_checkable
class OnlineRedistributionState(Protocol):
    """The causal, per-environment state of online redistribution of one episode.

    Made by :meth:`Redistributor.start`. Feeding an episode's transitions to :meth:`step`
    one at a time gives the rewards :meth:`Redistributor.redistribute` gives offline.
    """

    def reset(self, observation: Any) -> None:
        """Starts a new episode from observation s_0."""
        ...

    def step(
        self,
        observation: Any,
        action: Any,
        next_observation: Any,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: Mapping[str, Any],
    ) -> float:
        """The redistributed reward of the transition ``observation, action -> next_observation``
        whose env reward was ``reward``."""
        ...

    @property
    def score(self) -> float:
        """The redistributor's current estimate (profile score S_t, or return prediction g_t)."""
        ...

    @property
    def position(self) -> int:
        """How far the episode has come (profile columns covered, or steps taken)."""
        ...

    @property
    def episode_return(self) -> float:
        """The env reward of the episode so far."""
        ...

    @property
    def redistributed_return(self) -> float:
        """The redistributed reward paid so far."""
        ...

    @property
    def last_correction(self) -> float:
        """The terminal correction G - sum(R) of the last finished episode (0 before)."""
        ...


@runtime_checkable
class Redistributor(Protocol):
    """A reward redistributor: fitted on episodes, it turns an episode's env rewards (T,)
    into redistributed rewards (T,) that sum to the same return (return equivalence),
    offline with :meth:`redistribute` and online with :meth:`start`.

    The parameters are positional-only here because the implementations name them
    differently (``demonstrations`` or ``episodes``); implementations add keyword
    arguments of their own.
    """

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has run (or a fitted model was loaded)."""
        ...

    @property
    def is_ready(self) -> bool:
        """Whether :meth:`redistribute` and :meth:`start` work now. RUDDER's LSTM is ready
        before it is fitted: until its quality gate opens it passes the env reward through."""
        ...

    def fit(self, episodes: Sequence[Episode], /) -> Redistributor:
        """Fits the model on ``episodes``; returns ``self``."""
        ...

    def redistribute(self, episode: Episode, /) -> np.ndarray:
        """Shape (T,), float64: the redistributed reward of every step of ``episode``."""
        ...

    def start(self, observation: Any, /) -> OnlineRedistributionState:
        """Begins online redistribution of one episode from s_0 (one state per environment)."""
        ...

    def save(self, path: str | os.PathLike[str], /) -> None:
        """Writes the model to the directory ``path`` (read back by
        :func:`~rudder.redistribution.load_redistributor`)."""
        ...

    @classmethod
    def load(cls, path: str | os.PathLike[str], /) -> Redistributor:
        """Reads a model of this class written by :meth:`save`."""
        ...


class ReturnBookkeeping:
    """What every online redistribution state keeps: the episode's env return, the
    redistributed return paid so far, and the terminal correction G - sum(R).

    :meth:`_settle` is the one place where the correction is applied, so every online
    redistributor pays rewards that sum exactly to the episode's return.
    """

    __slots__ = ("episode_return", "redistributed_return", "last_correction")

    episode_return: float
    redistributed_return: float
    last_correction: float

    def _start_episode(self) -> None:
        self.episode_return = 0.0
        self.redistributed_return = 0.0
        self.last_correction = 0.0

    def _settle(self, redistributed: float, reward: float, ended: bool, correction: bool) -> float:
        """Books one step: adds the correction at the end of the episode if asked."""
        self.episode_return += reward
        if correction and ended:
            self.last_correction = self.episode_return - (self.redistributed_return + redistributed)
            redistributed += self.last_correction
        self.redistributed_return += redistributed
        return redistributed
