"""Profile progress in the observation, so that redistributed reward is Markov.

Redistributed reward depends on which sub-goals the episode has already completed,
which the env's observation may not show. :class:`ProfileProgressObservation` adds the
episode's progress along the profile; :func:`add_progress` adds the same features to
recorded episodes (for behaviour cloning), computed offline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium.error import ResetNeeded

from rudder.data.episode import Episode, check_episodes
from rudder.redistribution.alignment import AlignmentRedistributor
from rudder.wrappers.reward import RedistributedReward

__all__ = ["ProfileProgress", "ProfileProgressObservation", "ProgressMode", "add_progress"]

ProgressMode = Literal["box", "dict"]


class ProfileProgress:
    """The progress features of a profile position.

    Features (float32, all in [0, 1]): the fraction of profile columns covered
    (``position / L``), then one flag per consensus sub-goal: 1 once the alignment has
    covered that sub-goal's column. The position is the furthest the episode has reached
    so far (the prefix alignment may move back when a later event realigns it), so the
    fraction never falls and a flag never switches off within an episode.

    Args:
        redistributor: a fitted :class:`~rudder.AlignmentRedistributor`.
    """

    def __init__(self, redistributor: AlignmentRedistributor) -> None:
        if not redistributor.is_fitted:
            raise ValueError("`redistributor` is not fitted; call redistributor.fit(demonstrations) first")
        profile = redistributor.profile
        self.length = profile.length
        self.sub_goal_columns = np.array([column.column for column in profile.consensus], dtype=np.int64)

    @property
    def size(self) -> int:
        """Number of features: 1 + number of consensus sub-goals."""
        return 1 + len(self.sub_goal_columns)

    @property
    def space(self) -> gym.spaces.Box:
        return gym.spaces.Box(0.0, 1.0, shape=(self.size,), dtype=np.float32)

    def features(self, positions: int | np.ndarray) -> np.ndarray:
        """Shape (size,) for one position, (n, size) for an array of n positions."""
        columns = np.asarray(positions, dtype=np.int64)
        fraction = (columns / self.length).astype(np.float32)[..., None]
        reached = (columns[..., None] > self.sub_goal_columns).astype(np.float32)
        return np.concatenate([fraction, reached], axis=-1)

    def sub_goals_reached(self, position: int) -> int:
        """How many consensus sub-goals a position has covered."""
        return int(np.count_nonzero(position > self.sub_goal_columns))


def _combine_spaces(space: gym.Space, progress: gym.spaces.Box, mode: ProgressMode) -> gym.Space:
    if mode == "dict":
        if isinstance(space, gym.spaces.Dict):
            if "progress" in space.spaces:
                raise ValueError("the observation space already has a 'progress' key")
            return gym.spaces.Dict({**space.spaces, "progress": progress})
        return gym.spaces.Dict({"observation": space, "progress": progress})
    if not isinstance(space, gym.spaces.Box) or len(space.shape) != 1:
        raise ValueError(
            f"mode='box' needs a flat Box observation space, got {space}; flatten the observation "
            "first (e.g. gymnasium.wrappers.FlattenObservation) or use mode='dict'"
        )
    return gym.spaces.Box(
        low=np.concatenate([space.low.astype(np.float32), progress.low]),
        high=np.concatenate([space.high.astype(np.float32), progress.high]),
        dtype=np.float32,
    )


def _combine(observation: Any, features: np.ndarray, mode: ProgressMode) -> Any:
    if mode == "dict":
        if isinstance(observation, Mapping):
            return {**observation, "progress": features}
        return {"observation": observation, "progress": features}
    return np.concatenate([np.asarray(observation, dtype=np.float32), features], axis=-1)


class ProfileProgressObservation(gym.ObservationWrapper, gym.utils.RecordConstructorArgs):
    """Adds profile progress (see :class:`ProfileProgress`) to the observation.

    Wrap a :class:`~rudder.wrappers.RedistributedReward` env (directly or through other
    wrappers) whose redistributor is an :class:`~rudder.AlignmentRedistributor`; the
    progress is read from its online redistribution state after every reset and step.

    Args:
        env: an env with a ``RedistributedReward`` somewhere below.
        mode: "box" appends the features to a flat ``Box`` observation; "dict" returns
            ``{"observation": obs, "progress": features}`` (or adds the key "progress"
            to a ``Dict`` observation).
    """

    def __init__(self, env: gym.Env, *, mode: ProgressMode = "box") -> None:
        if mode not in ("box", "dict"):
            raise ValueError(f"`mode` must be 'box' or 'dict', got {mode!r}")
        gym.utils.RecordConstructorArgs.__init__(self, mode=mode)
        gym.ObservationWrapper.__init__(self, env)
        inner = env
        while not isinstance(inner, RedistributedReward):
            if not isinstance(inner, gym.Wrapper):
                raise ValueError(
                    "ProfileProgressObservation needs a RedistributedReward wrapper below it: "
                    "ProfileProgressObservation(RedistributedReward(env, redistributor))"
                )
            inner = inner.env
        redistributor = inner.redistributor
        if not isinstance(redistributor, AlignmentRedistributor):
            raise TypeError(
                "ProfileProgressObservation reads alignment progress along a profile; the "
                f"RedistributedReward below uses a {type(redistributor).__name__}, not an AlignmentRedistributor"
            )
        self._redistributed = inner
        self.mode = mode
        self.progress = ProfileProgress(redistributor)
        self.observation_space = _combine_spaces(env.observation_space, self.progress.space, mode)
        self._furthest = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        self._furthest = 0
        return super().reset(seed=seed, options=options)

    def observation(self, observation: Any) -> Any:
        state = self._redistributed.redistribution_state
        if state is None:
            raise ResetNeeded("call reset() before step() on ProfileProgressObservation")
        self._furthest = max(self._furthest, int(state.position))
        return _combine(observation, self.progress.features(self._furthest), self.mode)


def add_progress(
    episodes: Sequence[Episode], redistributor: AlignmentRedistributor, *, mode: ProgressMode = "box"
) -> list[Episode]:
    """Copies of ``episodes`` whose observations carry the progress features, exactly as
    :class:`ProfileProgressObservation` would have shown them online.

    Args:
        episodes: recorded episodes (flat array observations for ``mode="box"``).
        redistributor: the fitted redistributor the wrapper uses.
        mode: as in :class:`ProfileProgressObservation`.
    """
    if mode not in ("box", "dict"):
        raise ValueError(f"`mode` must be 'box' or 'dict', got {mode!r}")
    episodes = check_episodes(episodes)
    progress = ProfileProgress(redistributor)
    result: list[Episode] = []
    for episode in episodes:
        furthest = np.maximum.accumulate(np.asarray(redistributor.prefix_positions(episode), dtype=np.int64))
        features = progress.features(furthest)
        observations = episode.observations
        if mode == "box":
            if not isinstance(observations, np.ndarray) or observations.ndim != 2:
                raise ValueError(
                    "mode='box' needs flat observations of shape (T+1, n), got "
                    f"{getattr(observations, 'shape', type(observations).__name__)}; use mode='dict'"
                )
        result.append(dataclasses.replace(episode, observations=_combine(observations, features, mode)))
    return result
