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

import itertools
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from rudder.data.episode import Episode

__all__ = ["OnlineRedistributionState", "Redistributor", "ReturnBookkeeping", "terminal_reward"]


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


def _add_exactly(partials: list[float], value: float) -> None:
    """Adds ``value`` to the exact sum kept as non-overlapping ``partials`` (Shewchuk's
    algorithm, the one behind ``math.fsum``)."""
    kept = 0
    for partial in partials:
        if abs(value) < abs(partial):
            value, partial = partial, value
        high = value + partial
        low = partial - (high - value)
        if low:
            partials[kept] = low
            kept += 1
        value = high
    partials[kept:] = [value]


def terminal_reward(env_rewards: np.ndarray, redistributed: np.ndarray) -> float:
    """The last redistributed reward that makes the episode's rewards sum to its return:
    G - sum(R_0..R_{T-2}), computed exactly and rounded once (``math.fsum``), so that the
    exact sum of the redistributed rewards differs from the exact return by at most half
    a unit in the last place of this reward.

    Args:
        env_rewards: shape (T,), the env rewards (their sum is the return G).
        redistributed: shape (T,), the redistributed rewards (the last one is replaced).
    """
    return math.fsum(itertools.chain(np.asarray(env_rewards, dtype=np.float64).tolist(),
                                     (-np.asarray(redistributed[:-1], dtype=np.float64)).tolist()))


class ReturnBookkeeping:
    """What every online redistribution state keeps: the episode's env return, the
    redistributed return paid so far, and the terminal correction G - sum(R).

    :meth:`_settle` is the one place where the correction is applied, so every online
    redistributor pays rewards that sum to the episode's return; both sums are kept
    exactly (as ``math.fsum`` partials), so the last reward equals the offline
    :func:`terminal_reward` bit for bit. A NaN or infinite env reward raises the
    ``ValueError`` an offline :class:`~rudder.data.Episode` raises.
    """

    __slots__ = ("_paid_partials", "_return_partials", "_steps", "episode_return", "last_correction",
                 "redistributed_return")

    episode_return: float
    redistributed_return: float
    last_correction: float

    def _start_episode(self) -> None:
        self.episode_return = 0.0
        self.redistributed_return = 0.0
        self.last_correction = 0.0
        self._return_partials: list[float] = []
        self._paid_partials: list[float] = []
        self._steps = 0

    def _settle(self, redistributed: float, reward: float, ended: bool, correction: bool) -> float:
        """Books one step: adds the correction at the end of the episode if asked.

        Raises:
            ValueError: if ``reward`` is NaN or infinite.
        """
        reward = float(reward)
        if not math.isfinite(reward):
            raise ValueError(
                f"`rewards` must be finite, got {reward} at step {self._steps}; clean or clip the rewards first"
            )
        self._steps += 1
        _add_exactly(self._return_partials, reward)
        self.episode_return = math.fsum(self._return_partials)
        if correction and ended:
            final = math.fsum(self._return_partials + [-partial for partial in self._paid_partials])
            self.last_correction = final - redistributed
            redistributed = final
        _add_exactly(self._paid_partials, redistributed)
        self.redistributed_return = math.fsum(self._paid_partials)
        return redistributed
