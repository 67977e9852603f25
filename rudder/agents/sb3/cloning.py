"""Behaviour cloning of a stable-baselines3 actor-critic policy from demonstrations.

Align-RUDDER starts its agents from a cloned policy (arXiv 2009.14108, section 3). The
value head is fitted too, to the discounted return-to-go of the reward the agent will
be trained on (for example the redistributed reward), so that PPO fine-tuning starts
with sensible advantages instead of unlearning the cloned policy.

Example:
    >>> model = PPO("MlpPolicy", venv, seed=0)                       # doctest: +SKIP
    >>> behavior_cloning(model.policy, demos, rewards=[redistributor.redistribute(d) for d in demos])  # doctest: +SKIP
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.policies import ActorCriticPolicy

from rudder.agents.sb3.settings import BehaviorCloningSettings
from rudder.data.episode import Episode, check_episodes

__all__ = ["CloningRegularizer", "augment_demonstrations", "behavior_cloning", "discounted_returns_to_go"]

#: Observations of many steps: one array, or one array per key of a ``Dict`` space.
Observations = np.ndarray | dict[str, np.ndarray]


def discounted_returns_to_go(rewards: np.ndarray, gamma: float, *, ends: np.ndarray | None = None) -> np.ndarray:
    """Shape (T,): G_t = r_{t+1} + gamma * G_{t+1}, the value target of each state s_t.

    ``ends`` (T,), optional: where ``ends[t]`` is true the return stops after step t
    (G_t = r_{t+1}), as when a sub-task agent's return ends with its sub-task.
    """
    rewards = np.asarray(rewards, dtype=np.float64)
    stops = np.zeros(rewards.shape[0], dtype=bool) if ends is None else np.asarray(ends, dtype=bool)
    if stops.shape != rewards.shape:
        raise ValueError(f"`ends` must have shape {rewards.shape}, got {stops.shape}")
    returns = np.empty_like(rewards)
    running = 0.0
    for step in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[step] + (0.0 if stops[step] else gamma * running)
        returns[step] = running
    return returns


def augment_demonstrations(
    demonstrations: Sequence[Episode], augmentation: Callable[[Episode], Episode | Sequence[Episode]]
) -> tuple[list[Episode], list[int]]:
    """The extra episodes that ``augmentation`` makes of each demonstration (one, or a
    list of them: say, its mirror images), and for each the index of the demonstration
    it was made from (so that it can share that one's value targets and held-out group).

    Raises:
        TypeError: if ``augmentation`` returns something other than an Episode or a list of them.
    """
    images: list[Episode] = []
    origins: list[int] = []
    for index, episode in enumerate(demonstrations):
        made = augmentation(episode)
        extra = [made] if isinstance(made, Episode) else list(made)
        wrong = [type(image).__name__ for image in extra if not isinstance(image, Episode)]
        if wrong:
            raise TypeError(f"the cloning augmentation must return an Episode or a list of them, got {wrong[0]} in the list")
        images += extra
        origins += [index] * len(extra)
    return images, origins


def _stack_steps(episodes: Sequence[Episode]) -> tuple[Observations, np.ndarray]:
    """Observations s_0..s_{T-1} and actions of all episodes, concatenated."""
    first = episodes[0].observations
    observations: Observations
    if isinstance(first, Mapping):
        observations = {
            key: np.concatenate([np.asarray(e.observations[key])[:-1] for e in episodes]) for key in first
        }
    else:
        observations = np.concatenate([np.asarray(e.observations)[:-1] for e in episodes])
    actions = np.concatenate([np.asarray(e.actions) for e in episodes])
    return observations, actions


def _take(observations: Observations, index: np.ndarray) -> Observations:
    if isinstance(observations, Mapping):
        return {key: value[index] for key, value in observations.items()}
    return observations[index]


def _check_observation_shapes(space: gym.Space, observations: Observations) -> None:
    shapes: Any
    expected: Any
    if isinstance(observations, Mapping):
        shapes = {key: value.shape[1:] for key, value in observations.items()}
        expected = {key: getattr(sub, "shape", None) for key, sub in getattr(space, "spaces", {}).items()}
    else:
        shapes, expected = observations.shape[1:], getattr(space, "shape", None)
    if shapes != expected:
        raise ValueError(
            f"the demonstrations' observations have shape {shapes} but the policy expects {expected} "
            f"({space}); record them through the same wrappers as the agent's env "
            "(and add_progress() if it shows profile progress)"
        )


def _add_clipped_gradients(parameters: Sequence[torch.nn.Parameter], losses: Sequence[torch.Tensor], max_norm: float) -> None:
    """Adds each loss's gradient to ``parameters``' ``.grad``, each clipped to ``max_norm``
    on its own (as ``clip_grad_norm_`` clips, by the norm over all parameters).

    Clipping the sum instead couples the actor to the critic: with large value targets
    (LunarLander's returns of about 250) the value gradient sets the clipping scale, and the
    cloned actor then depends on what the critic is taught (measured: with the same seed,
    cloning with the env returns or with zero value targets gave action probabilities up to
    0.14 apart). Clipped apart, parameters that only the actor uses take the same steps
    whatever the value targets.
    """
    for index, loss in enumerate(losses):
        gradients = torch.autograd.grad(loss, parameters, retain_graph=index < len(losses) - 1, allow_unused=True)
        present = [gradient for gradient in gradients if gradient is not None]
        if not present:
            continue
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(gradient.detach()) for gradient in present]))
        scale = torch.clamp(max_norm / (norm + 1e-6), max=1.0)
        for parameter, gradient in zip(parameters, gradients):
            if gradient is None:
                continue
            parameter.grad = gradient * scale if parameter.grad is None else parameter.grad + gradient * scale


def behavior_cloning(
    policy: ActorCriticPolicy,
    demonstrations: Sequence[Episode],
    *,
    rewards: Sequence[np.ndarray] | None = None,
    return_ends: Sequence[np.ndarray] | None = None,
    groups: Sequence[int] | None = None,
    settings: BehaviorCloningSettings | None = None,
    seed: int = 0,
    progress_bar: bool = False,
    on_epoch: Callable[[int], None] | None = None,
) -> dict[str, list[float]]:
    """Fits ``policy`` (an SB3 ``ActorCriticPolicy``) to the demonstrations, in place.

    Minimises the negative log-likelihood of the demonstrated actions, plus
    ``value_weight`` times the squared error of the value head against the discounted
    return-to-go, minus ``entropy_weight`` times the policy entropy. With
    ``settings.folds`` > 1 the number of epochs is chosen first, by cross-validation over
    the episodes (see :class:`~rudder.agents.sb3.BehaviorCloningSettings`).

    Args:
        policy: e.g. ``PPO(...).policy``; its observation space must match the
            demonstrations' observations (record them through the same wrappers, and
            add progress features with :func:`rudder.wrappers.add_progress` if the env
            has them).
        demonstrations: the episodes to clone.
        rewards: per episode, shape (T,), the rewards for the value targets (default:
            each episode's own rewards).
        return_ends: per episode, shape (T,), optional: steps after which the value
            target's return stops (see :func:`discounted_returns_to_go`).
        groups: per episode, a group id: episodes of one group are held out together
            (say, a demonstration and its mirror image); default: one group each.
        settings: see :class:`BehaviorCloningSettings`.
        seed: seeds the held-out episodes and the minibatch order.
        progress_bar: show a tqdm bar over the epochs.
        on_epoch: called with the number of epochs done (1, 2, ...) after each epoch of
            the final fit, for example to keep copies of the policy along the way.

    Returns:
        per-epoch means of the final fit: ``{"policy_loss": [...], "value_loss": [...],
        "accuracy": [...]}``; where the epochs were chosen also ``"holdout_loss"``: after
        each epoch, the held-out episodes' negative log-likelihood per step, over the
        folds.
    """
    settings = settings or BehaviorCloningSettings()
    demonstrations = check_episodes(demonstrations, name="demonstrations")
    if rewards is None:
        rewards = [episode.rewards for episode in demonstrations]
    if len(rewards) != len(demonstrations):
        raise ValueError(f"`rewards` has {len(rewards)} entries for {len(demonstrations)} demonstrations")
    for index, (episode, episode_rewards) in enumerate(zip(demonstrations, rewards)):
        if np.shape(episode_rewards) != (episode.length,):
            raise ValueError(
                f"`rewards[{index}]` has shape {np.shape(episode_rewards)}, expected ({episode.length},)"
            )
    ends: Sequence[np.ndarray | None] = [None] * len(rewards) if return_ends is None else return_ends
    if len(ends) != len(rewards):
        raise ValueError(f"`return_ends` has {len(ends)} entries for {len(rewards)} demonstrations")
    group_ids = np.arange(len(demonstrations)) if groups is None else np.asarray(groups)
    if group_ids.shape != (len(demonstrations),):
        raise ValueError(f"`groups` has {group_ids.shape[0] if group_ids.ndim else 0} entries for {len(demonstrations)} demonstrations")
    steps = _Steps.of(demonstrations, rewards, ends, settings.gamma)
    _check_observation_shapes(policy.observation_space, steps.observations)

    history: dict[str, list[float]] = {}
    epochs = settings.epochs_for(steps.actions.shape[0])
    folds = _folds(group_ids, settings.folds, seed)
    if folds and epochs:
        initial = copy.deepcopy(policy.state_dict())
        held_out_loss = np.zeros(epochs)
        for fold in folds:
            held_out = np.isin(group_ids, fold)
            selection = _fit(
                policy, steps.select(~held_out), epochs, settings, seed=seed, progress_bar=progress_bar,
                holdout=steps.select(held_out),
            )
            held_out_loss += np.asarray(selection["holdout_loss"]) * np.count_nonzero(held_out[steps.episode])
            policy.load_state_dict(initial)
        history["holdout_loss"] = (held_out_loss / steps.actions.shape[0]).tolist()
        epochs = int(np.argmin(held_out_loss)) + 1
    history.update(_fit(policy, steps, epochs, settings, seed=seed, progress_bar=progress_bar, on_epoch=on_epoch))
    return history


@dataclasses.dataclass(frozen=True)
class _Steps:
    """The demonstration steps of behaviour cloning: observations s_0..s_{T-1}, actions
    and value targets of every episode, concatenated, and each step's episode."""

    observations: Observations
    actions: np.ndarray
    targets: np.ndarray
    episode: np.ndarray

    @classmethod
    def of(cls, episodes: Sequence[Episode], rewards: Sequence[np.ndarray], ends: Sequence[np.ndarray | None], gamma: float) -> _Steps:
        observations, actions = _stack_steps(episodes)
        targets = np.concatenate([discounted_returns_to_go(r, gamma, ends=e) for r, e in zip(rewards, ends)])
        episode = np.concatenate([np.full(e.length, index) for index, e in enumerate(episodes)])
        return cls(observations, actions, targets.astype(np.float32), episode)

    def select(self, episodes: np.ndarray) -> _Steps:
        """The steps of the episodes where ``episodes`` (a mask over them) is true."""
        index = np.flatnonzero(episodes[self.episode])
        return _Steps(_take(self.observations, index), self.actions[index], self.targets[index], self.episode[index])


def _folds(groups: np.ndarray, count: int, seed: int) -> list[np.ndarray]:
    """The group ids of each cross-validation fold: ``count`` folds (at most one per
    group) of shuffled groups; none with fewer than 3 groups or fewer than 2 folds."""
    unique = np.unique(groups)
    count = min(count, unique.size)
    if count < 2 or unique.size < 3:
        return []
    shuffled = np.random.default_rng(seed).permutation(unique)
    return [np.sort(fold) for fold in np.array_split(shuffled, count)]


def _fit(
    policy: ActorCriticPolicy,
    steps: _Steps,
    epochs: int,
    settings: BehaviorCloningSettings,
    *,
    seed: int,
    progress_bar: bool,
    holdout: _Steps | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> dict[str, list[float]]:
    """``epochs`` passes of minibatch steps over ``steps``, from a fresh Adam optimizer;
    per-epoch means, and the held-out negative log-likelihood after each epoch where
    ``holdout`` is given."""
    optimizer: torch.optim.Optimizer
    if settings.weight_decay:
        optimizer = torch.optim.AdamW(policy.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    else:
        optimizer = torch.optim.Adam(policy.parameters(), lr=settings.learning_rate)
    trainable = [parameter for parameter in policy.parameters() if parameter.requires_grad]
    generator = np.random.default_rng(seed)
    num_steps = steps.actions.shape[0]
    history: dict[str, list[float]] = {"policy_loss": [], "value_loss": [], "accuracy": []}
    if holdout is not None:
        history["holdout_loss"] = []
    passes = range(epochs)
    if progress_bar:
        from tqdm.auto import tqdm

        passes = tqdm(passes, desc="behaviour cloning" if holdout is None else "behaviour cloning (choosing the epochs)", unit="epoch")
    for epoch in passes:
        policy.set_training_mode(True)
        order = generator.permutation(num_steps)
        sums = np.zeros(3)
        for start in range(0, num_steps, settings.batch_size):
            batch_index = order[start : start + settings.batch_size]
            batch, _ = policy.obs_to_tensor(_take(steps.observations, batch_index))
            batch_actions = _action_tensor(policy, steps.actions[batch_index])
            values, log_prob, entropy = policy.evaluate_actions(batch, batch_actions)
            policy_loss = -log_prob.mean()
            value_loss = torch.mean((values.flatten() - torch.as_tensor(steps.targets[batch_index], device=policy.device)) ** 2)
            actor_loss = policy_loss
            if entropy is not None and settings.entropy_weight:
                actor_loss = actor_loss - settings.entropy_weight * entropy.mean()
            optimizer.zero_grad()
            _add_clipped_gradients(trainable, [actor_loss, settings.value_weight * value_loss], settings.max_grad_norm)
            optimizer.step()
            with torch.no_grad():
                predicted = policy.get_distribution(batch).get_actions(deterministic=True)
                accuracy = (predicted.reshape(batch_actions.shape) == batch_actions).float().mean()
            sums += len(batch_index) * np.array([policy_loss.item(), value_loss.item(), accuracy.item()])
        for key, value in zip(("policy_loss", "value_loss", "accuracy"), sums / num_steps):
            history[key].append(float(value))
        if holdout is not None:
            history["holdout_loss"].append(_negative_log_likelihood(policy, holdout, settings.batch_size))
        if on_epoch is not None:
            policy.set_training_mode(False)
            on_epoch(epoch + 1)
    policy.set_training_mode(False)
    return history


def _action_tensor(policy: ActorCriticPolicy, actions: np.ndarray) -> torch.Tensor:
    tensor = torch.as_tensor(actions, device=policy.device)
    if tensor.ndim == 2 and tensor.shape[1] == 1:
        tensor = tensor[:, 0]
    return tensor


def _negative_log_likelihood(policy: ActorCriticPolicy, steps: _Steps, batch_size: int) -> float:
    """The mean negative log-likelihood of ``steps``' actions under ``policy`` (eval mode)."""
    policy.set_training_mode(False)
    total = 0.0
    with torch.no_grad():
        for start in range(0, steps.actions.shape[0], max(batch_size, 1024)):
            index = np.arange(start, min(start + max(batch_size, 1024), steps.actions.shape[0]))
            batch, _ = policy.obs_to_tensor(_take(steps.observations, index))
            _, log_prob, _ = policy.evaluate_actions(batch, _action_tensor(policy, steps.actions[index]))
            total -= float(log_prob.sum().item())
    return total / max(steps.actions.shape[0], 1)


class CloningRegularizer:
    """Behaviour-cloning steps between PPO updates, so that fine-tuning keeps what was
    cloned: each call takes ``steps`` gradient steps of ``weight`` times the demonstrated
    actions' negative log-likelihood, with the policy's own optimizer.

    Use through :class:`rudder.agents.sb3.callbacks.KeepCloning` (after every rollout).

    Args:
        policy: the SB3 policy being fine-tuned.
        demonstrations: the cloned episodes (with the same observation wrappers).
        steps: gradient steps per call.
        batch_size: steps of demonstrations per gradient step.
        weight: scale of the loss.
        seed: seeds the minibatches.
    """

    def __init__(
        self, policy: ActorCriticPolicy, demonstrations: Sequence[Episode], *, steps: int = 8, batch_size: int = 256, weight: float = 1.0, seed: int = 0
    ) -> None:
        if steps < 1 or batch_size < 1 or weight <= 0:
            raise ValueError("`steps` and `batch_size` must be >= 1 and `weight` > 0")
        demonstrations = check_episodes(demonstrations, name="demonstrations")
        self.policy = policy
        self.observations, self.actions = _stack_steps(demonstrations)
        _check_observation_shapes(policy.observation_space, self.observations)
        self.steps, self.batch_size, self.weight = int(steps), int(batch_size), float(weight)
        self.generator = np.random.default_rng(seed)

    def __call__(self) -> float:
        """Takes the steps; returns the mean negative log-likelihood. While the actor is
        frozen (the value warm-up of :class:`~rudder.agents.sb3.safeguards.ValueWarmup`) it
        only measures the likelihood and changes nothing."""
        policy = self.policy
        policy.set_training_mode(True)
        losses = []
        for _ in range(self.steps):
            index = self.generator.integers(0, self.actions.shape[0], size=self.batch_size)
            batch, _ = policy.obs_to_tensor(_take(self.observations, index))
            actions = torch.as_tensor(self.actions[index], device=policy.device).reshape(-1)
            _, log_prob, _ = policy.evaluate_actions(batch, actions)
            loss = -self.weight * log_prob.mean()
            losses.append(float(loss.item()) / self.weight)
            if not loss.requires_grad:  # the actor is frozen
                continue
            policy.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), 0.5)
            policy.optimizer.step()
        policy.set_training_mode(False)
        return float(np.mean(losses))
