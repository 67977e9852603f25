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


def _checked_rewards(value: Any) -> np.ndarray:
    """Shape (T,), float64: the rewards, or raises if they are not 1-D, real and finite."""
    rewards = _as_array(value, "rewards")
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
    return rewards


def _checked_actions(value: Any, rewards_shape: tuple[int, ...]) -> np.ndarray:
    """Shape (T, ...): the actions, or raises unless they have one row per reward."""
    length = rewards_shape[0]
    actions = _as_array(value, "actions")
    if actions.ndim == 0 or actions.shape[0] != length:
        raise ValueError(
            f"`actions` must have T={length} rows to match `rewards` {rewards_shape}, "
            f"got shape {actions.shape}"
        )
    return actions


def _checked_rows(value: Any, field: str, rows: int, what: str) -> np.ndarray:
    """The frozen array of ``field``, or raises unless it has ``rows`` rows (``what`` says why)."""
    array = _as_array(value, field)
    if array.ndim == 0 or array.shape[0] != rows:
        raise ValueError(f"`{field}` must have {what}, got shape {array.shape}")
    return _freeze(array)


def _checked_observations(value: Any, length: int) -> Observations:
    """The frozen observations (one array or a dict of arrays), each with T+1 rows."""
    rows = f"T+1={length + 1} rows (rewards has T={length})"
    if not isinstance(value, Mapping):
        return _checked_rows(value, "observations", length + 1, rows)
    if not value:
        raise ValueError("`observations` is an empty mapping; give at least one key")
    observations: dict[str, np.ndarray] = {}
    for key, array in value.items():
        if not isinstance(key, str):
            raise TypeError(f"`observations` keys must be strings, got {key!r}")
        observations[key] = _checked_rows(array, f"observations[{key!r}]", length + 1, rows)
    return observations


def _checked_infos(value: Mapping[str, Any], length: int) -> dict[str, np.ndarray]:
    """The frozen per-step infos, each with T rows."""
    infos: dict[str, np.ndarray] = {}
    for key, array in dict(value).items():
        if not isinstance(key, str):
            raise TypeError(f"`infos` keys must be strings, got {key!r}")
        infos[key] = _checked_rows(array, f"infos[{key!r}]", length, f"T={length} rows (one per step)")
    return infos


def _check_flag(value: Any, field: str) -> None:
    """Raises unless ``value`` (``terminated`` or ``truncated``) is a Python or numpy bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{field}` must be a bool, got {value!r}")


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
        rewards = _checked_rewards(self.rewards)
        length = rewards.shape[0]
        actions = _checked_actions(self.actions, rewards.shape)
        observations = _checked_observations(self.observations, length)
        infos = _checked_infos(self.infos, length)
        _check_flag(self.terminated, "terminated")
        _check_flag(self.truncated, "truncated")

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
