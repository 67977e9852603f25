"""The sub-task agents' routed policy: an actor and a critic output per sub-task.

:class:`SubtaskPolicy` is an SB3 ``ActorCriticPolicy`` whose actor and critic are routed
by the sub-task one-hot at the end of the observation
(:class:`~rudder.wrappers.subtasks.SubtaskObservation`). By default the hidden layers of
the actor (and, separately, of the critic) are one trunk for all sub-tasks, which sees
the one-hot with the rest of the observation, and only the output layer is per sub-task:
what every sub-task needs (moving, fighting, drinking) is learned once, from all the
steps. ``shared_layers=0`` gives every sub-task networks of its own, as in the paper's
MineRL agent: behaviour cloning then trains each sub-task's networks on the
demonstration steps of that sub-task only, and PPO each on the steps it was in charge of.
``shared_layers=len(net_arch) + 1`` shares the output layer too: one network that reads
the sub-task one-hot as an input (a goal-conditioned policy).
Build it through :func:`~rudder.agents.sb3.make_ppo` with ``PPOSettings(policy="SubtaskPolicy")``.

:class:`GridFeatures` is a features extractor for flat observations that start with a
one-hot grid (a local view of cells, say Crafter's 9x7): convolutions read the grid, so
that what is learned at one cell holds at every cell, and the rest of the observation
passes through unchanged. ``PPOSettings(grid=(width, height, classes))`` puts it under
either policy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import gymnasium as gym
import torch
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from stable_baselines3.common.type_aliases import Schedule
from torch import nn

__all__ = ["GRID_CHANNELS", "GridFeatures", "SubtaskNetworks", "SubtaskPolicy"]

GRID_CHANNELS: tuple[int, ...] = (16, 16)
"""Channels of :class:`GridFeatures`' convolutions (3x3, padded, so every layer keeps the
grid's size)."""


def _network(sizes: Sequence[int], activation: type[nn.Module]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[index], sizes[index + 1]))
        if index < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class SubtaskNetworks(nn.Module):
    """One actor and one critic network per sub-task; each sample goes through the
    networks of its sub-task (the one-hot in its last ``num_subtasks`` features).

    The actor's output is the action logits, the critic's the value, so that the policy's
    own ``action_net`` and ``value_net`` are identities. With ``shared_layers`` = k the
    first k hidden layers of the actor form one trunk for every sub-task (likewise the
    critic's; actor and critic share nothing), followed by each sub-task's own layers;
    with ``shared_layers = len(hidden) + 1`` the output layer is shared too, so that the
    sub-tasks differ only by the one-hot in the input.

    Args:
        feature_dim: length of the observation (the sub-task one-hot included).
        num_subtasks: number of sub-tasks.
        num_actions: number of discrete actions.
        hidden: hidden layer sizes.
        activation: the activation after each hidden layer.
        shared_layers: how many of the hidden layers the sub-tasks share (0 to ``len(hidden)``;
            None: all of them; ``len(hidden) + 1``: the output layer too).
    """

    def __init__(
        self,
        feature_dim: int,
        *,
        num_subtasks: int,
        num_actions: int,
        hidden: Sequence[int] = (64, 64),
        activation: type[nn.Module] = nn.Tanh,
        shared_layers: int | None = None,
    ) -> None:
        super().__init__()
        shared_layers = len(hidden) if shared_layers is None else shared_layers
        if not 0 <= shared_layers <= len(hidden) + 1:
            raise ValueError(
                f"`shared_layers` must be in [0, {len(hidden) + 1}] (the hidden layers, or one more for the "
                f"output layer too), got {shared_layers}"
            )
        self.num_subtasks = int(num_subtasks)
        self.shared_layers = int(shared_layers)
        self.latent_dim_pi = int(num_actions)
        self.latent_dim_vf = 1
        sizes = [feature_dim, *hidden]
        shared_hidden = min(shared_layers, len(hidden))
        shared, own = sizes[: shared_hidden + 1], sizes[shared_hidden:]
        self.actor_trunk = self._trunk(shared, activation)
        self.critic_trunk = self._trunk(shared, activation)
        heads = 1 if shared_layers > len(hidden) else num_subtasks
        self.actors = nn.ModuleList(_network([*own, num_actions], activation) for _ in range(heads))
        self.critics = nn.ModuleList(_network([*own, 1], activation) for _ in range(heads))

    @staticmethod
    def _trunk(sizes: Sequence[int], activation: type[nn.Module]) -> nn.Module:
        """The shared hidden layers (an identity where there are none)."""
        if len(sizes) < 2:
            return nn.Identity()
        return nn.Sequential(_network(sizes, activation), activation())

    def _route(self, features: torch.Tensor, trunk: nn.Module, networks: nn.ModuleList, size: int) -> torch.Tensor:
        hidden = trunk(features)
        if len(networks) == 1:
            return networks[0](hidden)
        subtask = features[:, -self.num_subtasks :].argmax(dim=1)
        output = features.new_zeros((features.shape[0], size))
        for index in torch.unique(subtask).tolist():
            rows = subtask == index
            output[rows] = networks[index](hidden[rows])
        return output

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_actor(features), self.forward_critic(features)

    def forward_actor(self, features: torch.Tensor) -> torch.Tensor:
        return self._route(features, self.actor_trunk, self.actors, self.latent_dim_pi)

    def forward_critic(self, features: torch.Tensor) -> torch.Tensor:
        return self._route(features, self.critic_trunk, self.critics, 1)


class SubtaskPolicy(ActorCriticPolicy):
    """An SB3 actor-critic policy with an actor and a critic output per sub-task (see
    :class:`SubtaskNetworks`). Needs a ``Discrete`` action space and a flat observation
    ending in the sub-task one-hot (:class:`~rudder.wrappers.subtasks.SubtaskObservation`).

    Args:
        num_subtasks: number of sub-tasks (the one-hot's length).
        net_arch: hidden sizes of every sub-task's actor and critic.
        shared_layers: how many of the hidden layers all sub-tasks share (see
            :class:`SubtaskNetworks`; None, the default: all of them; 0: none;
            ``len(net_arch) + 1``: the output layer too).
        Other arguments: as ``ActorCriticPolicy``.
    """

    def __init__(
        self,
        *args: Any,
        num_subtasks: int,
        net_arch: Sequence[int] | Mapping | None = (64, 64),
        shared_layers: int | None = None,
        **kwargs: Any,
    ) -> None:
        if num_subtasks < 1:
            raise ValueError(f"`num_subtasks` must be >= 1, got {num_subtasks}")
        self.num_subtasks = int(num_subtasks)
        self.shared_layers = None if shared_layers is None else int(shared_layers)
        self.hidden_sizes = tuple(net_arch) if isinstance(net_arch, (list, tuple)) else (64, 64)
        super().__init__(*args, net_arch=None, **kwargs)  # type: ignore[misc]

    def _build_mlp_extractor(self) -> None:
        if not isinstance(self.action_space, gym.spaces.Discrete):
            raise ValueError(f"SubtaskPolicy needs a Discrete action space, got {self.action_space}")
        self.mlp_extractor = SubtaskNetworks(  # type: ignore[assignment]
            self.features_dim,
            num_subtasks=self.num_subtasks,
            num_actions=int(self.action_space.n),
            hidden=self.hidden_sizes,
            activation=self.activation_fn,
            shared_layers=self.shared_layers,
        )

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        self.action_net = nn.Identity()
        self.value_net = nn.Identity()  # type: ignore[assignment]
        self.optimizer = self.optimizer_class(self.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs)  # type: ignore[call-arg]


class GridFeatures(BaseFeaturesExtractor):
    """Convolutions over the one-hot grid at the start of a flat observation.

    The first ``width * height * classes`` entries of the observation are read as a grid
    of ``width`` x ``height`` cells with ``classes`` entries each, cell-major (x, then y,
    then the class: index ``(x * height + y) * classes + c``, the layout of
    :class:`~rudder.envs.crafter_tasks.CrafterEnv`'s symbolic view). 3x3 convolutions
    with :data:`GRID_CHANNELS` channels and ReLUs, padded to keep the grid's size, read
    it; the features are their output, flattened, followed by the rest of the observation
    unchanged (so a sub-task one-hot at its end stays at the end, as
    :class:`SubtaskNetworks` needs).

    Args:
        observation_space: a flat ``Box`` of at least ``width * height * classes`` entries.
        grid: ``(width, height, classes)``.
        channels: the convolutions' output channels, one layer each.
    """

    def __init__(
        self, observation_space: gym.spaces.Box, *, grid: Sequence[int], channels: Sequence[int] = GRID_CHANNELS
    ) -> None:
        if len(observation_space.shape) != 1:
            raise ValueError(f"GridFeatures needs a flat Box observation, got shape {observation_space.shape}")
        if len(grid) != 3 or min(grid) < 1:
            raise ValueError(f"`grid` must be (width, height, classes), each >= 1, got {tuple(grid)}")
        if not channels or min(channels) < 1:
            raise ValueError(f"`channels` must be one or more channel counts >= 1, got {tuple(channels)}")
        width, height, classes = (int(size) for size in grid)
        cells = width * height * classes
        size = int(observation_space.shape[0])
        if size < cells:
            raise ValueError(
                f"the observation has {size} entries, fewer than the grid's {width} x {height} x {classes} = {cells}; "
                "check `grid` against the env's observation"
            )
        super().__init__(observation_space, features_dim=int(channels[-1]) * width * height + size - cells)
        self.grid = (width, height, classes)
        self._cells = cells
        layers: list[nn.Module] = []
        previous = classes
        for count in channels:
            layers += [nn.Conv2d(previous, int(count), kernel_size=3, padding=1), nn.ReLU()]
            previous = int(count)
        self.convolutions = nn.Sequential(*layers, nn.Flatten())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        grid = observations[:, : self._cells].reshape(-1, *self.grid).permute(0, 3, 1, 2)
        return torch.cat([self.convolutions(grid), observations[:, self._cells :]], dim=1)
