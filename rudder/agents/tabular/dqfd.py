"""A tabular learner in the spirit of DQfD (Hester et al., "Deep Q-learning from
Demonstrations", arXiv 1704.03732), the paper's third grid-world baseline.

Losses, applied as tabular increments to Q(s, a) for a replayed transition:

- 1-step TD: delta_1 = r + gamma max_b Q(s', b) - Q(s, a);
- n-step TD: delta_n = r_1 + ... + r_n + gamma^n max_b Q(s_n, b) - Q(s, a);
- large margin (demonstrated transitions only): if a* = argmax_b Q(s, b) + m [b != a]
  differs from the demonstrated a, raise Q(s, a) and lower Q(s, a*).

Q(s, a) += alpha (w_1 delta_1 + w_n delta_n), plus alpha w_margin for the margin. The
demonstrations are pre-trained on for ``pretrain_sweeps`` sweeps (weights 0.01, 0.01, 1
as in the official code) and stay in the replay memory for good; agent transitions join
a ring buffer. Differences from DQfD, on purpose: tabular, and uniform instead of
prioritised sampling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from rudder.data.episode import Episode

__all__ = ["TabularDQfD", "n_step_targets"]


def n_step_targets(
    states: Sequence[int], rewards: Sequence[float], terminal: bool, *, n_step: int, discount: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n-step returns of one episode.

    Args:
        states: shape (T+1,): s_0 .. s_T.
        rewards: shape (T,): r_1 .. r_T.
        terminal: whether s_T is terminal (no bootstrap from it).
        n_step: n.
        discount: gamma.

    Returns:
        ``(returns, bootstrap_states, bootstrap_weights)``, each shape (T,): the
        discounted sum of up to n rewards, the state to bootstrap from, and gamma^k
        (0 where the bootstrap state is terminal).
    """
    length = len(rewards)
    returns = np.zeros(length)
    bootstrap_states = np.zeros(length, dtype=np.int64)
    weights = np.zeros(length)
    for t in range(length):
        end = min(t + n_step, length)
        total, factor = 0.0, 1.0
        for k in range(t, end):
            total += factor * rewards[k]
            factor *= discount
        returns[t] = total
        bootstrap_states[t] = states[end]
        weights[t] = 0.0 if (end == length and terminal) else factor
    return returns, bootstrap_states, weights


class TabularDQfD:
    """Replay memory and updates of the DQfD-like learner over a Q-table (S, A).

    Args:
        values: shape (num_states, num_actions): the Q-table, updated in place.
        demonstrations: the demonstrations.
        state_index: maps an observation to a state index.
        rng: random generator (sampling).
        learning_rate: alpha.
        discount: gamma.
        n_step: n of the n-step loss.
        margin: the large-margin m.
        capacity: size of the agent part of the replay memory.
    """

    def __init__(
        self,
        values: np.ndarray,
        demonstrations: Sequence[Episode],
        state_index: Callable[[np.ndarray], int],
        *,
        rng: np.random.Generator,
        learning_rate: float = 0.01,
        discount: float = 1.0,
        n_step: int = 10,
        margin: float = 0.8,
        capacity: int = 30_000,
    ) -> None:
        self.values = values
        self.rng = rng
        self.alpha = learning_rate
        self.gamma = discount
        self.n_step = n_step
        self.margin = margin
        self.capacity = capacity
        # Columns: s, a, r, s', 1-step weight, n-step return, n-step state, n-step weight.
        rows = []
        for episode in demonstrations:
            states = [state_index(episode.observation(t)) for t in range(episode.length + 1)]
            rows.append(self._rows(states, episode.actions.astype(np.int64).tolist(), episode.rewards.tolist(), episode.terminated))
        self.demo = np.concatenate(rows)
        self.agent = np.zeros((0, 8))

    def _rows(self, states, actions, rewards, terminal: bool) -> np.ndarray:
        returns, bootstrap, weights = n_step_targets(states, rewards, terminal, n_step=self.n_step, discount=self.gamma)
        length = len(rewards)
        one_step = np.full(length, self.gamma)
        if terminal:
            one_step[-1] = 0.0
        return np.column_stack([states[:-1], actions, rewards, states[1:], one_step, returns, bootstrap, weights])

    def _update(self, row: np.ndarray, *, demonstrated: bool, weights: tuple[float, float, float]) -> None:
        values = self.values
        state, action = int(row[0]), int(row[1])
        current = values[state, action]
        delta_one = row[2] + row[4] * values[int(row[3])].max() - current
        delta_n = row[5] + row[7] * values[int(row[6])].max() - current
        values[state, action] = current + self.alpha * (weights[0] * delta_one + weights[1] * delta_n)
        if demonstrated and weights[2]:
            shifted = values[state] + self.margin
            shifted[action] -= self.margin
            best = int(shifted.argmax())
            if best != action:
                values[state, action] += self.alpha * weights[2]
                values[state, best] -= self.alpha * weights[2]

    def pretrain(self, sweeps: int = 500) -> None:
        """Sweeps over the demonstrations with weights (0.01, 0.01, 1)."""
        for _ in range(sweeps):
            for row in self.demo:
                self._update(row, demonstrated=True, weights=(0.01, 0.01, 1.0))

    def add_episode(self, states: Sequence[int], actions: Sequence[int], rewards: Sequence[float], terminal: bool) -> None:
        """Stores a finished agent episode (the oldest agent transitions leave when full)."""
        rows = self._rows(list(states), list(actions), list(rewards), terminal)
        self.agent = np.concatenate([self.agent, rows])[-self.capacity :]

    def replay(self, count: int = 1) -> None:
        """``count`` updates from uniformly sampled transitions (weights 1, 1, 0.01)."""
        total = len(self.demo) + len(self.agent)
        for index in self.rng.integers(total, size=count):
            if index < len(self.demo):
                self._update(self.demo[index], demonstrated=True, weights=(1.0, 1.0, 0.01))
            else:
                self._update(self.agent[index - len(self.demo)], demonstrated=False, weights=(1.0, 1.0, 0.01))
