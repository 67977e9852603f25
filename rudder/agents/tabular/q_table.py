"""Q-tables of the tabular agents, with behaviour-cloning initialisation.

The agents act on a discrete environment state (``env.unwrapped.state_index``) and,
for Align-RUDDER, on the progress of the episode along the profile: the redistributed
reward depends on the history of the episode, so the Q-table is indexed by
(state, context) where the context is the profile position of the events so far
(Align-RUDDER, arXiv 2009.14108, augments the state with history for the same reason).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from rudder.data.episode import Episode, check_episodes

__all__ = ["QTable", "StateIndex", "behavior_cloning_values", "initial_q_table"]

StateIndex = Callable[[np.ndarray], int]


@dataclasses.dataclass
class QTable:
    """Action values indexed by (state, context, action).

    Attributes:
        values: shape (num_states, num_contexts, num_actions), float64.
    """

    values: np.ndarray

    @classmethod
    def random(
        cls,
        num_states: int,
        num_actions: int,
        *,
        num_contexts: int = 1,
        mean: float = 1.0,
        std: float = 0.5,
        rng: np.random.Generator,
    ) -> QTable:
        """Q-values drawn from N(mean, std) (the official code's initialisation)."""
        return cls(rng.normal(mean, std, size=(num_states, num_contexts, num_actions)))

    @property
    def num_contexts(self) -> int:
        return int(self.values.shape[1])

    def act(self, state: int, context: int, epsilon: float, rng: np.random.Generator) -> int:
        """An epsilon-greedy action (ties between greedy actions go to the first)."""
        if rng.random() < epsilon:
            return int(rng.integers(self.values.shape[2]))
        return int(self.values[state, context].argmax())


def behavior_cloning_values(
    demonstrations: Sequence[Episode],
    state_index: StateIndex,
    num_states: int,
    num_actions: int,
    *,
    rewards: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The official code's behaviour-cloning initialisation of a Q-table.

    For every (s, a) seen in the demonstrations: Q(s, a) = mean return-to-go of (s, a)
    times count(s, a) / count(s, .), so the demonstrated action of a state gets the
    highest value and the values carry the scale of the return.

    Args:
        demonstrations: the demonstrations.
        state_index: maps one observation to a state index in [0, num_states).
        num_states: number of states.
        num_actions: number of actions.
        rewards: per demonstration, shape (T,): the rewards whose return-to-go is used
            (default: the demonstrations' own rewards; pass redistributed rewards for an
            agent that learns on them).

    Returns:
        ``(values, seen)``: shape (num_states, num_actions) values and the boolean mask
        of the (s, a) pairs seen in the demonstrations.
    """
    demonstrations = check_episodes(demonstrations, name="demonstrations")
    totals = np.zeros((num_states, num_actions))
    counts = np.zeros((num_states, num_actions))
    for index, episode in enumerate(demonstrations):
        episode_rewards = episode.rewards if rewards is None else np.asarray(rewards[index])
        returns_to_go = np.cumsum(episode_rewards[::-1])[::-1]
        for t in range(episode.length):
            state = state_index(episode.observation(t))
            action = int(episode.actions[t])
            totals[state, action] += returns_to_go[t]
            counts[state, action] += 1
    seen = counts > 0
    values = np.zeros((num_states, num_actions))
    state_counts = counts.sum(axis=1, keepdims=True)
    values[seen] = (totals[seen] / counts[seen]) * (counts / np.maximum(state_counts, 1))[seen]
    return values, seen


def initial_q_table(
    demonstrations: Sequence[Episode],
    state_index: StateIndex,
    num_states: int,
    num_actions: int,
    *,
    num_contexts: int = 1,
    rng: np.random.Generator,
    rewards: Sequence[np.ndarray] | None = None,
    mean: float = 1.0,
    std: float = 0.5,
    demonstrated_first: bool = False,
) -> QTable:
    """Random N(mean, std) values, overwritten by behaviour cloning where demonstrated.

    The cloned values are copied to every context, as in the official code, which
    clones before it expands the table with history.

    Args:
        demonstrations: the demonstrations.
        state_index: maps one observation to a state index in [0, num_states).
        num_states: number of states.
        num_actions: number of actions.
        num_contexts: number of contexts per state.
        rng: random values of the undemonstrated entries.
        rewards: per demonstration, shape (T,): rewards for the cloned returns-to-go.
        mean: mean of the random values.
        std: standard deviation of the random values.
        demonstrated_first: in a demonstrated state, put every undemonstrated action
            below the lowest demonstrated one (by ``std * |N(0, 1)|``), so the greedy
            policy starts as the demonstrators'. Without it, a demonstrated action whose
            cloned return-to-go is small (redistributed rewards are mostly paid before
            the end) can lose to a random value and the start policy leaves the
            demonstrations.
    """
    table = QTable.random(num_states, num_actions, num_contexts=num_contexts, mean=mean, std=std, rng=rng)
    values, seen = behavior_cloning_values(
        demonstrations, state_index, num_states, num_actions, rewards=rewards
    )
    states, actions = np.nonzero(seen)
    table.values[states, :, actions] = values[states, actions][:, None]
    if demonstrated_first:
        demonstrated = seen.any(axis=1)
        lowest = np.where(seen, values, np.inf).min(axis=1)
        for state in np.flatnonzero(demonstrated):
            others = np.flatnonzero(~seen[state])
            offsets = std * np.abs(rng.standard_normal((num_contexts, others.size)))
            table.values[state][:, others] = lowest[state] - offsets - 1e-9
    return table
