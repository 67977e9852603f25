"""The redistribution gate: does the redistributed reward still rank the agent's own
episodes by their true return?

RUDDER trusts its LSTM's redistribution only once the LSTM predicts returns well (its
quality gate). An alignment profile is fitted once, on demonstrations, and the agent's
episodes can drift to where the profile misleads: for example an agent that completes the
demonstrated sub-goals and then fails scores high on the profile but earns nothing. The
gate measures, on the agent's recent finished episodes, how well the profile score orders
them by their return, and turns that into the weight of the redistributed reward against
the env reward:

- the **concordance** ``c`` is the probability that, of two episodes with different returns,
  the one with the higher return also has the higher profile score (ties in the score
  count one half): 1 for a perfect ordering, 0.5 for none, 0 for a reversed one;
- the **weight** is ``clip((c - 0.7) / 0.2, 0, 1)``: full trust from ``c >= 0.9``, none at
  ``c <= 0.7``, linear in between. Misleading shaping costs more than missing shaping, so the
  profile has to order the agent's episodes clearly better than chance (0.5) before it
  pays: episodes of noisy demonstrators, scored by profiles of 10 clean demonstrations,
  gave 0.80 (MiniGrid-KeyCorridorS4R3) and 0.85 (MiniGrid-UnlockPickup) with minigrid's
  interactions as events, but 0.68 (LunarLander) and 0.74 (MountainCar) with clustered
  states, where PPO on the redistributed reward fell below BC+PPO;
- with fewer than ``min_episodes`` episodes, or returns that are all equal (no ordering to
  check: for example before the agent's first success), the gate has no evidence and the
  weight stays where it was.

This module is numpy only; :class:`~rudder.agents.sb3.safeguards.RedistributionGate`
applies it during PPO training.
"""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["FULL_TRUST", "NO_TRUST", "WEIGHT_STEP", "RedistributionGate", "concordance", "gate_weight", "settled_weight"]


def concordance(scores: np.ndarray, returns: np.ndarray) -> float | None:
    """How well ``scores`` order episodes by ``returns``.

    Args:
        scores: shape (n,): each episode's profile score.
        returns: shape (n,): each episode's true return.

    Returns:
        The probability that of two episodes with different returns the one with the higher
        return has the higher score (score ties count one half), or None when no two
        returns differ.

    Raises:
        ValueError: for arrays of different shapes or non-finite values.
    """
    scores = np.asarray(scores, dtype=np.float64)
    returns = np.asarray(returns, dtype=np.float64)
    if scores.shape != returns.shape or scores.ndim != 1:
        raise ValueError(f"`scores` and `returns` must be 1-D of one length, got {scores.shape} and {returns.shape}")
    if not (np.all(np.isfinite(scores)) and np.all(np.isfinite(returns))):
        raise ValueError("`scores` and `returns` must be finite")
    higher_return = returns[:, None] > returns[None, :]
    pairs = int(np.count_nonzero(higher_return))
    if pairs == 0:
        return None
    score_difference = np.sign(scores[:, None] - scores[None, :])
    agreeing = np.count_nonzero(higher_return & (score_difference > 0))
    tied = np.count_nonzero(higher_return & (score_difference == 0))
    return float((agreeing + 0.5 * tied) / pairs)


#: The concordance at and below which the gate pays the env reward alone.
NO_TRUST = 0.7
#: The concordance from which the gate pays the redistributed reward alone.
FULL_TRUST = 0.9


def gate_weight(concordance_value: float) -> float:
    """The weight of the redistributed reward for a concordance:
    ``clip((c - NO_TRUST) / (FULL_TRUST - NO_TRUST), 0, 1)``."""
    if not 0.0 <= concordance_value <= 1.0:
        raise ValueError(f"a concordance is in [0, 1], got {concordance_value}")
    return float(np.clip((concordance_value - NO_TRUST) / (FULL_TRUST - NO_TRUST), 0.0, 1.0))


#: The steps in which the gate's weight moves, and the band it must leave to move.
WEIGHT_STEP = 0.25


def settled_weight(current: float, proposed: float, *, step: float = WEIGHT_STEP) -> float:
    """The weight to pay next: ``proposed`` rounded to a multiple of ``step``, once it is at
    least ``step`` away from ``current``; ``current`` until then.

    The band is a hysteresis: a concordance that hovers at a rounding boundary (on
    MiniGrid-UnlockPickup, 0.71-0.75 from one rollout to the next, which plain rounding
    turned into a weight of 0, 0.25, 0, 0.25, ...) leaves the weight alone, and with it the
    critic's targets: every change of the weight leaves the critic predicting the reward
    paid before (and, with ``GateRedistribution(warmup=...)``, freezes the actor).

    Args:
        current: the weight paid now, in [0, 1].
        proposed: the gate's weight from the latest concordance (:func:`gate_weight`).
        step: the rounding step and the width of the band, in (0, 1].
    """
    if not (0.0 <= current <= 1.0 and 0.0 <= proposed <= 1.0):
        raise ValueError(f"weights are in [0, 1], got {current} and {proposed}")
    if not 0.0 < step <= 1.0:
        raise ValueError(f"`step` must be in (0, 1], got {step}")
    if abs(proposed - current) < step:
        return current
    return float(min(1.0, round(proposed / step) * step))


class RedistributionGate:
    """The gate's state over the agent's recent finished episodes.

    Args:
        window: how many recent episodes the concordance covers.
        min_episodes: episodes needed before the gate judges.

    Attributes:
        weight: the current weight of the redistributed reward (1 until there is evidence).
        concordance: the last concordance measured, or None.
    """

    def __init__(self, *, window: int = 100, min_episodes: int = 20) -> None:
        if window < 2:
            raise ValueError(f"`window` must be >= 2, got {window}")
        if not 2 <= min_episodes <= window:
            raise ValueError(f"`min_episodes` must be in [2, window], got {min_episodes}")
        self.window = window
        self.min_episodes = min_episodes
        self.weight = 1.0
        self.concordance: float | None = None
        self._scores: deque[float] = deque(maxlen=window)
        self._returns: deque[float] = deque(maxlen=window)

    def __len__(self) -> int:
        return len(self._returns)

    def add(self, score: float, episode_return: float) -> None:
        """Books one finished episode: its final profile score and its true return."""
        if not (np.isfinite(score) and np.isfinite(episode_return)):
            raise ValueError(f"an episode's score and return must be finite, got {score} and {episode_return}")
        self._scores.append(float(score))
        self._returns.append(float(episode_return))

    def update(self) -> float:
        """Judges the recent episodes and returns the (possibly new) weight."""
        if len(self._returns) < self.min_episodes:
            return self.weight
        measured = concordance(np.array(self._scores), np.array(self._returns))
        if measured is None:
            return self.weight
        self.concordance = measured
        self.weight = gate_weight(measured)
        return self.weight
