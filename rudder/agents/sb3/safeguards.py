"""Do no harm: PPO after behaviour cloning must not unlearn the cloned policy.

Two stable-baselines3 callbacks that every method starting from a cloned policy uses:

- :class:`ValueWarmup`: the first PPO updates train the value function only. Cloning fits
  the value head on the demonstrations, which all succeed; the agent's own first episodes
  often fail, so an untrained critic makes large, wrong advantages, and the first policy
  updates push the cloned policy away from what it does well. While the critic catches up,
  the policy acts unchanged.
- :class:`GateRedistribution`: the redistribution gate
  (:class:`~rudder.redistribution.gate.RedistributionGate`): on the agent's recent finished
  episodes, how well the profile score orders them by their true return decides how much
  of the redistributed reward the agent is paid, the rest being the env reward
  (:meth:`~rudder.wrappers.RedistributedReward.set_weight`).

Both log to SB3's logger: ``rudder/value_warmup`` (1 during the warm-up),
``rudder/gate_weight`` and ``rudder/gate_concordance``.
"""

from __future__ import annotations

from typing import cast

import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy

from rudder.redistribution.gate import RedistributionGate, settled_weight

__all__ = ["GateRedistribution", "ValueWarmup", "actor_only_parameters"]


def actor_only_parameters(policy: ActorCriticPolicy) -> list[torch.nn.Parameter]:
    """The parameters of an SB3 actor-critic policy that only the actor uses: the action
    head, the actor's hidden layers (``mlp_extractor.policy_net``, or the per-sub-task
    ``actors`` and the shared ``actor_trunk`` of
    :class:`~rudder.agents.sb3.policies.SubtaskNetworks`), ``log_std`` of a
    Gaussian policy, and the actor's own feature extractor when it is not shared. A shared
    feature extractor is left out (the critic needs it).
    """
    modules: list[torch.nn.Module] = [policy.action_net]
    extractor = policy.mlp_extractor
    for name in ("policy_net", "actors", "actor_trunk"):
        part = getattr(extractor, name, None)
        if isinstance(part, torch.nn.Module):
            modules.append(part)
    if not policy.share_features_extractor:
        modules.append(policy.pi_features_extractor)
    parameters = [parameter for module in modules for parameter in module.parameters()]
    log_std = getattr(policy, "log_std", None)
    if isinstance(log_std, torch.nn.Parameter):
        parameters.append(log_std)
    return parameters


class ValueWarmup(BaseCallback):
    """Freezes the actor for the first ``updates`` PPO updates (each after one rollout), so
    that they train the value function only; :meth:`extend` asks for more later (the
    redistribution gate does when it changes what the agent is paid).

    Args:
        updates: PPO updates (rollouts) of value-only training; 0 turns the warm-up off.
    """

    def __init__(self, updates: int, *, verbose: int = 0) -> None:
        super().__init__(verbose)
        if updates < 0:
            raise ValueError(f"`updates` must be >= 0, got {updates}")
        self.updates = updates
        self.done = 0
        self._frozen: list[torch.nn.Parameter] = []

    def extend(self, updates: int) -> None:
        """Makes the next ``updates`` PPO updates value-only too."""
        self.updates = max(self.updates, self.done + int(updates))

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        # called before each update: a warm-up update while done < updates
        warming = self.done < self.updates
        self.logger.record("rudder/value_warmup", float(warming))
        if warming:
            if not self._frozen:
                self._frozen = actor_only_parameters(cast(ActorCriticPolicy, self.model.policy))
                for parameter in self._frozen:
                    parameter.requires_grad_(False)
            self.done += 1
        else:
            self._release()

    def _on_training_end(self) -> None:
        # a model handed back is trainable (a later ``learn`` goes on with the warm-up count)
        self._release()

    def _release(self) -> None:
        for parameter in self._frozen:
            parameter.requires_grad_(True)
        self._frozen = []


class GateRedistribution(BaseCallback):
    """Applies the redistribution gate to the training envs at the end of every rollout.

    Reads ``info["redistribution"]`` (score and true return of each finished episode, from
    :class:`~rudder.wrappers.RedistributedReward`) and sets the envs' weight of the
    redistributed reward through ``set_weight``, in quarters, and only once the gate's
    weight is a quarter away from the one paid (:func:`~rudder.redistribution.gate.settled_weight`),
    so that it changes seldom. A change of what the agent is paid leaves the critic predicting the old
    reward, and its wrong advantages would move the policy: with ``warmup``, every change
    makes the next ``warmup_updates`` PPO updates value-only (put this callback before the
    warm-up in the callback list, so that the update right after the change is one of them).

    Args:
        window: recent episodes the gate judges on.
        min_episodes: episodes needed before the gate judges.
        warmup: the run's :class:`ValueWarmup`, or None.
        warmup_updates: value-only updates after each change of the weight.
    """

    def __init__(
        self,
        *,
        window: int = 100,
        min_episodes: int = 20,
        warmup: ValueWarmup | None = None,
        warmup_updates: int = 4,
        verbose: int = 0,
    ) -> None:
        super().__init__(verbose)
        self.gate = RedistributionGate(window=window, min_episodes=min_episodes)
        self.warmup = warmup
        self.warmup_updates = warmup_updates
        self.weight = 1.0
        self.history: list[tuple[int, float, float | None]] = []

    def _on_step(self) -> bool:
        for info in self.locals.get("infos", ()):
            record = info.get("redistribution")
            if record is not None:
                self.gate.add(float(record["score"]), float(record["episode_return"]))
        return True

    def _on_rollout_end(self) -> None:
        weight = settled_weight(self.weight, self.gate.update())
        if weight != self.weight:
            self.weight = weight
            self.training_env.env_method("set_weight", weight)
            if self.warmup is not None:
                self.warmup.extend(self.warmup_updates)
        self.history.append((int(self.num_timesteps), weight, self.gate.concordance))
        self.logger.record("rudder/gate_weight", weight)
        if self.gate.concordance is not None:
            self.logger.record("rudder/gate_concordance", self.gate.concordance)
