"""Reading and writing Minari datasets (the Farama Foundation's offline-RL format).

Minari keeps an episode as ``observations`` with one row per state *including the first
one* (T+1 rows), ``actions``, ``rewards``, ``terminations`` and ``truncations`` with one
row per step (T rows), and ``infos`` with one row per observation (T+1 rows: the first is
the info of ``env.reset``). An :class:`~rudder.data.Episode` keeps the same observations
and actions, the rewards as float64, the last ``terminations`` / ``truncations`` entries
as its ``terminated`` / ``truncated`` flags, and the infos of the T steps only (the reset
row is dropped on reading and written as zeros on saving).

Observations of ``Dict`` and ``Tuple`` spaces, nested or not, become a flat mapping whose
keys join the path with ``/`` (``{"inventory": {"log": ...}}`` -> ``"inventory/log"``;
tuple entries are numbered), or, with ``observations="flatten"``, one array whose columns
are the leaves in space order. Minari is an optional dependency, imported only here:
``pip install "align-rudder[minari]"``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from rudder.data.episode import Episode, Observations, check_episodes
from rudder.errors import DataFormatError, DependencyNotInstalled

if TYPE_CHECKING:
    import gymnasium as gym

__all__ = ["MINARI_INSTALL", "import_minari", "load_minari", "save_minari"]

MINARI_INSTALL = 'pip install "align-rudder[minari]"'
"""The command that installs the optional Minari dependency."""

KEY_SEPARATOR = "/"


def import_minari() -> Any:
    """The ``minari`` module, or raises :class:`~rudder.errors.DependencyNotInstalled`."""
    try:
        import minari
    except ImportError as error:
        raise DependencyNotInstalled(
            f"reading and writing Minari datasets needs the minari package: {MINARI_INSTALL}"
        ) from error
    return minari


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """The leaves of nested dicts / tuples, keyed by their path joined with ``/``."""
    if isinstance(value, Mapping):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, tuple):
        items = enumerate(value)
    else:
        return {prefix: value}
    leaves: dict[str, Any] = {}
    for key, item in items:
        leaves.update(_leaves(item, f"{prefix}{KEY_SEPARATOR}{key}" if prefix else str(key)))
    return leaves


def _numeric(value: Any, what: str) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype == object:
        raise DataFormatError(
            f"{what} holds Python objects (dtype=object), which an Episode cannot keep; "
            "give the dataset numeric or string arrays"
        )
    return array


def _observations(value: Any, mode: str, source: str) -> Observations:
    if not isinstance(value, (Mapping, tuple)):
        return _numeric(value, f"{source}: observations")
    leaves = {key: _numeric(leaf, f"{source}: observations[{key!r}]") for key, leaf in _leaves(value).items()}
    if mode == "keep":
        return leaves
    rows = next(iter(leaves.values())).shape[0]
    columns = [leaf.reshape(rows, -1) for leaf in leaves.values()]
    return np.concatenate(columns, axis=1).astype(np.result_type(*columns))


def _infos(value: Any, length: int) -> dict[str, np.ndarray]:
    """The per-step infos that are arrays with T+1 rows (reset row dropped) or T rows."""
    infos: dict[str, np.ndarray] = {}
    for key, leaf in _leaves(value or {}).items():
        try:
            array = np.asarray(leaf)
        except ValueError:  # ragged
            continue
        if array.dtype == object or array.ndim == 0:
            continue
        if array.shape[0] == length + 1:
            infos[key] = array[1:]
        elif array.shape[0] == length:
            infos[key] = array
    return infos


def episode_from_minari(data: Any, *, observations: str = "keep", source: str = "minari") -> Episode:
    """Converts one Minari ``EpisodeData`` to an :class:`~rudder.data.Episode`.

    Args:
        data: a ``minari.EpisodeData`` (or anything with its fields).
        observations: ``"keep"`` (dict observations stay a flat mapping) or ``"flatten"``.
        source: names the episode in error messages.

    Raises:
        DataFormatError: if the episode cannot be an Episode (object arrays, dict
            actions, mismatched lengths).
    """
    if isinstance(data.actions, (Mapping, tuple)):
        raise DataFormatError(
            f"{source}: the actions are a dict or tuple; an Episode keeps one action array "
            "(use a dataset with a Box, Discrete or MultiDiscrete action space)"
        )
    rewards = np.asarray(data.rewards, dtype=np.float64).reshape(-1)
    terminations = np.asarray(data.terminations, dtype=bool).reshape(-1)
    truncations = np.asarray(data.truncations, dtype=bool).reshape(-1)
    try:
        return Episode(
            observations=_observations(data.observations, observations, source),
            actions=_numeric(data.actions, f"{source}: actions"),
            rewards=rewards,
            terminated=bool(terminations[-1]) if terminations.size else False,
            truncated=bool(truncations[-1]) if truncations.size else False,
            infos=_infos(data.infos, rewards.shape[0]),
        )
    except (ValueError, TypeError) as error:
        if isinstance(error, DataFormatError):
            raise
        raise DataFormatError(f"{source}: not a valid episode: {error}") from error


def load_minari(
    dataset_or_id: Any,
    *,
    episodes: int | Sequence[int] | None = None,
    observations: Literal["keep", "flatten"] = "keep",
) -> list[Episode]:
    """Reads the episodes of a Minari dataset.

    Args:
        dataset_or_id: a ``minari.MinariDataset``, or the id of a dataset stored locally
            under ``$MINARI_DATASETS_PATH`` (default ``~/.minari/datasets``), e.g.
            ``"D4RL/minigrid/fourrooms-v0"`` (download it first with
            ``minari download ID``).
        episodes: all episodes (None), the first ``episodes`` of them (an int), or the
            episodes with these indices (a sequence of ints).
        observations: ``"keep"``: dict / tuple observations become a flat mapping keyed
            ``"outer/inner"``, each of shape (T+1, ...); ``"flatten"``: one array of shape
            (T+1, D) whose columns are the leaves in space order (dtype: their common type).

    Returns:
        one Episode per dataset episode: observations (T+1, ...), actions (T, ...),
        rewards (T,) float64, infos of the T steps (those that are arrays).

    Raises:
        DependencyNotInstalled: if minari is not installed.
        FileNotFoundError: if no dataset with this id is stored locally.
        DataFormatError: if an episode cannot be an Episode.
        ValueError: for a bad ``episodes`` or ``observations`` argument.
    """
    if observations not in ("keep", "flatten"):
        raise ValueError(f"observations must be 'keep' or 'flatten', got {observations!r}")
    if isinstance(dataset_or_id, (str, os.PathLike)):
        minari = import_minari()
        dataset_id = str(dataset_or_id)
        try:
            dataset = minari.load_dataset(dataset_id)
        except FileNotFoundError as error:
            root = os.environ.get("MINARI_DATASETS_PATH", "~/.minari/datasets")
            raise FileNotFoundError(
                f"no Minari dataset {dataset_id!r} under {root}; list them with "
                f"`minari list local`, or download it with `minari download {dataset_id}`"
            ) from error
    else:
        dataset = dataset_or_id
        dataset_id = str(getattr(getattr(dataset, "spec", None), "dataset_id", "minari dataset"))
    indices = _episode_indices(dataset, episodes)
    return [
        episode_from_minari(data, observations=observations, source=f"{dataset_id} episode {data.id}")
        for data in dataset.iterate_episodes(indices)
    ]


def _episode_indices(dataset: Any, episodes: int | Sequence[int] | None) -> list[int]:
    available = [int(index) for index in dataset.episode_indices]
    if episodes is None:
        return available
    if isinstance(episodes, (int, np.integer)):
        if episodes < 1:
            raise ValueError(f"episodes must be >= 1, got {episodes}")
        return available[: int(episodes)]
    indices = [int(index) for index in episodes]
    missing = sorted(set(indices) - set(available))
    if missing:
        raise ValueError(
            f"episodes {missing} are not in the dataset (it has {len(available)} episodes)"
        )
    return indices


def _nest(space: Any, flat: Mapping[str, np.ndarray], prefix: str = "") -> Any:
    """The nested dict / tuple of ``space``'s structure from the flat ``a/b`` keys."""
    from gymnasium import spaces

    def child(key: Any) -> str:
        return f"{prefix}{KEY_SEPARATOR}{key}" if prefix else str(key)

    if isinstance(space, spaces.Dict):
        return {key: _nest(subspace, flat, child(key)) for key, subspace in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(_nest(subspace, flat, child(index)) for index, subspace in enumerate(space.spaces))
    if prefix not in flat:
        raise ValueError(
            f"the observation space has the entry {prefix!r}, the episodes' observations "
            f"have only {sorted(flat)}; pass the observation_space the episodes come from"
        )
    return flat[prefix]


def _buffer(episode: Episode, observation_space: Any) -> Any:
    from minari.data_collector.episode_buffer import EpisodeBuffer

    length = episode.length
    observations: Any = episode.observations
    if isinstance(observations, Mapping):
        observations = _nest(observation_space, observations)
    flags = np.zeros(length, dtype=bool)
    terminations, truncations = flags.copy(), flags.copy()
    if length:
        terminations[-1], truncations[-1] = episode.terminated, episode.truncated
    infos: dict[str, Any] = {}
    for key, value in episode.infos.items():
        padded = np.concatenate([np.zeros_like(value[:1]), value])  # the reset row
        # Minari's arrow reader fails on 1-D arrays; a list of scalars round-trips.
        infos[key] = list(padded) if padded.ndim == 1 else padded
    return EpisodeBuffer(
        observations=observations,
        actions=np.asarray(episode.actions),
        rewards=[float(reward) for reward in episode.rewards],
        terminations=terminations.tolist(),
        truncations=truncations.tolist(),
        infos=infos or None,
    )


def save_minari(
    episodes: Sequence[Episode],
    dataset_id: str,
    *,
    env: str | gym.Env | Any | None = None,
    observation_space: gym.Space | None = None,
    action_space: gym.Space | None = None,
    data_format: str = "arrow",
    **metadata: Any,
) -> Any:
    """Writes episodes as a new Minari dataset under ``$MINARI_DATASETS_PATH``.

    Episodes with dict observations (flat ``"outer/inner"`` keys) are written in the
    nested structure of ``observation_space``. Images are stored losslessly (no JPEG),
    so :func:`load_minari` gives back identical episodes when their arrays have the
    spaces' dtypes (a Discrete action space stores int64).

    Args:
        episodes: the episodes, at least one.
        dataset_id: the new dataset's id, ``(namespace/)(env_name/)name-v(version)``,
            e.g. ``"rudder/fourrooms/demonstrations-v0"``.
        env: the environment that made the episodes: a registered id, an env or an
            ``EnvSpec`` (Minari stores its spec, so ``dataset.recover_environment()``
            works); or None with both spaces given.
        observation_space: the observation space (default: the env's).
        action_space: the action space (default: the env's).
        data_format: ``"arrow"`` (needs pyarrow, the default) or ``"hdf5"`` (needs h5py).
        **metadata: more of ``minari.create_dataset_from_buffers``'s arguments, e.g.
            ``author``, ``algorithm_name``, ``description``, ``code_permalink``.

    Returns:
        the new ``minari.MinariDataset``.

    Raises:
        DependencyNotInstalled: if minari is not installed.
        ValueError: if neither ``env`` nor both spaces are given, or the dataset exists.
    """
    minari = import_minari()
    episodes = check_episodes(episodes)
    if env is None and (observation_space is None or action_space is None):
        raise ValueError(
            "save_minari needs env= (an env id, env or EnvSpec) or both observation_space= "
            "and action_space="
        )
    if observation_space is None or action_space is None:
        import gymnasium

        made: Any = gymnasium.make(env) if isinstance(env, (str, gymnasium.envs.registration.EnvSpec)) else env
        observation_space = observation_space or made.observation_space
        action_space = action_space or made.action_space
    buffers = [_buffer(episode, observation_space) for episode in episodes]
    return minari.create_dataset_from_buffers(
        dataset_id,
        buffers,
        env=env,
        observation_space=observation_space,
        action_space=action_space,
        data_format=data_format,
        jpeg_encoding=False,
        **metadata,
    )
