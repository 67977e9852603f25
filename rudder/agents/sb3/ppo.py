"""Building PPO from :class:`~rudder.agents.sb3.settings.PPOSettings`.

Policy names resolve through :data:`policy_aliases`, as SB3's own ``PPO.policy_aliases``
resolves "MlpPolicy": "SubtaskPolicy" is :class:`~rudder.agents.sb3.policies.SubtaskPolicy`,
and any other name goes to SB3 unchanged.
"""

from __future__ import annotations

from typing import Any

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.vec_env import VecEnv

from rudder.agents.sb3.policies import GridFeatures, SubtaskPolicy
from rudder.agents.sb3.settings import PPOSettings

__all__ = ["make_ppo", "policy_aliases"]

#: Policy names of :attr:`PPOSettings.policy` that are rudder's own classes.
policy_aliases: dict[str, type[ActorCriticPolicy]] = {"SubtaskPolicy": SubtaskPolicy}

#: Extra policy keyword arguments each aliased policy takes from the settings.
_ALIAS_KWARGS: dict[str, tuple[str, ...]] = {"SubtaskPolicy": ("num_subtasks", "shared_layers")}

_ACTIVATIONS: dict[str, type[torch.nn.Module]] = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "elu": torch.nn.ELU}


def make_ppo(
    env: VecEnv, settings: PPOSettings | None = None, *, seed: int = 0, device: str = "cpu", **kwargs: Any
) -> PPO:
    """A ``stable_baselines3.PPO`` on ``env`` with ``settings``.

    Args:
        env: the vectorised training env.
        settings: the hyperparameters; ``settings.policy`` is looked up in
            :data:`policy_aliases` first, then passed to SB3 as a name. ``net_arch=None``
            builds :data:`~rudder.agents.sb3.settings.NARROW_NET_ARCH`
            (:func:`~rudder.agents.sb3.train_sb3` chooses it by the demonstrations first).
        seed: PPO's seed.
        device: torch device ("cpu" by default: these small networks run faster there;
            "auto" is SB3's default).
        **kwargs: more ``PPO`` keyword arguments (``tensorboard_log``, ``verbose``, ...).
    """
    settings = settings or PPOSettings()
    policy: str | type[ActorCriticPolicy] = policy_aliases.get(settings.policy, settings.policy)
    policy_kwargs: dict[str, Any] = {"net_arch": list(settings.layers), "activation_fn": _ACTIVATIONS[settings.activation]}
    for name in _ALIAS_KWARGS.get(settings.policy, ()):
        policy_kwargs[name] = getattr(settings, name)
    if settings.grid is not None:
        policy_kwargs["features_extractor_class"] = GridFeatures
        policy_kwargs["features_extractor_kwargs"] = {"grid": settings.grid}
        # actor and critic each their own convolutions, as their hidden layers: the critic's
        # updates (the value warm-up's first) then leave the cloned actor's features alone
        policy_kwargs["share_features_extractor"] = False
    return PPO(
        policy,
        env,
        learning_rate=settings.learning_rate,
        n_steps=settings.n_steps,
        batch_size=settings.batch_size,
        n_epochs=settings.n_epochs,
        gamma=settings.gamma,
        gae_lambda=settings.gae_lambda,
        clip_range=settings.clip_range,
        ent_coef=settings.ent_coef,
        vf_coef=settings.vf_coef,
        max_grad_norm=settings.max_grad_norm,
        target_kl=settings.target_kl,
        policy_kwargs=policy_kwargs,
        seed=seed,
        device=device,
        **kwargs,
    )
