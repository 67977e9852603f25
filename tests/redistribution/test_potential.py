"""Tests of the "potential" form of Align-RUDDER's redistribution: r + gamma * Phi(s') - Phi(s).

Online and offline agree, the discounted return is kept, and on a small MDP the optimal
policy of a discounting learner is the env reward's (where the "difference" form's is not).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rudder.data import Episode
from rudder.envs import FrozenLakeDemonstrator, frozen_lake_demonstrations, make_frozen_lake
from rudder.events import CallableEventEncoder, StateClusterEncoder
from rudder.redistribution import AlignmentRedistributor, AlignmentSettings
from rudder.wrappers import RedistributedReward

GAMMA = 0.99


@pytest.fixture(scope="module")
def frozen_lake_redistributor():
    demonstrations = frozen_lake_demonstrations(5, seed=0)
    return AlignmentRedistributor(StateClusterEncoder(seed=0), form="potential", discount=GAMMA).fit(demonstrations)


@st.composite
def random_episodes(draw):
    length = draw(st.integers(1, 60))
    states = draw(st.lists(st.integers(0, 63), min_size=length + 1, max_size=length + 1))
    rewards = draw(st.lists(st.floats(-1e3, 1e3), min_size=length, max_size=length))
    ending = draw(st.sampled_from(["terminated", "truncated", "unfinished"]))
    return Episode(
        observations=np.asarray(states),
        actions=np.zeros(length, dtype=np.int64),
        rewards=np.asarray(rewards),
        terminated=ending == "terminated",
        truncated=ending == "truncated",
    )


def online_rewards(redistributor, episode):
    state = redistributor.start(episode.observations[0])
    rewards = []
    for t in range(episode.length):
        last = t == episode.length - 1
        rewards.append(state.step(
            episode.observations[t], episode.actions[t], episode.observations[t + 1], float(episode.rewards[t]),
            episode.terminated and last, episode.truncated and last, {},
        ))
    return np.asarray(rewards), state


def discounted(rewards, gamma):
    return float(np.sum(rewards * gamma ** np.arange(len(rewards))))


@settings(max_examples=150, deadline=None)
@given(episode=random_episodes(), weight=st.sampled_from([0.0, 0.3]))
def test_online_equals_offline_and_the_discounted_return_is_kept(frozen_lake_redistributor, episode, weight):
    redistributor = frozen_lake_redistributor
    redistributor.settings = AlignmentSettings(form="potential", discount=GAMMA, env_reward_weight=weight)
    try:
        offline = redistributor.redistribute(episode)
        online, state = online_rewards(redistributor, episode)
    finally:
        redistributor.settings = AlignmentSettings(form="potential", discount=GAMMA)
    np.testing.assert_allclose(online, offline, rtol=0, atol=1e-12)
    assert state.last_correction == 0.0 and state.episode_return == pytest.approx(episode.episode_return)
    # Phi(s_0) = 0; Phi(s_T) = 0 at termination, kept at truncation (the learner bootstraps).
    scores = redistributor.prefix_scores(episode)
    last_potential = 0.0 if episode.terminated else redistributor.scale * (scores[-1] - scores[0])
    expected = discounted(episode.rewards, GAMMA) + (1.0 - weight) * GAMMA**episode.length * last_potential
    scale = max(1.0, np.abs(episode.rewards).sum(), abs(last_potential))
    assert discounted(offline, GAMMA) == pytest.approx(expected, abs=1e-9 * scale)


def test_undiscounted_potential_form_keeps_the_return_of_terminated_episodes(frozen_lake_redistributor):
    redistributor = frozen_lake_redistributor
    redistributor.settings = AlignmentSettings(form="potential", discount=1.0)
    try:
        for demo in frozen_lake_demonstrations(3, seed=5):
            rewards = redistributor.redistribute(demo)
            assert demo.terminated and rewards.sum() == pytest.approx(demo.episode_return, abs=1e-12)
            assert rewards[:-1].sum() > 0.5 * demo.episode_return  # progress is paid before the end
    finally:
        redistributor.settings = AlignmentSettings(form="potential", discount=GAMMA)


@pytest.mark.parametrize("noise", [0.3, 1.0 - 1e-9])
def test_wrapper_pays_the_offline_potential_rewards(frozen_lake_redistributor, noise):
    redistributor = frozen_lake_redistributor
    env = RedistributedReward(make_frozen_lake(), redistributor)
    policy = FrozenLakeDemonstrator(make_frozen_lake(), noise=noise)
    rng = np.random.default_rng(1)
    for seed in range(6):
        observation, _ = env.reset(seed=seed)
        observations, actions, original, paid = [observation], [], [], []
        terminated = truncated = False
        while not (terminated or truncated):
            action = policy(observation, rng)
            observation, reward, terminated, truncated, info = env.step(action)
            observations.append(observation)
            actions.append(action)
            original.append(info["original_reward"])
            paid.append(reward)
        episode = Episode(observations=np.asarray(observations), actions=np.asarray(actions),
                          rewards=np.asarray(original, dtype=float), terminated=terminated, truncated=truncated)
        np.testing.assert_allclose(paid, redistributor.redistribute(episode), rtol=0, atol=1e-12)


def test_bad_form_and_discount():
    with pytest.raises(ValueError, match="form"):
        AlignmentSettings(form="shaped")
    for discount in (0.0, 1.5):
        with pytest.raises(ValueError, match="discount"):
            AlignmentSettings(discount=discount)


# -- a small MDP: sub-goals that can be collected, then the episode failed ------------
#
# A corridor 0 -> 1 -> 2 -> 3 with a door at 3 and a time limit of HORIZON steps; the time
# is part of the state, so the end of time is a true termination. Actions: ADVANCE (at 3:
# try the door, which opens with probability P_OPEN: reward 1, state 4; or the trap
# springs: reward 0, state 5; both terminate) and WAIT. Entering 1, 2 and 3 emits the
# events (the sub-goals). The demonstrations walk to the door and open it (return 1).
HORIZON = 100
P_OPEN = 0.5
ADVANCE, WAIT = 0, 1
DOOR, OPEN, TRAP = 3, 4, 5


def entered_subgoal(observation, action, next_observation, info):
    return int(next_observation) if next_observation != observation and 1 <= next_observation <= DOOR else None


def outcomes(position, time, action):
    """(probability, next position, env reward, terminated) of each outcome."""
    out_of_time = time == HORIZON - 1
    if action == WAIT:
        return [(1.0, position, 0.0, out_of_time)]
    if position < DOOR:
        return [(1.0, position + 1, 0.0, out_of_time)]
    return [(P_OPEN, OPEN, 1.0, True), (1.0 - P_OPEN, TRAP, 0.0, True)]


def history(position, time):
    """Positions s_0 .. s_time of the episode that walks to ``position`` and waits there.
    Every history that reaches (position, time) emits the same events, so the redistributed
    reward of a transition depends only on (position, time, action, outcome)."""
    return list(range(position + 1)) + [position] * (time - position)


def transition_rewards(redistributor):
    """Shape (DOOR + 1, HORIZON, 2 actions, 2 outcomes): the reward the redistributor pays,
    read off its offline redistribution of each transition after its history."""
    rewards = np.zeros((DOOR + 1, HORIZON, 2, 2))
    for position in range(DOOR + 1):
        for time in range(position, HORIZON):
            states = history(position, time)
            for action in (ADVANCE, WAIT):
                for index, (_, after, reward, terminated) in enumerate(outcomes(position, time, action)):
                    episode = Episode(
                        observations=np.asarray([*states, after]),
                        actions=np.asarray([ADVANCE] * time + [action]),
                        rewards=np.asarray([0.0] * time + [reward]),
                        terminated=terminated,
                    )
                    rewards[position, time, action, index] = redistributor.redistribute(episode)[-1]
    return rewards


def env_rewards():
    rewards = np.zeros((DOOR + 1, HORIZON, 2, 2))
    for position in range(DOOR + 1):
        for time in range(HORIZON):
            for action in (ADVANCE, WAIT):
                for index, (_, _, reward, _) in enumerate(outcomes(position, time, action)):
                    rewards[position, time, action, index] = reward
    return rewards


def action_values(rewards, policy=None):
    """Q (shape (DOOR + 1, HORIZON, 2)) by backward induction at GAMMA: optimal with
    ``policy=None``, else of ``policy(position, time) -> action``."""
    values = np.zeros((DOOR + 1, HORIZON + 1))
    q = np.zeros((DOOR + 1, HORIZON, 2))
    for time in reversed(range(HORIZON)):
        for position in range(min(time, DOOR) + 1):
            for action in (ADVANCE, WAIT):
                q[position, time, action] = sum(
                    probability * (rewards[position, time, action, index]
                                   + (0.0 if terminated else GAMMA * values[after, time + 1]))
                    for index, (probability, after, _, terminated) in enumerate(outcomes(position, time, action))
                )
            chosen = q[position, time].argmax() if policy is None else policy(position, time)
            values[position, time] = q[position, time, chosen]
    return q


def finish(position, time):
    return ADVANCE


def collect_then_fail(position, time):
    """Collects every sub-goal, then waits at the door until the time is up."""
    return ADVANCE if position < DOOR else WAIT


def start_value(rewards, policy):
    """The value at (position 0, time 0) of ``policy``, which starts with ADVANCE."""
    return action_values(rewards, policy)[0, 0, ADVANCE]


def walk_potential(redistributor, position):
    """Phi = C * (S - S_0) after walking from 0 to ``position``."""
    walk = Episode(observations=np.arange(position + 1), actions=np.zeros(position, dtype=np.int64),
                   rewards=np.zeros(position))
    scores = redistributor.prefix_scores(walk)
    return redistributor.scale * (scores[-1] - scores[0])


def test_potential_form_keeps_the_optimal_policy_of_a_discounting_learner():
    demos = [Episode(observations=np.arange(OPEN + 1), actions=np.zeros(OPEN, dtype=np.int64),
                     rewards=np.array([0.0, 0.0, 0.0, 1.0]), terminated=True)] * 2
    potential = AlignmentRedistributor(CallableEventEncoder(entered_subgoal), form="potential", discount=GAMMA)
    potential.fit(demos)
    difference = AlignmentRedistributor(CallableEventEncoder(entered_subgoal)).fit(demos)
    assert potential.scale == difference.scale > 0.0 and potential.scale_source == "demonstrations"
    by_env, by_potential, by_difference = env_rewards(), transition_rewards(potential), transition_rewards(difference)
    q_env, q_potential, q_difference = (action_values(r) for r in (by_env, by_potential, by_difference))

    # Ng et al.: Q'(s, a) = Q(s, a) - Phi(s) for every state and action.
    phi = np.array([walk_potential(potential, position) for position in range(DOOR + 1)])
    assert phi[0] == 0.0 and np.all(np.diff(phi) > 0.0)  # every sub-goal raises the potential
    for position in range(DOOR + 1):
        np.testing.assert_allclose(q_potential[position, position:], q_env[position, position:] - phi[position],
                                   rtol=0, atol=1e-12)
    # Hence the same optimal policy wherever the env reward prefers one action.
    for position in range(DOOR + 1):
        for time in range(position, HORIZON):
            if abs(q_env[position, time, ADVANCE] - q_env[position, time, WAIT]) > 1e-9:
                assert q_potential[position, time].argmax() == q_env[position, time].argmax()
    assert q_env[DOOR, DOOR].argmax() == ADVANCE and q_potential[DOOR, DOOR].argmax() == ADVANCE  # try the door

    # "Collect the sub-goals, then fail" is worth less than finishing, under the env reward
    # and under the potential form (the same values: Phi(s_0) = 0).
    for rewards in (by_env, by_potential):
        assert start_value(rewards, finish) == pytest.approx(GAMMA**3 * P_OPEN)
        assert start_value(rewards, collect_then_fail) == pytest.approx(0.0, abs=1e-12)
    # Under the difference form at gamma = 0.99 it is worth more: the sub-goals pay 1/3 each
    # at once, the correction of the failure (-1) comes at the time limit, discounted by
    # gamma^99 ~ 0.37, while trying the door risks that correction at step 3.
    paid_on_the_way = (1 + GAMMA + GAMMA**2) / 3
    fail_value, finish_value = start_value(by_difference, collect_then_fail), start_value(by_difference, finish)
    assert fail_value == pytest.approx(paid_on_the_way - GAMMA ** (HORIZON - 1))
    assert finish_value == pytest.approx(paid_on_the_way - GAMMA**3 * (1 - P_OPEN))
    assert fail_value > finish_value
    assert q_difference[DOOR, DOOR].argmax() == WAIT  # a learner of the difference form waits at the door
