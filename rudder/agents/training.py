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
    ``"dqfd"``: the paper's tabular DQfD-like baseline (:mod:`rudder.agents.dqfd`):
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
from typing import Literal

import gymnasium as gym
import numpy as np

from rudder.agents.dqfd import TabularDQfD
from rudder.agents.tabular import QTable, initial_q_table
from rudder.data.episode import Episode, check_episodes
from rudder.events.state_clusters import StateClusterEncoder
from rudder.redistribution.alignment import AlignmentRedistributor

Method = Literal["align-rudder", "bc-q", "dqfd", "rudder-lstm"]
METHODS: tuple[str, ...] = ("align-rudder", "bc-q", "dqfd", "rudder-lstm")


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """Settings of one training run (defaults: the paper's values where it has them).

    Attributes:
        method: "align-rudder" or "bc-q".
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
            the demonstrated ones (see :func:`~rudder.agents.tabular.initial_q_table`).
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
        if self.method not in METHODS:
            raise ValueError(f"`method` must be one of {METHODS}, got {self.method!r}")
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
class RunResult:
    """The outcome of one training run.

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


def lookahead_sums(rewards: Sequence[float] | np.ndarray, lookahead: int) -> np.ndarray:
    """kappa_t = R_{t+1} + ... + R_{t+lookahead} (shorter at the end), shape (T,)."""
    rewards = np.asarray(rewards, dtype=np.float64)
    suffix = np.concatenate([np.cumsum(rewards[::-1])[::-1], [0.0]])
    ends = np.minimum(np.arange(rewards.size) + lookahead, rewards.size)
    return suffix[: rewards.size] - suffix[ends]


class _Context:
    """Online redistribution of the current episode and its Markov context.

    The context is the profile position (``use_position``) or always 0.
    """

    __slots__ = ("redistributor", "online", "use_position")

    def __init__(self, redistributor: AlignmentRedistributor | None, *, use_position: bool) -> None:
        self.redistributor = redistributor
        self.online = None
        self.use_position = use_position and redistributor is not None

    def reset(self, observation) -> int:
        if self.redistributor is None:
            return 0
        if self.online is None:
            self.online = self.redistributor.start(observation)
        else:
            self.online.reset(observation)
        return self.online.position if self.use_position else 0

    def step(self, observation, action, next_observation, reward, terminated, truncated) -> tuple[float, int]:
        if self.online is None:
            return reward, 0
        redistributed = self.online.step(observation, action, next_observation, reward, terminated, truncated, {})
        return redistributed, (self.online.position if self.use_position else 0)


def _episode_return(env, table: QTable, context: _Context, epsilon: float, rng, seed: int) -> float:
    core = env.unwrapped
    observation, _ = env.reset(seed=seed)
    position = context.reset(observation)
    total = 0.0
    while True:
        action = table.act(core.state_index, position, epsilon, rng)
        next_observation, reward, terminated, truncated, _ = env.step(action)
        total += reward
        if terminated or truncated:
            return total
        _, position = context.step(observation, action, next_observation, reward, terminated, truncated)
        observation = next_observation


def _rudder_rewards(lstm, lessons, settings, episode, observations, visits, rewards, terminated, truncated):
    """RUDDER-LSTM: adds the episode to the lessons, retrains the LSTM now and then, and
    returns the episode's redistributed rewards."""
    record = Episode(
        observations=np.stack([np.asarray(o) for o in observations]),
        actions=np.array([visit[2] for visit in visits]),
        rewards=np.asarray(rewards),
        terminated=bool(terminated),
        truncated=bool(truncated),
    )
    lessons.add(record, float(lstm.episode_losses([record])[0]) if lstm.is_trained else None)
    if episode % settings.lstm_retrain_every == 0 and lessons.has_return_variance():
        index, sample = lessons.sample(settings.lstm_sample)
        if lstm.is_trained or np.ptp([e.episode_return for e in sample]) > 0:
            lstm.fit(sample, epochs=settings.lstm_epochs)
            lessons.update_priorities(index, lstm.episode_losses(sample))
    return list(lstm.redistribute(record))


def train_until_threshold(
    make_env: Callable[[], gym.Env],
    demonstrations: Sequence[Episode],
    settings: TrainingSettings = TrainingSettings(),
    *,
    seed: int = 0,
    state_shape: tuple[int, ...] | None = None,
    redistributor: AlignmentRedistributor | None = None,
) -> RunResult:
    """Trains one agent until its evaluation return reaches the threshold.

    Args:
        make_env: builds the environment (called twice: training and evaluation).
        demonstrations: the demonstrations (behaviour cloning, threshold, profile).
        settings: the method and its settings.
        seed: seed of everything random in the run.
        state_shape: shape of the discrete observation for the state-cluster events of
            "align-rudder" (e.g. (6, 6, rooms)); ignored when ``redistributor`` is given.
        redistributor: a ready, fitted redistributor for "align-rudder".

    Returns:
        the :class:`RunResult`.
    """
    demonstrations = check_episodes(demonstrations, name="demonstrations")
    rng = np.random.default_rng(seed)
    env, eval_env = make_env(), make_env()
    core = env.unwrapped
    num_states, num_actions = core.num_states, env.action_space.n
    threshold = settings.threshold_fraction * float(np.mean([d.episode_return for d in demonstrations]))

    def state_of(observation) -> int:
        return int(np.ravel_multi_index(tuple(int(x) for x in np.asarray(observation).reshape(-1)), core.observation_space.nvec))

    if settings.method == "align-rudder":
        if redistributor is None:
            encoder = StateClusterEncoder(state_shape=state_shape, seed=seed)
            redistributor = AlignmentRedistributor(encoder).fit(demonstrations)
        cloned_rewards = [redistributor.redistribute(d) for d in demonstrations]
        num_contexts = redistributor.profile.length + 1 if settings.context == "position" else 1
    else:
        redistributor, cloned_rewards, num_contexts = None, None, 1
    lstm = lessons = None
    if settings.method == "rudder-lstm":
        from rudder.redistribution import LessonsBuffer, LSTMRedistributor

        lstm = LSTMRedistributor(env.observation_space, env.action_space, hidden_size=16, seed=seed)
        lessons = LessonsBuffer(256, seed=seed)
        for demonstration in demonstrations:
            lessons.add(demonstration)
    if settings.method == "dqfd":
        # DQfD starts from random values around the demonstrations' mean return and
        # learns the demonstrations by pre-training instead of cloning.
        mean_return = float(np.mean([d.episode_return for d in demonstrations]))
        table = QTable.random(num_states, num_actions, mean=mean_return, std=settings.init_std, rng=rng)
        learner = TabularDQfD(
            table.values[:, 0, :], demonstrations, state_of, rng=rng, learning_rate=settings.step_size, discount=settings.discount
        )
        learner.pretrain()
    else:
        learner = None
        table = initial_q_table(
            demonstrations,
            state_of,
            num_states,
            num_actions,
            num_contexts=num_contexts,
            rng=rng,
            rewards=cloned_rewards,
            mean=settings.init_mean,
            std=settings.init_std,
            demonstrated_first=settings.method == "align-rudder" and settings.demonstrated_first,
        )
    values = table.values
    use_position = settings.context == "position"
    context = _Context(redistributor, use_position=use_position)
    eval_context = _Context(redistributor, use_position=use_position)
    alpha, gamma, epsilon = settings.step_size, settings.discount, settings.epsilon
    episodic = settings.method in ("align-rudder", "rudder-lstm")
    lookahead = settings.lookahead
    evaluations: list[tuple[int, float]] = []
    env_steps = 0
    seeds = rng.integers(2**31, size=2)
    train_seed, eval_seed = int(seeds[0]), int(seeds[1])

    def evaluate(episodes_done: int) -> bool:
        returns = [
            _episode_return(eval_env, table, eval_context, settings.eval_epsilon, rng, eval_seed + episodes_done * 1000 + k)
            for k in range(settings.eval_episodes)
        ]
        mean = float(np.mean(returns))
        evaluations.append((episodes_done, mean))
        return mean >= threshold

    if evaluate(0):
        return RunResult(0, True, threshold, np.asarray(evaluations), 0)
    for episode in range(1, settings.max_episodes + 1):
        observation, _ = env.reset(seed=train_seed + episode)
        state = core.state_index
        position = context.reset(observation)
        visits: list[tuple[int, int, int]] = []
        rewards: list[float] = []
        observations = [observation]
        while True:
            action = table.act(state, position, epsilon, rng)
            next_observation, reward, terminated, truncated, _ = env.step(action)
            env_steps += 1
            next_state = core.state_index
            reward, next_position = context.step(observation, action, next_observation, reward, terminated, truncated)
            done = terminated or truncated
            if episodic or learner is not None:
                visits.append((state, position, action))
                rewards.append(reward)
            if lstm is not None:
                observations.append(next_observation)
            if learner is not None:
                learner.replay()
            elif not episodic:
                target = reward if done else reward + gamma * values[next_state, next_position].max()
                values[state, position, action] += alpha * (target - values[state, position, action])
            if done:
                break
            observation, state, position = next_observation, next_state, next_position
        if learner is not None:
            learner.add_episode([v[0] for v in visits] + [next_state], [v[2] for v in visits], rewards, terminated)
        elif episodic:
            if lstm is not None:
                rewards = _rudder_rewards(lstm, lessons, settings, episode, observations, visits, rewards,
                                          terminated, truncated)
            # kappa_t = sum of R_{t+1} .. R_{t+lookahead}, from suffix sums.
            suffix = np.concatenate([np.cumsum(np.asarray(rewards)[::-1])[::-1], [0.0]])
            length = len(rewards)
            for t, (state, position, action) in enumerate(visits):
                kappa = suffix[t] - suffix[min(t + lookahead, length)]
                values[state, position, action] += alpha * (kappa - values[state, position, action])
        if episode % settings.eval_every == 0 and evaluate(episode):
            return RunResult(episode, True, threshold, np.asarray(evaluations), env_steps)
    return RunResult(settings.max_episodes, False, threshold, np.asarray(evaluations), env_steps)
