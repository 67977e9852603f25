"""RUDDER's lessons buffer: episodes kept and replayed by how badly the model predicts them.

When the buffer is full, a new episode replaces the lowest-priority one only if its own
priority is higher. Sampling is by softmax(priority / temperature). New episodes get
priority ``inf`` unless a loss is given (so they are replayed first), and
:meth:`update_priorities` sets the model's losses after a replay.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from rudder.data.episode import Episode

__all__ = ["LessonsBuffer"]


class LessonsBuffer:
    """A fixed-capacity, loss-prioritised store of episodes.

    Args:
        capacity: the most episodes kept.
        temperature: softmax temperature of the sampling (> 0).
        seed: seeds the sampling.
    """

    def __init__(self, capacity: int = 64, *, temperature: float = 1.0, seed: int = 0) -> None:
        if capacity < 1:
            raise ValueError(f"`capacity` must be >= 1, got {capacity}")
        if temperature <= 0:
            raise ValueError(f"`temperature` must be > 0, got {temperature}")
        self.capacity = capacity
        self.temperature = temperature
        self.episodes: list[Episode] = []
        self.priorities = np.zeros(0)
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return len(self.episodes)

    def add(self, episode: Episode, priority: float | None = None) -> bool:
        """Adds ``episode``; returns whether it was kept."""
        if not isinstance(episode, Episode):
            raise TypeError(f"`episode` must be an Episode, got {type(episode).__name__}")
        value = np.inf if priority is None else float(priority)
        if len(self.episodes) < self.capacity:
            self.episodes.append(episode)
            self.priorities = np.append(self.priorities, value)
            return True
        lowest = int(np.argmin(self.priorities))
        if value <= self.priorities[lowest]:
            return False
        self.episodes[lowest] = episode
        self.priorities[lowest] = value
        return True

    def probabilities(self) -> np.ndarray:
        """Shape (n,): the sampling probabilities (episodes with priority inf share all mass)."""
        if not self.episodes:
            raise ValueError("the lessons buffer is empty")
        infinite = np.isinf(self.priorities)
        if infinite.any():
            return infinite / infinite.sum()
        logits = self.priorities / self.temperature
        weights = np.exp(logits - logits.max())
        return weights / weights.sum()

    def sample(self, count: int) -> tuple[np.ndarray, list[Episode]]:
        """``count`` episodes drawn with replacement by priority: their indices and episodes."""
        if count < 1:
            raise ValueError(f"`count` must be >= 1, got {count}")
        index = self._rng.choice(len(self.episodes), size=count, p=self.probabilities())
        return index, [self.episodes[i] for i in index]

    def update_priorities(self, index: ArrayLike, priorities: ArrayLike) -> None:
        """Sets the priorities (e.g. the model's losses) of the episodes at ``index``.

        Args:
            index: shape (n,), int: positions in the buffer (as :meth:`sample` returns them).
            priorities: shape (n,): their new priorities.
        """
        positions = np.asarray(index, dtype=np.int64)
        values = np.asarray(priorities, dtype=np.float64)
        if positions.shape != values.shape:
            raise ValueError(f"{positions.shape[0]} indices but {values.shape[0]} priorities")
        self.priorities[positions] = values

    def returns(self) -> np.ndarray:
        """Shape (n,): the returns of the stored episodes."""
        return np.array([episode.episode_return for episode in self.episodes])

    def has_return_variance(self) -> bool:
        """Whether at least two stored episodes have different returns (RUDDER can learn)."""
        return len(self.episodes) > 1 and float(np.ptp(self.returns())) > 0
