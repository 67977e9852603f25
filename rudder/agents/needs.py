"""Needs: levels that fall by themselves and that the demonstrator tops up, whatever its sub-task.

Water and food in Crafter fall every few dozen steps whatever the player does, and the
player drinks and eats when they run low, in whichever sub-task it is at the time. Each
sub-task agent sees only the few drinks within its own sub-task, and none of them learns
to go for water. :func:`find_needs` looks for such levels in the demonstrations: observation
features with a few levels that fall on steps where the demonstrator does what it does
anywhere (the fall is not its doing), rise on steps where it does something else (the
rise is), in several sub-tasks, and that it tops up from low levels. :func:`need_interrupts`
turns each into a :class:`~rudder.agents.subtasks.SubtaskInterrupt`: an agent of its own,
in charge from the level at which the demonstrator starts topping up until the level it
tops up to. ``train_sb3`` does this with ``SB3RunSettings.need_agents``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from rudder.agents.subtasks import SubtaskController, SubtaskInterrupt, demonstration_steps
from rudder.data.episode import Episode

__all__ = ["Need", "demonstration_needs", "find_needs", "need_interrupts"]


@dataclasses.dataclass(frozen=True)
class Need:
    """One observation feature that the demonstrator keeps topped up.

    Attributes:
        feature: the index into the flat observation.
        below: the need's agent takes charge while the feature is below this level: half a
            level step above the lower quartile of the levels at which top-ups start (as
            low as the demonstrator lets it fall in a quarter of its top-ups).
        until: and stays in charge until the feature reaches this level: half a level step
            below the median level that top-ups end at.
        start: the median level at which top-ups start.
        end: the median level that they end at.
        fall: how far the demonstrator's actions on the steps where the feature falls are
            from its actions on every step (total variation distance, in [0, 1]; small:
            the fall is not its doing).
        rise: the same on the steps where it rises (large: the rise is its doing).
        top_ups: how many top-ups (runs of rises) the demonstrations hold.
        subtasks: in how many sub-tasks top-ups start.
        action: the demonstrator's most frequent action on the steps where it rises.
    """

    feature: int
    below: float
    until: float
    start: float
    end: float
    fall: float
    rise: float
    top_ups: int
    subtasks: int
    action: int


def _distance(actions: np.ndarray, everywhere: np.ndarray, count: int) -> float:
    """Total variation distance between the distribution of ``actions`` and ``everywhere``."""
    if actions.size == 0:
        return float("nan")
    return float(0.5 * np.abs(np.bincount(actions, minlength=count) / actions.size - everywhere).sum())


def find_needs(
    observations: Sequence[np.ndarray],
    actions: Sequence[np.ndarray],
    subtasks: Sequence[np.ndarray],
    *,
    max_fall: float = 0.25,
    min_rise: float = 0.5,
    min_top_ups: int = 20,
    min_subtasks: int = 3,
    max_levels: int = 32,
    gap: int = 16,
) -> list[Need]:
    """The features the demonstrator keeps topped up, lowest feature first.

    A feature is a candidate when it takes between 3 and ``max_levels`` values in the
    demonstrations (a level, not a flag or a continuous reading). Its top-ups are the runs
    of steps where it rises, each at most ``gap`` steps after the last. It is a need when

    - it falls by itself: the demonstrator's actions on the steps where it falls are within
      ``max_fall`` (total variation distance) of its actions on every step;
    - the demonstrator raises it: its actions where it rises are at least ``min_rise`` away;
    - it is topped up at least ``min_top_ups`` times, starting in at least ``min_subtasks``
      sub-tasks;
    - and from low levels: the median level at which top-ups start is at most the lower
      quartile of its levels over every step (a feature raised whenever it dips is a
      habit, not a need).

    Args:
        observations: per demonstration, shape (T+1, n): its flat observations.
        actions: per demonstration, shape (T,): its discrete actions.
        subtasks: per demonstration, shape (T,) or (T+1,): the sub-task in charge at each
            step (see :meth:`~rudder.agents.subtasks.SubtaskController.trace`).
        max_fall: see above, in [0, 1].
        min_rise: see above, in [0, 1].
        min_top_ups: see above.
        min_subtasks: see above.
        max_levels: the most distinct values of a level.
        gap: the most steps between two rises of one top-up.

    Returns:
        The needs, in order of their features.
    """
    if not 0.0 <= max_fall <= 1.0 or not 0.0 <= min_rise <= 1.0:
        raise ValueError(f"`max_fall` and `min_rise` must be in [0, 1], got {max_fall} and {min_rise}")
    if min(min_top_ups, min_subtasks, gap) < 1 or max_levels < 3:
        raise ValueError("`min_top_ups`, `min_subtasks` and `gap` must be >= 1 and `max_levels` >= 3")
    episodes = _checked(observations, actions, subtasks)
    if not episodes:
        return []
    every_action = np.concatenate([episode[1] for episode in episodes])
    count = int(every_action.max()) + 1
    everywhere = np.bincount(every_action, minlength=count) / every_action.size
    every_observation = np.concatenate([episode[0][:-1] for episode in episodes])
    needs = []
    for feature in range(every_observation.shape[1]):
        levels = np.unique(every_observation[:, feature])
        if not 3 <= levels.size <= max_levels or not np.all(np.isfinite(levels)):
            continue
        falls, rises, starts, ends, where = [], [], [], [], set()
        for episode_observations, episode_actions, episode_subtasks in episodes:
            values = episode_observations[:, feature]
            change = np.diff(values)
            up = np.flatnonzero(change > 0)
            falls.append(episode_actions[change < 0])
            rises.append(episode_actions[up])
            for run in np.split(up, np.flatnonzero(np.diff(up) > gap) + 1) if up.size else ():
                starts.append(values[run[0]])
                ends.append(values[run[-1] + 1])
                where.add(int(episode_subtasks[run[0]]))
        fall = _distance(np.concatenate(falls), everywhere, count)
        risen = np.concatenate(rises)
        rise = _distance(risen, everywhere, count)
        if not (fall <= max_fall and rise >= min_rise and len(starts) >= min_top_ups and len(where) >= min_subtasks):
            continue
        start, end = float(np.median(starts)), float(np.median(ends))
        if start > np.percentile(every_observation[:, feature], 25) or end <= start:
            continue
        step = float(np.min(np.diff(levels)))
        below = float(np.percentile(starts, 25)) + step / 2
        needs.append(
            Need(
                feature=feature,
                below=below,
                until=max(end - step / 2, below),
                start=start,
                end=end,
                fall=fall,
                rise=rise,
                top_ups=len(starts),
                subtasks=len(where),
                action=int(np.argmax(np.bincount(risen, minlength=count))),
            )
        )
    return needs


def _checked(
    observations: Sequence[np.ndarray], actions: Sequence[np.ndarray], subtasks: Sequence[np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The demonstrations of :func:`find_needs` as arrays (observations as floats,
    sub-tasks cut to (T,)), without the empty ones; errors name what is wrong."""
    if not len(observations) == len(actions) == len(subtasks):
        raise ValueError(
            f"`observations`, `actions` and `subtasks` need one entry per demonstration, got "
            f"{len(observations)}, {len(actions)} and {len(subtasks)}"
        )
    episodes = []
    for index, (episode_observations, episode_actions, episode_subtasks) in enumerate(
        zip(observations, actions, subtasks)
    ):
        episode_observations = np.asarray(episode_observations, dtype=np.float64)
        episode_actions = np.asarray(episode_actions)
        episode_subtasks = np.asarray(episode_subtasks)
        length = episode_actions.shape[0] if episode_actions.ndim == 1 else -1
        if episode_observations.ndim != 2 or episode_observations.shape[0] != length + 1:
            raise ValueError(
                f"demonstration {index}: `observations` must have shape (T+1, n) and `actions` shape (T,), "
                f"got {episode_observations.shape} and {episode_actions.shape}"
            )
        if length and (not np.issubdtype(episode_actions.dtype, np.integer) or episode_actions.min() < 0):
            raise ValueError(f"demonstration {index}: `actions` must be integers >= 0 (find_needs needs discrete actions)")
        if episode_subtasks.shape not in ((length,), (length + 1,)):
            raise ValueError(
                f"demonstration {index}: `subtasks` must have shape ({length},) or ({length + 1},), "
                f"got {episode_subtasks.shape}"
            )
        if length:
            episodes.append((episode_observations, episode_actions, episode_subtasks[:length]))
    if any(episode[0].shape[1] != episodes[0][0].shape[1] for episode in episodes):
        raise ValueError("the demonstrations' observations must all have the same length n")
    return episodes


def need_interrupts(needs: Sequence[Need], *, prefix: str = "need") -> list[SubtaskInterrupt]:
    """One interrupt per need, named ``"{prefix} {feature}"``: in charge from below
    :attr:`Need.below` until :attr:`Need.until`."""
    return [
        SubtaskInterrupt(f"{prefix} {need.feature}", feature=need.feature, below=need.below, until=need.until)
        for need in needs
    ]


def demonstration_needs(
    controller: SubtaskController,
    demonstrations: Sequence[Episode],
    *,
    change_key: str = "inventory_change",
    **thresholds: Any,
) -> list[Need]:
    """:func:`find_needs` in ``demonstrations``, with the sub-tasks of ``controller`` (one
    without interrupts) along them.

    Args:
        controller: the sub-task controller.
        demonstrations: episodes with flat observations, shape (T+1, n), discrete
            actions, shape (T,), and ``infos[change_key]``.
        change_key: the info key of the per-step inventory changes.
        thresholds: keyword arguments of :func:`find_needs`.

    Returns:
        The needs; none where the observations are not flat arrays or the actions not
        discrete (integers).
    """
    steps = demonstration_steps(controller, demonstrations, change_key=change_key)
    if steps is None:
        return []
    return find_needs(
        [observations for observations, _, _ in steps],
        [actions for _, actions, _ in steps],
        [subtasks for _, _, subtasks in steps],
        **thresholds,
    )
