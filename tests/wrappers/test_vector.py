"""Oracle tests of the vectorised redistribution wrappers against one RedistributedReward per env."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rudder.data import Episode
from rudder.events import CallableEventEncoder
from rudder.profile.model import BatchPrefixScorer
from rudder.redistribution import AlignmentRedistributor
from rudder.wrappers import RedistributedReward, RedistributedVecEnv, RedistributedVectorEnv

#: Rewards exact in float32, so that SB3's float32 buffer loses nothing.
REWARDS = np.array([0.0, 0.0, 0.0, 0.5, 1.0, -0.25])


class RandomEpisodes(gym.Env):
    """Observations 0..11 drawn from a seeded generator; episodes end at random, by
    termination or truncation."""

    def __init__(self, seed: int) -> None:
        self.observation_space = gym.spaces.Discrete(12)
        self.action_space = gym.spaces.Discrete(3)
        self.rng = np.random.default_rng(seed)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[int, dict]:
        super().reset(seed=seed)
        return int(self.rng.integers(12)), {"start": 1}

    def step(self, action: Any) -> tuple[int, float, bool, bool, dict]:
        observation = int((self.rng.integers(12) + int(action)) % 12)
        end = self.rng.random()
        return observation, float(self.rng.choice(REWARDS)), bool(end < 0.06), bool(0.06 <= end < 0.1), {"seen": observation}


def events(observation, action, next_observation, info):
    """No event, one, two (a list with a None), or a name unseen in fit ("other")."""
    value = int(next_observation)
    if value < 3:
        return None
    if value == 11:
        return ["late", None, f"e{int(observation) % 4}"]
    if value == 10 and info.get("seen", 0) == 10:
        return "unseen"
    return f"e{value % 6}"


def int_events(observation, action, next_observation, info):
    """Int events (the direct-call path looks their ids up by value), a bool (named
    "True", not the id of 1), and a list that the repeat rule may cut to one event."""
    value = int(next_observation)
    if value < 3:
        return None
    if value == 9:
        return True
    if value == 11:
        return [1, 1, int(observation) % 3]
    return value % 5


class StreamedEncoder(CallableEventEncoder):
    """The same events through the encoder's streams (not the direct-call path)."""


def fitted(encoder_type: type, *, collapse: bool, function: Any = events, **options: Any) -> AlignmentRedistributor:
    rng = np.random.default_rng(7)
    demos = []
    for length in (9, 12, 15):
        observations = rng.integers(3, 10, size=length + 1)
        observations[-1] = 11
        rewards = np.zeros(length)
        rewards[-1] = 1.0
        demos.append(Episode(observations=observations, actions=np.zeros(length, dtype=np.int64), rewards=rewards, terminated=True))
    encoder = encoder_type(function, collapse_repeats=collapse)
    return AlignmentRedistributor(encoder, **options).fit(demos)


OPTIONS = [
    {},
    {"form": "potential", "discount": 0.9},
    {"env_reward_weight": 0.25, "delete_score": -0.5},
    {"correction": False, "insert_score": -0.1, "delete_by_occupancy": False, "delete_score": -0.2},
]


def assert_same(first: Any, second: Any, where: str = "info") -> None:
    if isinstance(first, dict):
        assert isinstance(second, dict) and set(first) == set(second), (where, sorted(first), sorted(second))
        for key in first:
            assert_same(first[key], second[key], f"{where}[{key!r}]")
    elif isinstance(first, np.ndarray) and first.dtype != object:
        assert first.dtype == second.dtype, where
        np.testing.assert_allclose(first, second, rtol=0, atol=1e-12, err_msg=where)
    elif isinstance(first, np.ndarray):
        assert first.shape == second.shape, where
        for a, b in zip(first, second):
            assert_same(a, b, where)
    elif isinstance(first, float):
        assert second == pytest.approx(first, rel=0, abs=1e-12), where
    else:
        assert first == second, where


def run_gymnasium(redistributor, seeds, mode, steps, wrapped_per_env):
    if wrapped_per_env:
        env = SyncVectorEnv([lambda s=s: RedistributedReward(RandomEpisodes(s), redistributor) for s in seeds], autoreset_mode=mode)
    else:
        env = RedistributedVectorEnv(SyncVectorEnv([lambda s=s: RandomEpisodes(s) for s in seeds], autoreset_mode=mode), redistributor)
    actions = np.random.default_rng(3)
    outcome = [env.reset(seed=0)]
    for _ in range(steps):
        observation, reward, terminated, truncated, info = env.step(actions.integers(3, size=len(seeds)))
        outcome.append((observation, reward, terminated, truncated, info))
        ended = terminated | truncated
        if mode == AutoresetMode.DISABLED and ended.any():
            outcome.append(env.reset(options={"reset_mask": ended}))
    return outcome


@pytest.mark.parametrize("mode", [AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP, AutoresetMode.DISABLED])
@pytest.mark.parametrize("options", OPTIONS)
def test_gymnasium_vector_equals_per_env_wrappers(mode, options):
    redistributor = fitted(CallableEventEncoder, collapse=False, **options)
    seeds = [11, 12, 13, 14]
    expected = run_gymnasium(redistributor, seeds, mode, 150, True)
    got = run_gymnasium(redistributor, seeds, mode, 150, False)
    assert len(expected) == len(got)
    assert sum("redistribution" in str(step[-1]) for step in expected) > 3
    for index, (want, have) in enumerate(zip(expected, got)):
        for a, b in zip(want, have):
            assert_same(a if isinstance(a, (dict, np.ndarray)) else np.asarray(a), b if isinstance(b, (dict, np.ndarray)) else np.asarray(b), f"step {index}")


class Capture(gym.Wrapper):
    """Keeps the float64 reward of the wrapper inside (DummyVecEnv stores float32)."""

    def __init__(self, env: gym.Env, log: list) -> None:
        super().__init__(env)
        self.log = log

    def step(self, action):
        result = super().step(action)
        self.log.append(result[1])
        return result


def run_sb3(redistributor, seeds, steps, wrapped_per_env):
    from stable_baselines3.common.vec_env import DummyVecEnv

    logs: list[list[float]] = [[] for _ in seeds]
    if wrapped_per_env:
        env = DummyVecEnv([lambda s=s, k=k: Capture(RedistributedReward(RandomEpisodes(s), redistributor), logs[k]) for k, s in enumerate(seeds)])
    else:
        env = RedistributedVecEnv(DummyVecEnv([lambda s=s: RandomEpisodes(s) for s in seeds]), redistributor)
    actions = np.random.default_rng(3)
    env.reset()
    rewards, infos = [], []
    for step in range(steps):
        _, reward, _, info = env.step(actions.integers(3, size=len(seeds)))
        rewards.append([log[step] for log in logs] if wrapped_per_env else reward)
        infos.append([{key: value for key, value in entry.items() if key in ("original_reward", "redistribution")} for entry in info])
    return np.asarray(rewards, dtype=np.float64), infos


def check_sb3(redistributor, seeds, steps):
    expected_rewards, expected_infos = run_sb3(redistributor, seeds, steps, True)
    rewards, infos = run_sb3(redistributor, seeds, steps, False)
    np.testing.assert_allclose(rewards, expected_rewards, rtol=0, atol=1e-12)
    for want, have in zip(expected_infos, infos):
        for a, b in zip(want, have):
            assert_same(a, b)


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("encoder_type", [CallableEventEncoder, StreamedEncoder])
def test_sb3_vec_env_equals_per_env_wrappers(options, encoder_type):
    pytest.importorskip("stable_baselines3")
    check_sb3(fitted(encoder_type, collapse=True, **options), [1, 2, 3], 150)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seeds=st.lists(st.integers(0, 10_000), min_size=1, max_size=6),
    option=st.sampled_from(range(len(OPTIONS))),
    collapse=st.booleans(),
    streamed=st.booleans(),
)
def test_property_sb3_rewards_and_infos_match(seeds, option, collapse, streamed):
    pytest.importorskip("stable_baselines3")
    encoder_type = StreamedEncoder if streamed else CallableEventEncoder
    check_sb3(fitted(encoder_type, collapse=collapse, **OPTIONS[option]), seeds, 60)


@settings(max_examples=25, deadline=None)
@given(events=st.lists(st.tuples(st.integers(0, 3), st.integers(-1, 7)), max_size=40), deletes=st.booleans())
def test_batch_prefix_scorer_equals_prefix_scorers(events, deletes):
    redistributor = fitted(CallableEventEncoder, collapse=False, delete_score=-0.5 if deletes else 0.0, insert_score=-0.1)
    profile = redistributor.profile
    batch = BatchPrefixScorer(profile, 4)
    singles = [profile.prefix_scorer() for _ in range(4)]
    for row, event in events:
        batch.add(np.array([row]), np.array([event]))
        singles[row].add(event)
    assert batch.scores.tolist() == [scorer.score for scorer in singles]
    assert batch.positions.tolist() == [scorer.position for scorer in singles]
    np.testing.assert_array_equal(batch.dp_columns(), np.stack([scorer.dp_column for scorer in singles]))
    batch.reset(np.array([0, 2]))
    assert batch.num_events_seen[0] == batch.num_events_seen[2] == 0


def test_batch_prefix_scorer_refuses_a_bad_count():
    profile = fitted(CallableEventEncoder, collapse=False).profile
    with pytest.raises(ValueError, match="count"):
        BatchPrefixScorer(profile, 0)


@pytest.mark.parametrize("options", OPTIONS[:2])
def test_numpy_fallback_equals_per_env_wrappers(options, monkeypatch):
    """Without numba: the numpy scorer update (one add per rank) and bookkeeping."""
    pytest.importorskip("stable_baselines3")
    from rudder.profile import model
    from rudder.wrappers import vector

    monkeypatch.setattr(vector, "_book_compiled", None)
    monkeypatch.setattr(vector, "_step_compiled", None)
    monkeypatch.setattr(model, "_add_in_order_compiled", None)
    check_sb3(fitted(CallableEventEncoder, collapse=False, **options), [4, 5, 6], 150)


def test_batch_prefix_scorer_adds_repeated_rows_in_order(monkeypatch):
    from rudder.profile import model

    profile = fitted(CallableEventEncoder, collapse=False, delete_score=-0.5).profile
    rows, events = np.array([2, 0, 2, 2, 1, 0]), np.array([1, 3, 0, 9, 2, 2])
    singles = [profile.prefix_scorer() for _ in range(3)]
    for row, event in zip(rows, events):
        singles[row].add(int(event))
    for compiled in (model._add_in_order_compiled, None):
        monkeypatch.setattr(model, "_add_in_order_compiled", compiled)
        batch = BatchPrefixScorer(profile, 3)
        batch.add_in_order(rows, events)
        assert batch.scores.tolist() == [scorer.score for scorer in singles]
        assert batch.num_events_seen.tolist() == [2, 1, 3]


class DoublingState:
    """An online state that pays twice the env reward (not an alignment redistributor)."""

    def __init__(self) -> None:
        self.reset(None)

    def reset(self, observation: Any) -> None:
        self.episode_return = self.redistributed_return = self.last_correction = 0.0
        self.steps = 0

    def step(self, observation, action, next_observation, reward, terminated, truncated, info) -> float:
        self.steps += 1
        self.episode_return += reward
        self.redistributed_return += 2.0 * reward
        return 2.0 * reward

    @property
    def score(self) -> float:
        return float(self.steps)

    @property
    def position(self) -> int:
        return self.steps


class Doubling:
    is_ready = is_fitted = True

    def start(self, observation: Any) -> DoublingState:
        return DoublingState()


def test_other_redistributors_run_one_state_per_env():
    pytest.importorskip("stable_baselines3")
    check_sb3(Doubling(), [8, 9], 120)
    expected = run_gymnasium(Doubling(), [8, 9], AutoresetMode.NEXT_STEP, 120, True)
    got = run_gymnasium(Doubling(), [8, 9], AutoresetMode.NEXT_STEP, 120, False)
    for want, have in zip(expected, got):
        for a, b in zip(want, have):
            assert_same(a if isinstance(a, (dict, np.ndarray)) else np.asarray(a), b if isinstance(b, (dict, np.ndarray)) else np.asarray(b))


def test_refuses_an_unfitted_redistributor():
    redistributor = AlignmentRedistributor(CallableEventEncoder(events))
    with pytest.raises(ValueError, match="not fitted"):
        RedistributedVectorEnv(SyncVectorEnv([lambda: RandomEpisodes(0)]), redistributor)


@pytest.mark.parametrize("collapse", [False, True])
def test_int_events_through_the_compiled_step_equal_per_env_wrappers(collapse):
    """The fused compiled step (at most one event per env) and the ids of int events."""
    pytest.importorskip("stable_baselines3")
    redistributor = fitted(CallableEventEncoder, collapse=collapse, function=int_events, delete_score=-0.3)
    assert "True" in redistributor.encoder.alphabet.names
    check_sb3(redistributor, [21, 22, 23, 24, 25], 200)
    check_sb3(fitted(CallableEventEncoder, collapse=collapse, function=int_events, form="potential", discount=0.95), [26, 27], 120)
