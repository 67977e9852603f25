"""The tabular learners, one small class per update rule, all in numpy.

Each learner updates a Q-table of shape (num_states, num_contexts, num_actions) in place
and is driven by :func:`~rudder.agents.tabular.run.train_until_threshold` through the
same three calls per training episode: :meth:`~TabularLearner.start_episode` after the
reset, :meth:`~TabularLearner.observe` after every env step, and
:meth:`~TabularLearner.end_episode` when the episode ends.

- :class:`QLearning` (``"bc-q"``): online one-step Q-learning,
  Q(s, c, a) += alpha (r + gamma max_b Q(s', c', b) - Q(s, c, a)), no bootstrap at the end.
- :class:`LookaheadQ` (``"align-rudder"``, ``"rudder-lstm"``): after the episode, every
  visited (s, c, a) moves towards kappa_t = R_{t+1} + ... + R_{t+lookahead}
  (:func:`lookahead_sums`); an optional ``relabel`` replaces the episode's rewards first
  (RUDDER's LSTM redistribution, :class:`LSTMRelabel`).
- :class:`DQfD` (``"dqfd"``): one replayed :class:`~rudder.agents.tabular.dqfd.TabularDQfD`
  update per env step; the finished episode joins the replay memory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from rudder.agents.tabular.dqfd import TabularDQfD
from rudder.data.episode import Episode

if TYPE_CHECKING:
    from rudder.redistribution.lessons import LessonsBuffer
    from rudder.redistribution.lstm import LSTMRedistributor

__all__ = [
    "DQfD",
    "LSTMRelabel",
    "LookaheadQ",
    "QLearning",
    "Relabel",
    "TabularLearner",
    "lookahead_sums",
]

#: ``relabel(observations, actions, rewards, terminated, truncated)``: the rewards
#: (shape (T,)) a :class:`LookaheadQ` learns from, given the episode's observations
#: s_0 .. s_T, actions and (env) rewards.
Relabel = Callable[[Sequence[Any], Sequence[int], Sequence[float], bool, bool], Sequence[float]]


def lookahead_sums(rewards: Sequence[float] | np.ndarray, lookahead: int) -> np.ndarray:
    """kappa_t = R_{t+1} + ... + R_{t+lookahead} (shorter at the end), shape (T,)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    suffix = np.concatenate([np.cumsum(rewards[::-1])[::-1], [0.0]])
    ends = np.minimum(np.arange(rewards.size) + lookahead, rewards.size)
    return suffix[: rewards.size] - suffix[ends]


class TabularLearner(Protocol):
    """What :func:`~rudder.agents.tabular.run.train_until_threshold` drives."""

    def start_episode(self, observation: Any) -> None:
        """A training episode starts at ``observation`` (s_0)."""

    def observe(
        self,
        state: int,
        context: int,
        action: int,
        reward: float,
        next_state: int,
        next_context: int,
        *,
        next_observation: Any,
        terminated: bool,
        truncated: bool,
    ) -> None:
        """One env step: (s, c) --a--> (s', c') with reward r (redistributed, if the run
        redistributes online)."""

    def end_episode(self, *, terminated: bool, truncated: bool) -> None:
        """The training episode ended after its last :meth:`observe`."""


class QLearning:
    """Online one-step Q-learning on the Q-table ``values`` (S, C, A), in place.

    Args:
        values: shape (num_states, num_contexts, num_actions).
        learning_rate: alpha.
        discount: gamma.
    """

    def __init__(self, values: np.ndarray, *, learning_rate: float, discount: float) -> None:
        self.values = values
        self.alpha = learning_rate
        self.gamma = discount

    def start_episode(self, observation: Any) -> None:
        pass

    def observe(
        self,
        state: int,
        context: int,
        action: int,
        reward: float,
        next_state: int,
        next_context: int,
        *,
        next_observation: Any,
        terminated: bool,
        truncated: bool,
    ) -> None:
        values = self.values
        done = terminated or truncated
        target = reward if done else reward + self.gamma * values[next_state, next_context].max()
        values[state, context, action] += self.alpha * (target - values[state, context, action])

    def end_episode(self, *, terminated: bool, truncated: bool) -> None:
        pass


class LookaheadQ:
    """Align-RUDDER's episodic update: after each episode, every visited (s, c, a) moves
    towards kappa_t, the sum of the next ``lookahead`` rewards, without bootstrapping.

    Args:
        values: shape (num_states, num_contexts, num_actions), updated in place.
        learning_rate: alpha.
        lookahead: the number of rewards summed in kappa_t.
        relabel: replaces the episode's rewards before the update (see :data:`Relabel`);
            None learns from the observed rewards.
    """

    def __init__(
        self, values: np.ndarray, *, learning_rate: float, lookahead: int, relabel: Relabel | None = None
    ) -> None:
        self.values = values
        self.alpha = learning_rate
        self.lookahead = lookahead
        self.relabel = relabel
        self._visits: list[tuple[int, int, int]] = []
        self._rewards: list[float] = []
        self._observations: list[Any] = []

    def start_episode(self, observation: Any) -> None:
        self._visits, self._rewards = [], []
        self._observations = [observation] if self.relabel is not None else []

    def observe(
        self,
        state: int,
        context: int,
        action: int,
        reward: float,
        next_state: int,
        next_context: int,
        *,
        next_observation: Any,
        terminated: bool,
        truncated: bool,
    ) -> None:
        self._visits.append((state, context, action))
        self._rewards.append(reward)
        if self.relabel is not None:
            self._observations.append(next_observation)

    def end_episode(self, *, terminated: bool, truncated: bool) -> None:
        rewards: Sequence[float] = self._rewards
        if self.relabel is not None:
            actions = [visit[2] for visit in self._visits]
            rewards = self.relabel(self._observations, actions, rewards, terminated, truncated)
        values, alpha = self.values, self.alpha
        for (state, context, action), kappa in zip(self._visits, lookahead_sums(rewards, self.lookahead)):
            values[state, context, action] += alpha * (kappa - values[state, context, action])


class DQfD:
    """The DQfD-like learner: one replayed update per env step, and the finished episode
    joins the replay memory (see :class:`~rudder.agents.tabular.dqfd.TabularDQfD`).

    Args:
        learner: the replay memory and updates, over a (S, A) view of the Q-table.
    """

    def __init__(self, learner: TabularDQfD) -> None:
        self.learner = learner
        self._states: list[int] = []
        self._actions: list[int] = []
        self._rewards: list[float] = []

    def start_episode(self, observation: Any) -> None:
        self._states, self._actions, self._rewards = [], [], []

    def observe(
        self,
        state: int,
        context: int,
        action: int,
        reward: float,
        next_state: int,
        next_context: int,
        *,
        next_observation: Any,
        terminated: bool,
        truncated: bool,
    ) -> None:
        self._states.append(state)
        self._actions.append(action)
        self._rewards.append(reward)
        self.learner.replay()
        if terminated or truncated:
            self._states.append(next_state)

    def end_episode(self, *, terminated: bool, truncated: bool) -> None:
        self.learner.add_episode(self._states, self._actions, self._rewards, terminated)


class LSTMRelabel:
    """RUDDER's redistribution of a finished episode (a :data:`Relabel`): adds the
    episode to the lessons buffer, retrains the LSTM every ``retrain_every`` episodes
    (once the buffer has return variance), and returns its redistributed rewards.

    Args:
        redistributor: the :class:`~rudder.redistribution.lstm.LSTMRedistributor`.
        lessons: the lessons buffer (holding the demonstrations to start with).
        retrain_every: episodes between retrainings.
        sample_size: episodes drawn from the buffer per retraining.
        epochs: passes over the sample per retraining.
    """

    def __init__(
        self,
        redistributor: LSTMRedistributor,
        lessons: LessonsBuffer,
        *,
        retrain_every: int,
        sample_size: int,
        epochs: int,
    ) -> None:
        self.redistributor = redistributor
        self.lessons = lessons
        self.retrain_every = retrain_every
        self.sample_size = sample_size
        self.epochs = epochs
        self.episodes = 0

    def __call__(
        self,
        observations: Sequence[Any],
        actions: Sequence[int],
        rewards: Sequence[float],
        terminated: bool,
        truncated: bool,
    ) -> list[float]:
        self.episodes += 1
        lstm, lessons = self.redistributor, self.lessons
        record = Episode(
            observations=np.stack([np.asarray(o) for o in observations]),
            actions=np.array(actions),
            rewards=np.asarray(rewards),
            terminated=bool(terminated),
            truncated=bool(truncated),
        )
        lessons.add(record, lstm.lesson_priority(record))
        if self.episodes % self.retrain_every == 0:
            lstm.learn_from(lessons, sample_size=self.sample_size, epochs=self.epochs)
        return list(lstm.redistribute(record))
