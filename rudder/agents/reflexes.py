"""Reflexes: states where the demonstrator acts the same whatever its sub-task.

The consensus orders the sub-goals the demonstrations share; some of what a demonstrator
does is no sub-goal but an answer to a state that comes round in any sub-task (a blow at
the monster next to the player, a drink at the water's edge). Each sub-task agent sees
only the few such steps within its own sub-task. :func:`find_reflexes` looks for them in
the demonstrations: binary observation features that are rare, that change the
demonstrator's choice of action within a sub-task when they appear, and after which it
chooses alike in every sub-task. :func:`reflex_interrupt` turns the ones it finds into a
:class:`~rudder.agents.subtasks.SubtaskInterrupt`: an agent of their own, in charge
whenever one of them holds. ``train_sb3`` does all of this by default wherever it trains
sub-task agents, on the demonstrations and the images its cloning augmentation makes of
them (``SB3RunSettings.reflex_agent`` and ``reflex_augmentation``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from rudder.agents.subtasks import SubtaskController, SubtaskInterrupt, demonstration_steps
from rudder.data.episode import Episode

__all__ = ["Reflex", "demonstration_reflexes", "find_reflexes", "reflex_interrupt"]


@dataclasses.dataclass(frozen=True)
class Reflex:
    """One binary observation feature and how the demonstrator answers it.

    Attributes:
        feature: the index into the flat observation.
        score: ``shift - spread``, what :func:`find_reflexes` ranks by.
        shift: how far the feature moves the demonstrator's action distribution within
            a sub-task: the total variation distance between the distributions with and
            without it, mean over the sub-tasks (weighted by the steps with it), in [0, 1].
        spread: how much the answer differs between sub-tasks: the total variation
            distance of each sub-task's distribution with the feature from the one of all
            sub-tasks together, mean as for ``shift``, in [0, 1].
        steps: demonstration steps where the feature is 1.
        subtasks: sub-tasks with enough steps both with and without it.
        action: the demonstrator's most frequent action when it is 1.
    """

    feature: int
    score: float
    shift: float
    spread: float
    steps: int
    subtasks: int
    action: int


def find_reflexes(
    observations: np.ndarray,
    actions: np.ndarray,
    subtasks: np.ndarray,
    *,
    min_score: float = 0.6,
    max_share: float = 0.05,
    min_steps: int = 20,
    min_subtasks: int = 3,
    min_subtask_steps: int = 5,
) -> list[Reflex]:
    """The binary features that the demonstrator answers alike in every sub-task, best first.

    A feature is a candidate when it is 0 or 1 on every step, 1 on at least ``min_steps``
    steps and on at most ``max_share`` of them (a reflex answers a state that comes round,
    not a sub-task's usual scene), in at least ``min_subtasks`` sub-tasks that each have
    ``min_subtask_steps`` steps with it and without it. It is a reflex when its
    :attr:`Reflex.score` (how much it changes the action within a sub-task, less how much
    the answer differs between sub-tasks) reaches ``min_score``.

    Args:
        observations: shape (N, n): the flat observations of the demonstration steps
            (pooled over the episodes, without the last observation of each).
        actions: shape (N,): the discrete actions taken at them.
        subtasks: shape (N,): the sub-task in charge at each step (see
            :meth:`~rudder.agents.subtasks.SubtaskController.trace`).
        min_score: the least score of a reflex, in [0, 1].
        max_share: the largest share of the steps on which a reflex's feature may be 1.
        min_steps: the fewest steps on which it must be 1.
        min_subtasks: the fewest sub-tasks it must be seen in.
        min_subtask_steps: the fewest steps with it and without it for a sub-task to count.

    Returns:
        The reflexes, highest score first (ties: lower feature first).
    """
    observations = np.asarray(observations)
    actions = np.asarray(actions)
    subtasks = np.asarray(subtasks)
    if observations.ndim != 2:
        raise ValueError(
            f"`observations` must have shape (N, n) (flat observations), got {observations.shape}"
        )
    count = observations.shape[0]
    if actions.shape != (count,) or subtasks.shape != (count,):
        raise ValueError(
            f"`actions` and `subtasks` must have shape ({count},) like the observations' first axis, "
            f"got {actions.shape} and {subtasks.shape}"
        )
    for name, values in (("actions", actions), ("subtasks", subtasks)):
        if count and (not np.issubdtype(values.dtype, np.integer) or values.min() < 0):
            raise ValueError(
                f"`{name}` must be integers >= 0 (find_reflexes needs discrete actions)"
            )
    if not 0.0 <= min_score <= 1.0 or not 0.0 < max_share <= 1.0:
        raise ValueError(
            f"`min_score` must be in [0, 1] and `max_share` in (0, 1], got {min_score} and {max_share}"
        )
    if min(min_steps, min_subtasks, min_subtask_steps) < 1:
        raise ValueError("`min_steps`, `min_subtasks` and `min_subtask_steps` must be >= 1")
    if count == 0:
        return []
    binary = np.all((observations == 0) | (observations == 1), axis=0)
    on_counts = np.sum(observations == 1, axis=0)
    candidates = np.flatnonzero(
        binary & (on_counts >= min_steps) & (on_counts <= max_share * count)
    )
    if candidates.size == 0:
        return []
    present = (observations[:, candidates] == 1).astype(np.float64)  # (N, F)
    action_onehot = np.eye(int(actions.max()) + 1)[actions]  # (N, A)
    sums_on, sums_off, counts_on, counts_off = [], [], [], []
    for subtask in np.unique(subtasks):
        rows = subtasks == subtask
        with_feature = (
            present[rows].T @ action_onehot[rows]
        )  # (F, A): action counts with the feature
        everything = action_onehot[rows].sum(axis=0)  # (A,)
        sums_on.append(with_feature)
        sums_off.append(everything[None, :] - with_feature)
        counts_on.append(with_feature.sum(axis=1))
        counts_off.append(rows.sum() - with_feature.sum(axis=1))
    on, off = np.stack(sums_on), np.stack(sums_off)  # (S, F, A)
    n_on, n_off = np.stack(counts_on), np.stack(counts_off)  # (S, F)
    used = (n_on >= min_subtask_steps) & (n_off >= min_subtask_steps)
    p_on = on / np.maximum(n_on, 1)[..., None]
    p_off = off / np.maximum(n_off, 1)[..., None]
    weights = np.where(used, n_on, 0.0)
    pooled = np.einsum("sf,sfa->fa", weights, p_on) / np.maximum(weights.sum(axis=0), 1)[:, None]
    shifts = 0.5 * np.abs(p_on - p_off).sum(axis=2)  # (S, F)
    spreads = 0.5 * np.abs(p_on - pooled[None]).sum(axis=2)
    total = np.maximum(weights.sum(axis=0), 1)
    shift = (weights * shifts).sum(axis=0) / total
    spread = (weights * spreads).sum(axis=0) / total
    seen_in = used.sum(axis=0)
    reflexes = [
        Reflex(
            feature=int(candidates[j]),
            score=float(shift[j] - spread[j]),
            shift=float(shift[j]),
            spread=float(spread[j]),
            steps=int(on_counts[candidates[j]]),
            subtasks=int(seen_in[j]),
            action=int(np.argmax(pooled[j])),
        )
        for j in range(candidates.size)
        if seen_in[j] >= min_subtasks and shift[j] - spread[j] >= min_score
    ]
    return sorted(reflexes, key=lambda reflex: (-reflex.score, reflex.feature))


def reflex_interrupt(
    reflexes: Sequence[Reflex], *, name: str = "reflex"
) -> SubtaskInterrupt | None:
    """The interrupt whose agent is in charge whenever one of ``reflexes``' features is 1
    (``None`` when there are none)."""
    if not reflexes:
        return None
    return SubtaskInterrupt(
        name, feature=tuple(sorted({reflex.feature for reflex in reflexes})), above=0.5
    )


def demonstration_reflexes(
    controller: SubtaskController,
    demonstrations: Sequence[Episode],
    *,
    change_key: str = "inventory_change",
    **thresholds: Any,
) -> list[Reflex]:
    """:func:`find_reflexes` in ``demonstrations``, with the sub-tasks of ``controller``
    (one without an interrupt) along them.

    Args:
        controller: the sub-task controller.
        demonstrations: episodes with flat observations, shape (T+1, n), discrete
            actions, shape (T,), and ``infos[change_key]``.
        change_key: the info key of the per-step inventory changes.
        thresholds: keyword arguments of :func:`find_reflexes`.

    Returns:
        The reflexes, best first; none where the observations are not flat arrays or the
        actions not discrete (integers).
    """
    steps = demonstration_steps(controller, demonstrations, change_key=change_key)
    if not steps:
        return []
    return find_reflexes(
        np.concatenate([observations[:-1] for observations, _, _ in steps]),
        np.concatenate([actions for _, actions, _ in steps]),
        np.concatenate([subtasks[:-1] for _, _, subtasks in steps]),
        **thresholds,
    )
