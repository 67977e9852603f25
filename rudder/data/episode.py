"""The validated, frozen record of one episode."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

Observations = np.ndarray | Mapping[str, np.ndarray]


def _as_array(value: Any, field: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == object:
        raise TypeError(
            f"`{field}` must be a numeric or string array, got dtype=object; "
            "convert it to a regular numpy array (objects cannot be saved without pickle)"
        )
    return array


def _freeze(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


@dataclasses.dataclass(frozen=True, eq=False)
class Episode:
    """One episode s_0, a_0, r_1, s_1, ..., s_T of a gymnasium environment.

    Arrays are copied and made read-only, so an episode never changes after it is built.

    Attributes:
        observations: shape (T+1, ...): s_0 .. s_T. Either one array, or a mapping from
            key to arrays that all have T+1 rows (for ``Dict`` observation spaces such as
            an inventory).
        actions: shape (T, ...): a_0 .. a_{T-1}.
        rewards: shape (T,), float64: r_1 .. r_T, finite.
        terminated: whether the episode ended in a terminal state.
        truncated: whether the episode was cut off (time limit) before a terminal state.
        infos: mapping from key to arrays of shape (T, ...): per-step values taken from
            the ``info`` dict returned by ``env.step``.
    """

    observations: Observations
    actions: np.ndarray
    rewards: np.ndarray
    terminated: bool = False
    truncated: bool = False
    infos: Mapping[str, np.ndarray] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        rewards = _as_array(self.rewards, "rewards")
        if rewards.ndim != 1:
            raise ValueError(f"`rewards` must be 1-D with shape (T,), got shape {rewards.shape}")
        if not np.issubdtype(rewards.dtype, np.number) or np.issubdtype(
            rewards.dtype, np.complexfloating
        ):
            raise TypeError(f"`rewards` must be real numbers, got dtype {rewards.dtype}")
        rewards = rewards.astype(np.float64)
        if not np.all(np.isfinite(rewards)):
            bad = np.flatnonzero(~np.isfinite(rewards))
            raise ValueError(
                f"`rewards` must be finite, got {rewards[bad[0]]} at step {int(bad[0])} "
                f"({bad.size} non-finite value(s)); clean or clip the rewards first"
            )
        length = rewards.shape[0]

        actions = _as_array(self.actions, "actions")
        if actions.ndim == 0 or actions.shape[0] != length:
            raise ValueError(
                f"`actions` must have T={length} rows to match `rewards` {rewards.shape}, "
                f"got shape {actions.shape}"
            )

        if isinstance(self.observations, Mapping):
            if not self.observations:
                raise ValueError("`observations` is an empty mapping; give at least one key")
            observations: Observations = {}
            for key, value in self.observations.items():
                if not isinstance(key, str):
                    raise TypeError(f"`observations` keys must be strings, got {key!r}")
                array = _as_array(value, f"observations[{key!r}]")
                if array.ndim == 0 or array.shape[0] != length + 1:
                    raise ValueError(
                        f"`observations[{key!r}]` must have T+1={length + 1} rows "
                        f"(rewards has T={length}), got shape {array.shape}"
                    )
                observations[key] = _freeze(array)
        else:
            array = _as_array(self.observations, "observations")
            if array.ndim == 0 or array.shape[0] != length + 1:
                raise ValueError(
                    f"`observations` must have T+1={length + 1} rows "
                    f"(rewards has T={length}), got shape {array.shape}"
                )
            observations = _freeze(array)

        infos: dict[str, np.ndarray] = {}
        for key, value in dict(self.infos).items():
            if not isinstance(key, str):
                raise TypeError(f"`infos` keys must be strings, got {key!r}")
            array = _as_array(value, f"infos[{key!r}]")
            if array.ndim == 0 or array.shape[0] != length:
                raise ValueError(
                    f"`infos[{key!r}]` must have T={length} rows (one per step), "
                    f"got shape {array.shape}"
                )
            infos[key] = _freeze(array)

        if not isinstance(self.terminated, (bool, np.bool_)):
            raise TypeError(f"`terminated` must be a bool, got {self.terminated!r}")
        if not isinstance(self.truncated, (bool, np.bool_)):
            raise TypeError(f"`truncated` must be a bool, got {self.truncated!r}")

        object.__setattr__(self, "observations", observations)
        object.__setattr__(self, "actions", _freeze(actions))
        object.__setattr__(self, "rewards", _freeze(rewards))
        object.__setattr__(self, "terminated", bool(self.terminated))
        object.__setattr__(self, "truncated", bool(self.truncated))
        object.__setattr__(self, "infos", infos)

    @property
    def length(self) -> int:
        """Number of steps T."""
        return int(self.rewards.shape[0])

    def __len__(self) -> int:
        return self.length

    @property
    def episode_return(self) -> float:
        """Undiscounted return G = sum of rewards."""
        return float(np.sum(self.rewards))

    def observation(self, index: int) -> Any:
        """The observation s_index, as one array or a dict of arrays."""
        if isinstance(self.observations, Mapping):
            return {key: value[index] for key, value in self.observations.items()}
        return self.observations[index]

    def info(self, index: int) -> dict[str, Any]:
        """The per-step info of step ``index`` (the values recorded in ``infos``)."""
        return {key: value[index] for key, value in self.infos.items()}

    def __repr__(self) -> str:
        if isinstance(self.observations, Mapping):
            obs = "{" + ", ".join(f"{k}: {v.shape}" for k, v in self.observations.items()) + "}"
        else:
            obs = str(self.observations.shape)
        return (
            f"Episode(T={self.length}, return={self.episode_return:.4g}, observations={obs}, "
            f"actions={self.actions.shape}, terminated={self.terminated}, "
            f"truncated={self.truncated}, infos={sorted(self.infos)})"
        )


def check_episodes(episodes: Sequence[Episode], *, name: str = "episodes") -> list[Episode]:
    """Returns ``episodes`` as a non-empty list of :class:`Episode`, or raises.

    Raises:
        TypeError: if ``episodes`` is a single Episode or holds something else.
        ValueError: if ``episodes`` is empty.
    """
    if isinstance(episodes, Episode):
        raise TypeError(
            f"`{name}` must be a sequence of Episode objects, got a single Episode; "
            "wrap it in a list: [episode]"
        )
    try:
        episodes = list(episodes)
    except TypeError:
        raise TypeError(f"`{name}` must be a sequence of Episode objects, got {type(episodes).__name__}") from None
    if not episodes:
        raise ValueError(f"`{name}` is empty; give at least one Episode")
    for index, episode in enumerate(episodes):
        if not isinstance(episode, Episode):
            raise TypeError(
                f"`{name}[{index}]` must be an Episode, got {type(episode).__name__}; "
                "build episodes with rudder.Episode(...)"
            )
    return episodes
