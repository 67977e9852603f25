"""Training tabular agents until they reach a share of the demonstrations' return.

The metric of Align-RUDDER (arXiv 2009.14108): the number of training episodes until
the mean return of ``eval_episodes`` evaluation episodes (epsilon-greedy with
``eval_epsilon``), run every ``eval_every`` training episodes, reaches
``threshold_fraction`` times the mean demonstration return. Evaluation episodes are not
counted; a run that never gets there counts as ``max_episodes``.

Methods:
    ``"align-rudder"``: learns from the reward redistributed online by an
        :class:`~rudder.AlignmentRedistributor`, on (state, profile position), with
        behaviour-cloning initialisation (on the redistributed returns-to-go). After
        each episode every visited (s, c, a) moves towards
        kappa_t = R_{t+1} + ... + R_{t+lookahead}, the sum of the next ``lookahead``
        redistributed rewards without bootstrapping (the paper's target: with a good
        redistribution the expected future reward is close to zero, so a short sum
        suffices, and loops that earn nothing lose value). Where it differs from the
        official code: the reward is redistributed causally while acting, with the
        terminal correction applied; the context is the profile position (a few
        values) instead of one visited flag per cluster (2^K values); and the goal
        states are an event of their own (``StateClusterEncoder(terminal_cluster=True)``);
        and the cloned start policy follows the demonstrations (``demonstrated_first``:
        the cloned values of the redistributed returns-to-go are small late in an
        episode, and the official code lets random values of undemonstrated actions
        beat them, so its start policy is worse than plain cloning).
    ``"bc-q"``: the paper's baseline: online Q-learning on the env reward with
        behaviour-cloning initialisation (alpha 0.01, gamma 1, epsilon 0.2).
    ``"dqfd"``: the paper's tabular DQfD-like baseline (:mod:`rudder.agents.tabular.dqfd`):
        pre-training on the demonstrations, then one replayed update per env step.
    ``"rudder-lstm"``: RUDDER (arXiv 1806.07857) as a baseline: the lookahead targets
        of align-rudder on the env state alone, from bc-q's behaviour-cloning start (the
        LSTM knows nothing yet), with the reward redistributed by an
        :class:`~rudder.redistribution.lstm.LSTMRedistributor` instead of the profile.
        The LSTM learns from a lessons buffer that starts with the demonstrations and
        takes every training episode, and is retrained every ``lstm_retrain_every``
        episodes; until its quality gate opens the env reward is used. Needs torch.

The environment must expose ``env.unwrapped.state_index`` (an int in
``[0, env.unwrapped.num_states)``) and discrete actions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from rudder.agents.tabular.dqfd import TabularDQfD
from rudder.agents.tabular.learners import DQfD, LookaheadQ, LSTMRelabel, QLearning, TabularLearner
from rudder.agents.tabular.q_table import QTable, initial_q_table
from rudder.data.episode import Episode, check_episodes
from rudder.events.state_clusters import StateClusterEncoder
from rudder.redistribution.alignment import AlignmentRedistributor

__all__ = ["TABULAR_METHODS", "TabularResult", "TabularSettings", "train_until_threshold"]

Method = Literal["align-rudder", "bc-q", "dqfd", "rudder-lstm"]
#: The methods of :func:`train_until_threshold`.
TABULAR_METHODS: tuple[str, ...] = ("align-rudder", "bc-q", "dqfd", "rudder-lstm")


@dataclasses.dataclass(frozen=True)
class TabularSettings:
    """Settings of one :func:`train_until_threshold` run (defaults: the paper's values
    where it has them).

    Attributes:
        method: one of :data:`TABULAR_METHODS` (see the module docstring).
        learning_rate: Q-learning step size (None: 0.1 for align-rudder, 0.01 for bc-q).
        discount: discount factor gamma.
        epsilon: exploration rate while training.
        eval_epsilon: exploration rate of the evaluation episodes.
        eval_every: training episodes between evaluations.
        eval_episodes: evaluation episodes per evaluation (the same for every method).
        threshold_fraction: the target share of the mean demonstration return.
        max_episodes: cap on training episodes.
        init_mean: mean of the random initial Q-values.
        init_std: standard deviation of the random initial Q-values.
        lookahead: number of redistributed rewards summed in the align-rudder target.
        context: "position" (profile position, Markov for the redistributed reward) or
            "none" (the env state alone).
        lstm_retrain_every: training episodes between retrainings of RUDDER's LSTM.
        lstm_epochs: passes over the lessons sample per retraining.
        lstm_sample: episodes drawn from the lessons buffer per retraining.
        demonstrated_first: align-rudder's cloned start policy follows the
            demonstrations: undemonstrated actions of a demonstrated state start below
            the demonstrated ones (see :func:`~rudder.agents.tabular.q_table.initial_q_table`).
    """

    method: Method = "align-rudder"
    learning_rate: float | None = None
    discount: float = 1.0
    epsilon: float = 0.2
    eval_epsilon: float = 0.1
    eval_every: int = 10
    eval_episodes: int = 20
    threshold_fraction: float = 0.8
    max_episodes: int = 100_000
    init_mean: float = 1.0
    init_std: float = 0.5
    lookahead: int = 20
    context: Literal["position", "none"] = "position"
    lstm_retrain_every: int = 20
    lstm_epochs: int = 5
    lstm_sample: int = 32
    demonstrated_first: bool = True

    def __post_init__(self) -> None:
        if self.method not in TABULAR_METHODS:
            raise ValueError(f"`method` must be one of {TABULAR_METHODS}, got {self.method!r}")
        if self.context not in ("position", "none"):
            raise ValueError(f"`context` must be 'position' or 'none', got {self.context!r}")
        for name in ("eval_every", "eval_episodes", "max_episodes", "lookahead"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be >= 1, got {getattr(self, name)}")
        for name in ("epsilon", "eval_epsilon"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"`{name}` must be in [0, 1], got {getattr(self, name)}")

    @property
    def step_size(self) -> float:
        if self.learning_rate is not None:
            return self.learning_rate
        return 0.1 if self.method in ("align-rudder", "rudder-lstm") else 0.01


@dataclasses.dataclass(frozen=True)
class TabularResult:
    """The outcome of one :func:`train_until_threshold` run.

    Attributes:
        episodes: training episodes until the threshold (``max_episodes`` if never).
        reached: whether the threshold was reached.
        threshold: the target mean evaluation return.
        evaluations: shape (E, 2): (training episodes so far, mean evaluation return).
        env_steps: training env steps taken.
    """

    episodes: int
    reached: bool
    threshold: float
    evaluations: np.ndarray
    env_steps: int


StateOf = Callable[[Any], int]


class _Context:
    """Online redistribution of the current episode and its Markov context.

    The context is the profile position (``use_position``) or always 0.
    """

    __slots__ = ("redistributor", "online", "use_position")

    def __init__(self, redistributor: AlignmentRedistributor | None, *, use_position: bool) -> None:
        self.redistributor = redistributor
        self.online: Any = None
        self.use_position = use_position and redistributor is not None

    def reset(self, observation: Any) -> int:
        if self.redistributor is None:
            return 0
        if self.online is None:
            self.online = self.redistributor.start(observation)
        else:
            self.online.reset(observation)
        return self.online.position if self.use_position else 0

    def step(
        self, observation: Any, action: int, next_observation: Any, reward: float, terminated: bool, truncated: bool
    ) -> tuple[float, int]:
        if self.online is None:
            return reward, 0
        redistributed = self.online.step(observation, action, next_observation, reward, terminated, truncated, {})
        return redistributed, (self.online.position if self.use_position else 0)


def _episode_return(
    env: gym.Env, table: QTable, context: _Context, epsilon: float, rng: np.random.Generator, seed: int
) -> float:
    core: Any = env.unwrapped
    observation, _ = env.reset(seed=seed)
    position = context.reset(observation)
    total = 0.0
    while True:
        action = table.act(core.state_index, position, epsilon, rng)
        next_observation, reward, terminated, truncated, _ = env.step(action)
        total += float(reward)
        if terminated or truncated:
            return total
        _, position = context.step(observation, action, next_observation, reward, terminated, truncated)  # type: ignore[arg-type]
        observation = next_observation


@dataclasses.dataclass
class _Setup:
    """A method's Q-table, learner and online redistributor (None: the env reward)."""

    table: QTable
    learner: TabularLearner
    redistributor: AlignmentRedistributor | None = None


def _cloned_table(
    demonstrations: Sequence[Episode],
    state_of: StateOf,
    env: gym.Env,
    settings: TabularSettings,
    rng: np.random.Generator,
    *,
    num_contexts: int = 1,
    rewards: Sequence[np.ndarray] | None = None,
    demonstrated_first: bool = False,
) -> QTable:
    core: Any = env.unwrapped
    return initial_q_table(
        demonstrations,
        state_of,
        core.num_states,
        int(env.action_space.n),  # type: ignore[attr-defined]
        num_contexts=num_contexts,
        rng=rng,
        rewards=rewards,
        mean=settings.init_mean,
        std=settings.init_std,
        demonstrated_first=demonstrated_first,
    )


def _align_rudder(
    demonstrations: Sequence[Episode],
    state_of: StateOf,
    env: gym.Env,
    settings: TabularSettings,
    rng: np.random.Generator,
    *,
    seed: int,
    state_shape: tuple[int, ...] | None,
    redistributor: AlignmentRedistributor | None,
) -> _Setup:
    if redistributor is None:
        encoder = StateClusterEncoder(state_shape=state_shape, seed=seed)
        redistributor = AlignmentRedistributor(encoder).fit(demonstrations)
    cloned_rewards = [redistributor.redistribute(d) for d in demonstrations]
    profile = redistributor.profile
    assert profile is not None
    num_contexts = profile.length + 1 if settings.context == "position" else 1
    table = _cloned_table(
        demonstrations, state_of, env, settings, rng, num_contexts=num_contexts, rewards=cloned_rewards,
        demonstrated_first=settings.demonstrated_first,
    )
    learner = LookaheadQ(table.values, learning_rate=settings.step_size, lookahead=settings.lookahead)
    return _Setup(table, learner, redistributor)


def _bc_q(demonstrations: Sequence[Episode], state_of: StateOf, env: gym.Env, settings: TabularSettings,
          rng: np.random.Generator, **_: Any) -> _Setup:
    table = _cloned_table(demonstrations, state_of, env, settings, rng)
    return _Setup(table, QLearning(table.values, learning_rate=settings.step_size, discount=settings.discount))


def _rudder_lstm(demonstrations: Sequence[Episode], state_of: StateOf, env: gym.Env, settings: TabularSettings,
                 rng: np.random.Generator, *, seed: int, **_: Any) -> _Setup:
    from rudder.redistribution import (  # torch, for this method only
        LessonsBuffer,
        LSTMRedistributor,
    )

    lstm = LSTMRedistributor(env.observation_space, env.action_space, hidden_size=16, seed=seed)
    lessons = LessonsBuffer(256, seed=seed)
    for demonstration in demonstrations:
        lessons.add(demonstration)
    relabel = LSTMRelabel(
        lstm, lessons, retrain_every=settings.lstm_retrain_every, sample_size=settings.lstm_sample,
        epochs=settings.lstm_epochs,
    )
    table = _cloned_table(demonstrations, state_of, env, settings, rng)
    learner = LookaheadQ(table.values, learning_rate=settings.step_size, lookahead=settings.lookahead, relabel=relabel)
    return _Setup(table, learner)


def _dqfd(demonstrations: Sequence[Episode], state_of: StateOf, env: gym.Env, settings: TabularSettings,
          rng: np.random.Generator, **_: Any) -> _Setup:
    # DQfD starts from random values around the demonstrations' mean return and
    # learns the demonstrations by pre-training instead of cloning.
    core: Any = env.unwrapped
    mean_return = float(np.mean([d.episode_return for d in demonstrations]))
    table = QTable.random(core.num_states, int(env.action_space.n), mean=mean_return, std=settings.init_std, rng=rng)  # type: ignore[attr-defined]
    learner = TabularDQfD(
        table.values[:, 0, :], demonstrations, state_of, rng=rng, learning_rate=settings.step_size,
        discount=settings.discount,
    )
    learner.pretrain()
    return _Setup(table, DQfD(learner))


_SETUPS: dict[str, Callable[..., _Setup]] = {
    "align-rudder": _align_rudder,
    "bc-q": _bc_q,
    "dqfd": _dqfd,
    "rudder-lstm": _rudder_lstm,
}


def _train_episode(
    env: gym.Env, setup: _Setup, context: _Context, epsilon: float, rng: np.random.Generator, seed: int
) -> int:
    """One training episode; returns its env steps."""
    core: Any = env.unwrapped
    table, learner = setup.table, setup.learner
    observation, _ = env.reset(seed=seed)
    state = core.state_index
    position = context.reset(observation)
    learner.start_episode(observation)
    steps = 0
    while True:
        action = table.act(state, position, epsilon, rng)
        next_observation, env_reward, terminated, truncated, _ = env.step(action)
        steps += 1
        next_state = core.state_index
        reward, next_position = context.step(
            observation, action, next_observation, env_reward, terminated, truncated  # type: ignore[arg-type]
        )
        learner.observe(
            state, position, action, reward, next_state, next_position,
            next_observation=next_observation, terminated=terminated, truncated=truncated,
        )
        if terminated or truncated:
            learner.end_episode(terminated=terminated, truncated=truncated)
            return steps
        observation, state, position = next_observation, next_state, next_position


def train_until_threshold(
    make_env: Callable[[], gym.Env],
    demonstrations: Sequence[Episode],
    settings: TabularSettings = TabularSettings(),
    *,
    seed: int = 0,
    state_shape: tuple[int, ...] | None = None,
    redistributor: AlignmentRedistributor | None = None,
    progress: Callable[[int], None] | None = None,
) -> TabularResult:
    """Trains one agent until its evaluation return reaches the threshold.

    Args:
        make_env: builds the environment (called twice: training and evaluation).
        demonstrations: the demonstrations (behaviour cloning, threshold, profile).
        settings: the method and its settings.
        seed: seed of everything random in the run.
        state_shape: shape of the discrete observation for the state-cluster events of
            "align-rudder" (e.g. (6, 6, rooms)); ignored when ``redistributor`` is given.
        redistributor: a ready, fitted redistributor for "align-rudder".
        progress: called with the training env steps so far after every training episode
            (for a progress bar).

    Returns:
        the :class:`TabularResult`.
    """
    demonstrations = check_episodes(demonstrations, name="demonstrations")
    rng = np.random.default_rng(seed)
    env, eval_env = make_env(), make_env()
    nvec = env.unwrapped.observation_space.nvec  # type: ignore[attr-defined]
    threshold = settings.threshold_fraction * float(np.mean([d.episode_return for d in demonstrations]))

    def state_of(observation: Any) -> int:
        return int(np.ravel_multi_index(tuple(int(x) for x in np.asarray(observation).reshape(-1)), nvec))

    setup = _SETUPS[settings.method](
        demonstrations, state_of, env, settings, rng, seed=seed, state_shape=state_shape, redistributor=redistributor
    )
    use_position = settings.context == "position"
    context = _Context(setup.redistributor, use_position=use_position)
    eval_context = _Context(setup.redistributor, use_position=use_position)
    evaluations: list[tuple[int, float]] = []
    env_steps = 0
    seeds = rng.integers(2**31, size=2)
    train_seed, eval_seed = int(seeds[0]), int(seeds[1])

    def evaluate(episodes_done: int) -> bool:
        returns = [
            _episode_return(eval_env, setup.table, eval_context, settings.eval_epsilon, rng, eval_seed + episodes_done * 1000 + k)
            for k in range(settings.eval_episodes)
        ]
        mean = float(np.mean(returns))
        evaluations.append((episodes_done, mean))
        return mean >= threshold

    if evaluate(0):
        return TabularResult(0, True, threshold, np.asarray(evaluations), 0)
    for episode in range(1, settings.max_episodes + 1):
        env_steps += _train_episode(env, setup, context, settings.epsilon, rng, train_seed + episode)
        if progress is not None:
            progress(env_steps)
        if episode % settings.eval_every == 0 and evaluate(episode):
            return TabularResult(episode, True, threshold, np.asarray(evaluations), env_steps)
    return TabularResult(settings.max_episodes, False, threshold, np.asarray(evaluations), env_steps)
