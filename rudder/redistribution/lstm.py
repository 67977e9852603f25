"""RUDDER: reward redistribution by return decomposition with an LSTM.

Reference: Arjona-Medina et al., "RUDDER: Return Decomposition for Delayed Rewards",
arXiv 1806.07857.

An LSTM reads the episode step by step (observation features, one-hot action, and the
observation difference s_{t+1} - s_t, against explaining away) and predicts the
episode's return g_t after every step t. The redistributed reward of step t is the
change of prediction,

    R_{t+1} = g_t - g_{t-1},    g_{-1} = 0,

and the last step gets the correction G - sum(R), so every episode's rewards sum exactly
to its return. Loss: (g_{T-1} - G)^2 + aux_weight * mean_t (g_t - G)^2, true means of
squares over the valid steps of padded batches (the official tutorial squared the mean
error instead).

Quality gate: until the model's relative error on its training episodes,
mean (g_{T-1} - G)^2 / var(G), is below ``quality_threshold``, :meth:`redistribute` and
the online state pass the env reward through unchanged.

Needs torch (``pip install torch==2.13.0`` on CPU-only machines).
"""

from __future__ import annotations

import dataclasses
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from rudder._files import owned_directory, read_versioned_json, reading
from rudder.data.episode import Episode, check_episodes
from rudder.errors import DataFormatError
from rudder.redistribution.base import ReturnBookkeeping, terminal_reward
from rudder.redistribution.lessons import LessonsBuffer
from rudder.redistribution.serialization import LSTM_CONFIG_FILE, LSTM_FORMAT

__all__ = [
    "MAX_INPUT_SIZE",
    "MAX_PARAMETERS",
    "LSTMRedistributor",
    "LSTMSettings",
    "OnlineLSTMRedistribution",
    "ReturnDecompositionModel",
    "RudderLSTMCell",
    "StepFeatures",
    "decomposition_loss",
]

LSTM_FORMAT_VERSION = 1
MODEL_FILE = "model.pt"


# -- inputs ---------------------------------------------------------------------------
def _space_size(space: gym.Space) -> int:
    if isinstance(space, gym.spaces.Discrete):
        return int(space.n)
    if isinstance(space, gym.spaces.Box):
        return int(np.prod(space.shape))
    if isinstance(space, gym.spaces.MultiDiscrete) and space.nvec.ndim == 1:
        return int(space.nvec.sum())
    if isinstance(space, gym.spaces.Dict):
        return sum(_space_size(sub) for sub in space.spaces.values())
    raise TypeError(
        f"RUDDER's LSTM reads Discrete, MultiDiscrete (1-D), Box or Dict spaces, got {space}; "
        "flatten the observation first (gymnasium.wrappers.FlattenObservation)"
    )


def _space_features(space: gym.Space, values: Any) -> np.ndarray:
    """Shape (n, size) float32 features of n values of ``space``."""
    if isinstance(space, gym.spaces.Discrete):
        index = np.asarray(values, dtype=np.int64).reshape(-1) - int(space.start)
        if np.any((index < 0) | (index >= space.n)):
            raise ValueError(f"values outside {space}")
        return np.eye(int(space.n), dtype=np.float32)[index]
    if isinstance(space, gym.spaces.Box):
        array = np.asarray(values, dtype=np.float32)
        return array.reshape(-1, int(np.prod(space.shape)))
    if isinstance(space, gym.spaces.MultiDiscrete):
        indices = np.asarray(values, dtype=np.int64).reshape(-1, space.nvec.size)
        return np.concatenate(
            [np.eye(int(size), dtype=np.float32)[indices[:, column]] for column, size in enumerate(space.nvec)], axis=1
        )
    if not isinstance(space, gym.spaces.Dict):
        raise TypeError(f"no features for the space {space}")
    parts = [_space_features(sub, values[key]) for key, sub in space.spaces.items()]
    return np.concatenate(parts, axis=1)


class StepFeatures:
    """The LSTM's input of each step: [obs features(s_t), one-hot(a_t), s_{t+1} - s_t].

    Discrete spaces are one-hot encoded, MultiDiscrete spaces one-hot per component, Box
    spaces flattened, Dict spaces concatenated in key order.

    Args:
        observation_space: the env's observation space.
        action_space: the env's action space.
        differences: include the observation difference (RUDDER's input against
            explaining away).
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, *, differences: bool = True) -> None:
        self.observation_space = observation_space
        self.action_space = action_space
        self.differences = differences
        self.observation_size = _space_size(observation_space)
        self.action_size = _space_size(action_space)

    @property
    def size(self) -> int:
        return self.observation_size * (2 if self.differences else 1) + self.action_size

    def _combine(self, observations: np.ndarray, actions: np.ndarray, following: np.ndarray) -> np.ndarray:
        parts = [observations, actions]
        if self.differences:
            parts.append(following - observations)
        return np.concatenate(parts, axis=1)

    def episode(self, episode: Episode) -> np.ndarray:
        """Shape (T, size), float32: the inputs of every step of ``episode``."""
        observations = _space_features(self.observation_space, episode.observations)
        actions = _space_features(self.action_space, episode.actions)
        return self._combine(observations[:-1], actions, observations[1:])

    def step(self, observation: Any, action: Any, next_observation: Any) -> np.ndarray:
        """Shape (size,): the input of one step."""
        if isinstance(self.observation_space, gym.spaces.Dict):
            observation = {key: np.asarray(value)[None] for key, value in observation.items()}
            next_observation = {key: np.asarray(value)[None] for key, value in next_observation.items()}
        current = _space_features(self.observation_space, observation)
        following = _space_features(self.observation_space, next_observation)
        actions = _space_features(self.action_space, np.asarray(action)[None])
        return self._combine(current, actions, following)[0]


# -- the model ------------------------------------------------------------------------
class RudderLSTMCell(nn.Module):
    """The RUDDER paper's LSTM: no forget gate, no output gate, identity output.

    The input gate sees only the recurrent state, the cell input only the current
    input:  i_t = sigmoid(R h_{t-1} + b_i),  z_t = tanh(W x_t + b_z),
    c_t = c_{t-1} + i_t * z_t,  h_t = c_t  (a counter of weighted evidence).
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        self.cell_input = nn.Linear(input_size, hidden_size)
        self.input_gate = nn.Linear(hidden_size, hidden_size)
        nn.init.constant_(self.input_gate.bias, -3.0)  # start with small steps, as the official demo

    def forward(self, inputs: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """inputs (B, T, F) -> outputs (B, T, H) and the last cell state (B, H)."""
        batch, length, _ = inputs.shape
        cell = inputs.new_zeros(batch, self.hidden_size) if state is None else state
        candidates = torch.tanh(self.cell_input(inputs))
        outputs = []
        for step in range(length):
            gate = torch.sigmoid(self.input_gate(cell))
            cell = cell + gate * candidates[:, step]
            outputs.append(cell)
        return torch.stack(outputs, dim=1), cell


class ReturnDecompositionModel(nn.Module):
    """LSTM + linear output: the predicted return after every step.

    Args:
        input_size: features per step.
        hidden_size: LSTM units.
        cell: "lstm" (torch's standard LSTM) or "rudder" (:class:`RudderLSTMCell`).
    """

    def __init__(self, input_size: int, hidden_size: int = 32, cell: Literal["lstm", "rudder"] = "lstm") -> None:
        super().__init__()
        if cell not in ("lstm", "rudder"):
            raise ValueError(f"`cell` must be 'lstm' or 'rudder', got {cell!r}")
        self.cell = cell
        if cell == "lstm":
            self.recurrent: nn.Module = nn.LSTM(input_size, hidden_size, batch_first=True)
        else:
            self.recurrent = RudderLSTMCell(input_size, hidden_size)
        self.output = nn.Linear(hidden_size, 1)

    def forward(self, inputs: torch.Tensor, state: Any = None) -> tuple[torch.Tensor, Any]:
        """inputs (B, T, F) -> predictions (B, T) and the recurrent state after the last step."""
        hidden, state = self.recurrent(inputs, state)
        return self.output(hidden).squeeze(-1), state


# -- settings -------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class LSTMSettings:
    """Knobs of :class:`LSTMRedistributor` (saved with the model).

    Attributes:
        hidden_size: LSTM units.
        cell: "lstm" or "rudder" (the paper's variant).
        differences: feed s_{t+1} - s_t besides s_t and a_t.
        aux_weight: weight of the per-step prediction loss (lambda).
        learning_rate: Adam learning rate.
        weight_decay: Adam weight decay.
        batch_size: episodes per gradient step.
        epochs: passes over the episodes in :meth:`LSTMRedistributor.fit`.
        max_grad_norm: gradient clipping.
        quality_threshold: relative error below which the redistribution is used.
        correction: add G - sum(R) at the last step.
        seed: seeds the initial weights and the minibatch order.
    """

    hidden_size: int = 32
    cell: Literal["lstm", "rudder"] = "lstm"
    differences: bool = True
    aux_weight: float = 0.5
    learning_rate: float = 1e-2
    weight_decay: float = 1e-5
    batch_size: int = 16
    epochs: int = 100
    max_grad_norm: float = 1.0
    quality_threshold: float = 0.2
    correction: bool = True
    seed: int = 0

    def __post_init__(self) -> None:
        if self.cell not in ("lstm", "rudder"):
            raise ValueError(f"`cell` must be 'lstm' or 'rudder', got {self.cell!r}")
        if self.hidden_size < 1 or self.batch_size < 1 or self.epochs < 0:
            raise ValueError("`hidden_size` and `batch_size` must be >= 1 and `epochs` >= 0")
        if self.aux_weight < 0 or self.learning_rate <= 0:
            raise ValueError("`aux_weight` must be >= 0 and `learning_rate` > 0")
        if not (math.isfinite(self.quality_threshold) and self.quality_threshold >= 0):
            # a saved model must load again: its file keeps finite numbers only
            raise ValueError(
                f"`quality_threshold` must be a finite number >= 0, got {self.quality_threshold} "
                "(for a gate that is always open, use a large number such as 1e9)"
            )


def _pad(sequences: Sequence[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Padded inputs (B, T_max, F), mask (B, T_max) and lengths (B,)."""
    lengths = torch.tensor([len(sequence) for sequence in sequences])
    width = sequences[0].shape[1]
    inputs = torch.zeros(len(sequences), int(lengths.max()), width)
    for row, sequence in enumerate(sequences):
        inputs[row, : len(sequence)] = torch.from_numpy(sequence)
    mask = torch.arange(inputs.shape[1])[None, :] < lengths[:, None]
    return inputs, mask, lengths


def decomposition_loss(
    predictions: torch.Tensor, returns: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor, aux_weight: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """RUDDER's loss and the per-episode main error.

    Args:
        predictions: (B, T) predicted returns.
        returns: (B,) episode returns.
        mask: (B, T) valid steps.
        lengths: (B,) episode lengths.
        aux_weight: lambda.

    Returns:
        the scalar loss, and (B,) squared errors of the final predictions.
    """
    final = predictions[torch.arange(len(lengths)), lengths - 1]
    main = (final - returns) ** 2
    errors = ((predictions - returns[:, None]) ** 2) * mask
    auxiliary = errors.sum(dim=1) / lengths
    return main.mean() + aux_weight * auxiliary.mean(), main.detach()


class LSTMRedistributor:
    """Redistributes reward by RUDDER's return decomposition.

    Before it is fitted, and while its quality gate is closed, it passes the env reward
    through unchanged, so it can start online redistribution at once (:attr:`is_ready`)
    and learn from the episodes it sees (:meth:`learn_from`).

    Example:
        >>> import gymnasium as gym
        >>> import numpy as np
        >>> from rudder import Episode
        >>> def episode(pressed):                             # the return comes at the end
        ...     return Episode(observations=np.array([0, 1, 0, 0]), actions=np.array([0, pressed, 0]),
        ...                    rewards=np.array([0.0, 0.0, float(pressed)]), terminated=True)
        >>> redistributor = LSTMRedistributor(gym.spaces.Discrete(2), gym.spaces.Discrete(2), hidden_size=8)
        >>> redistributor = redistributor.fit([episode(0), episode(1)] * 4)  # needs return variance
        >>> rewards = redistributor.redistribute(episode(1))  # shape (T,), sums to G
        >>> round(float(rewards.sum()), 6), bool(rewards[1] > rewards[2])  # paid at the press
        (1.0, True)

        ``RedistributedReward(env, redistributor)`` runs the same online.

    Args:
        observation_space: the env's observation space.
        action_space: the env's action space.
        **settings: fields of :class:`LSTMSettings`.
    """

    def __init__(self, observation_space: gym.Space, action_space: gym.Space, **settings: Any) -> None:
        self.settings = LSTMSettings(**settings)
        self.features = StepFeatures(observation_space, action_space, differences=self.settings.differences)
        # The initial weights come from torch's global generator, seeded here and restored
        # afterwards: same seed, same model, and no side effect on the caller's random state.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.settings.seed)
            self.model = ReturnDecompositionModel(self.features.size, self.settings.hidden_size, self.settings.cell)
        self.model.eval()
        self._optimizer = torch.optim.Adam(
            self.model.parameters(), lr=self.settings.learning_rate, weight_decay=self.settings.weight_decay
        )
        self._rng = np.random.default_rng(self.settings.seed)
        self.return_scale = 1.0
        self.relative_error: float | None = None
        self.updates = 0
        self.history: list[float] = []

    # -- training -------------------------------------------------------------------
    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has run at least once (the same as :attr:`is_trained`)."""
        return self.is_trained

    @property
    def is_ready(self) -> bool:
        """Always True: an untrained model is usable, its quality gate passes the env
        reward through until training makes it reliable."""
        return True

    @property
    def is_trained(self) -> bool:
        """Whether :meth:`fit` has run at least once."""
        return self.relative_error is not None

    @property
    def is_reliable(self) -> bool:
        """Whether the quality gate is open (relative error below the threshold)."""
        return self.relative_error is not None and self.relative_error < self.settings.quality_threshold

    def fit(self, episodes: Sequence[Episode], *, epochs: int | None = None, progress_bar: bool = False) -> LSTMRedistributor:
        """Trains the model on ``episodes`` (continuing from its current weights); returns ``self``.

        Raises:
            ValueError: if the episodes' returns do not vary (nothing to decompose yet).
        """
        episodes = check_episodes(episodes, name="episodes")
        returns = np.array([episode.episode_return for episode in episodes])
        if not self.is_trained:
            if np.ptp(returns) == 0:
                raise ValueError(
                    f"all {len(episodes)} episodes have the return {returns[0]}; RUDDER needs return "
                    "variance to learn what causes the return (collect more varied episodes)"
                )
            self.return_scale = float(max(np.abs(returns).max(), 1e-8))
        inputs = [self.features.episode(episode) for episode in episodes]
        epochs = self.settings.epochs if epochs is None else int(epochs)
        iterator: Iterable[int] = range(epochs)
        if progress_bar:
            from tqdm.auto import tqdm

            iterator = tqdm(iterator, desc="RUDDER LSTM", unit="epoch")
        self.model.train()
        for _ in iterator:
            order = self._rng.permutation(len(episodes))
            total = 0.0
            for start in range(0, len(order), self.settings.batch_size):
                index = order[start : start + self.settings.batch_size]
                loss, _ = self._loss([inputs[i] for i in index], returns[index])
                self._optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.max_grad_norm)
                self._optimizer.step()
                self.updates += 1
                total += float(loss.detach()) * len(index)
            self.history.append(total / len(order))
        self.model.eval()
        self.relative_error = self.evaluate(episodes)
        return self

    # -- the lessons buffer -------------------------------------------------------------
    def lesson_priority(self, episode: Episode) -> float | None:
        """The priority of ``episode`` in a :class:`~rudder.redistribution.LessonsBuffer`:
        its loss (:meth:`episode_losses`) once the model is trained, else ``None`` (a new
        episode that the buffer replays first)."""
        if not self.is_trained:
            return None
        return float(self.episode_losses([episode])[0])

    def learn_from(self, lessons: LessonsBuffer, *, sample_size: int, epochs: int) -> bool:
        """RUDDER's retraining step on its lessons buffer; returns whether the model was fitted.

        If the buffer's returns vary, draws ``sample_size`` episodes by priority and, when
        the model is trained or the sample's returns vary too (a prioritised sample can
        miss the variance the buffer has, and an untrained model needs it), fits the model
        on them for ``epochs`` passes and sets their priorities to their new losses.

        Args:
            lessons: the lessons buffer (episodes added with :meth:`lesson_priority`).
            sample_size: episodes drawn from the buffer (with replacement).
            epochs: passes over the sample.
        """
        if not lessons.has_return_variance():
            return False
        index, sample = lessons.sample(sample_size)
        if not self.is_trained and np.ptp([episode.episode_return for episode in sample]) <= 0:
            return False
        self.fit(sample, epochs=epochs)
        lessons.update_priorities(index, self.episode_losses(sample))
        return True

    def _loss(self, inputs: Sequence[np.ndarray], returns: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        padded, mask, lengths = _pad(inputs)
        predictions, _ = self.model(padded)
        target = torch.as_tensor(returns / self.return_scale, dtype=torch.float32)
        return decomposition_loss(predictions, target, mask, lengths, self.settings.aux_weight)

    def episode_losses(self, episodes: Sequence[Episode]) -> np.ndarray:
        """Shape (n,): squared error of each episode's final prediction (in return units^2)."""
        with torch.no_grad():
            inputs = [self.features.episode(episode) for episode in episodes]
            returns = np.array([episode.episode_return for episode in episodes])
            _, main = self._loss(inputs, returns)
        return main.numpy().astype(np.float64) * self.return_scale**2

    def evaluate(self, episodes: Sequence[Episode]) -> float:
        """Relative error: mean squared error of the final predictions / variance of the returns."""
        returns = np.array([episode.episode_return for episode in episodes])
        variance = returns.var()
        if variance <= 0:
            variance = max(np.mean(returns**2), 1e-12)
        return float(self.episode_losses(episodes).mean() / variance)

    # -- offline --------------------------------------------------------------------
    def predictions(self, episode: Episode) -> np.ndarray:
        """Shape (T,): g_0 .. g_{T-1}, the predicted return after every step."""
        with torch.no_grad():
            inputs = torch.from_numpy(self.features.episode(episode))[None]
            predicted, _ = self.model(inputs)
        return predicted[0].numpy().astype(np.float64) * self.return_scale

    def integrated_gradients(self, episode: Episode, *, steps: int = 256) -> np.ndarray:
        """Shape (T,): integrated-gradients attribution of the final prediction g_{T-1}
        to each step's input (baseline: all-zero inputs), summed over the features.

        Completeness: the attributions sum to g_{T-1}(x) - g_{T-1}(0) up to the
        Riemann error of ``steps`` points. Offline only: it needs the whole episode.
        """
        if steps < 1:
            raise ValueError(f"`steps` must be >= 1, got {steps}")
        inputs = torch.from_numpy(self.features.episode(episode))
        fractions = (torch.arange(steps, dtype=torch.float32) + 0.5) / steps  # midpoint rule
        scaled = (fractions[:, None, None] * inputs[None]).requires_grad_(True)
        predicted, _ = self.model(scaled)
        predicted[:, -1].sum().backward()
        assert scaled.grad is not None  # a leaf that requires grad, after backward()
        gradients = scaled.grad.mean(dim=0)
        attribution = (gradients * inputs).sum(dim=1)
        return attribution.detach().numpy().astype(np.float64) * self.return_scale

    def redistribute(self, episode: Episode, *, method: str = "differences") -> np.ndarray:
        """Shape (T,): the redistributed reward of every step (the env reward while the
        quality gate is closed, e.g. before any training). With ``correction`` on and a
        finished episode they sum to its return. An episode of no steps (T = 0) gets an
        empty array, whose sum 0 is its return.

        Args:
            episode: the episode.
            method: "differences" (g_t - g_{t-1}, causal, as online) or
                "integrated_gradients" (:meth:`integrated_gradients` of the final
                prediction, RUDDER's contribution analysis; offline only). When the
                attributions explain less than 80% or more than 120% of
                g_{T-1}(x) - g_{T-1}(0), the differences are used.
        """
        if method not in ("differences", "integrated_gradients"):
            raise ValueError(f"`method` must be 'differences' or 'integrated_gradients', got {method!r}")
        if not self.is_reliable or episode.length == 0:
            # The gate is closed, or an episode of no steps (return 0, nothing to pay): the
            # env rewards, shape (T,), pass through.
            return np.array(episode.rewards, dtype=np.float64)
        differences = np.diff(self.predictions(episode), prepend=0.0)
        rewards = differences
        if method == "integrated_gradients":
            attribution = self.integrated_gradients(episode)
            with torch.no_grad():
                baseline, _ = self.model(torch.zeros(1, episode.length, self.features.size))
            explained = differences.sum() - float(baseline[0, -1]) * self.return_scale
            # RUDDER's completeness gate (80-120%): a saturated network makes the path
            # integral unreliable; then the prediction differences are used instead.
            if abs(explained) > 1e-8 and 0.8 <= attribution.sum() / explained <= 1.2:
                rewards = attribution
        if self.settings.correction and (episode.terminated or episode.truncated):
            rewards[-1] = terminal_reward(episode.rewards, rewards)  # exact: see terminal_reward
        return rewards

    # -- online ---------------------------------------------------------------------
    def start(self, observation: Any) -> OnlineLSTMRedistribution:
        """Begins online redistribution of one episode (one per environment)."""
        state = OnlineLSTMRedistribution(self)
        state.reset(observation)
        return state

    # -- saving ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes ``config.json`` (settings, spaces, quality) and ``model.pt`` (state dict) to
        directory ``path``, atomically.

        The directory is written only if it is missing, empty, or a RUDDER LSTM model
        written by align-rudder, and then only its own files are replaced (see
        :mod:`rudder._files`).

        Raises:
            NotOwnedError: if ``path`` holds anything else (nothing is written then).
        """
        from rudder import __version__

        config = {
            "format": LSTM_FORMAT,
            "format_version": LSTM_FORMAT_VERSION,
            "library_version": __version__,
            "settings": dataclasses.asdict(self.settings),
            "observation_space": _space_to_json(self.features.observation_space),
            "action_space": _space_to_json(self.features.action_space),
            "return_scale": self.return_scale,
            "relative_error": self.relative_error,
            "updates": self.updates,
        }
        state = self.model.state_dict()
        with owned_directory(path, kind=LSTM_FORMAT, owned=(LSTM_CONFIG_FILE, MODEL_FILE),
                             legacy=(LSTM_CONFIG_FILE, MODEL_FILE), what="a RUDDER model directory") as directory:
            directory.write(MODEL_FILE, lambda file: torch.save(state, file))
            directory.write_text(LSTM_CONFIG_FILE, json.dumps(config, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LSTMRedistributor:
        """Reads a model written by :meth:`save` (``torch.load(..., weights_only=True)``).

        Every field of ``config.json`` is checked (types, finiteness, ranges) and the
        declared spaces are bounded (:data:`MAX_INPUT_SIZE` input features per step,
        :data:`MAX_PARAMETERS` weights) before anything is allocated.

        Raises:
            FileNotFoundError: if ``path`` holds no model.
            DataFormatError: if a file is corrupt, inconsistent or declares sizes above
                the limits; the message names the file and the field.
            FormatVersionError: if the model was written by a newer format version.
        """
        path = Path(path)
        config_file, model_file = path / LSTM_CONFIG_FILE, path / MODEL_FILE
        with reading(path):
            if not model_file.is_file():
                raise FileNotFoundError(f"no RUDDER model at {str(path)!r} ({MODEL_FILE} is missing)")
            config = read_versioned_json(
                config_file, format=LSTM_FORMAT, version=LSTM_FORMAT_VERSION, what="a RUDDER LSTM model"
            )
            weights = model_file.read_bytes()
        redistributor = _redistributor_from_config(cls, config_file, config)
        try:
            state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
        except Exception as error:  # noqa: BLE001 - torch raises many kinds on corrupt files
            # Not torch's text: it suggests weights_only=False, which would run the file's code.
            raise DataFormatError(
                f"cannot read {str(model_file)!r}: it is not a tensor state dict written by align-rudder "
                f"({type(error).__name__}); save the model again"
            ) from None
        if not isinstance(state, Mapping) or not all(isinstance(value, torch.Tensor) for value in state.values()):
            raise DataFormatError(f"{str(model_file)!r} is corrupt: it must hold a state dict of tensors")
        if not all(bool(torch.isfinite(value).all()) for value in state.values() if value.is_floating_point()):
            raise DataFormatError(f"{str(model_file)!r} is corrupt: its weights must be finite; save the model again")
        try:
            redistributor.model.load_state_dict(state)
        except (RuntimeError, TypeError, ValueError) as error:
            raise DataFormatError(
                f"{str(model_file)!r} does not fit the model that {LSTM_CONFIG_FILE} describes: "
                f"{str(error).splitlines()[0]}; save the model again"
            ) from None
        return redistributor


#: The most input features per step a saved LSTM model may declare (its spaces' sizes).
MAX_INPUT_SIZE = 1 << 20
#: The most weights a saved LSTM model may declare (hidden size and input size together).
MAX_PARAMETERS = 1 << 27


def _redistributor_from_config(cls: type[LSTMRedistributor], file: Path, config: Mapping[str, Any]) -> LSTMRedistributor:
    """An unfitted redistributor as ``config`` (the record of ``file``) describes it, every
    field checked and every declared size bounded before anything is allocated."""

    def refuse(field: str, problem: str) -> DataFormatError:
        return DataFormatError(f"{str(file)!r} is corrupt: `{field}` {problem}; save the model again")

    settings = config.get("settings")
    if not isinstance(settings, dict):
        raise refuse("settings", "must be an object")
    known = {field.name for field in dataclasses.fields(LSTMSettings)}
    for name, value in settings.items():
        if name not in known:
            raise refuse(f"settings.{name}", f"is unknown; this align-rudder knows {sorted(known)}")
        if not _same_kind(getattr(LSTMSettings, name), value):
            raise refuse(f"settings.{name}", f"must be a finite value of the kind of {getattr(LSTMSettings, name)!r}, got {value!r}")
    observation_space = _space_from_json(config.get("observation_space"), file=file, field="observation_space")
    action_space = _space_from_json(config.get("action_space"), file=file, field="action_space")
    try:
        merged = LSTMSettings(**settings)
    except (TypeError, ValueError) as error:
        raise refuse("settings", f"has an invalid value: {error}") from None
    input_size = (2 if merged.differences else 1) * _space_size(observation_space) + _space_size(action_space)
    if input_size > MAX_INPUT_SIZE:
        raise refuse("observation_space", f"declares {input_size} input features per step, above the limit {MAX_INPUT_SIZE}")
    parameters = 4 * merged.hidden_size * (merged.hidden_size + input_size + 2) + merged.hidden_size + 1
    if parameters > MAX_PARAMETERS:
        raise refuse("settings.hidden_size", f"declares {parameters} weights, above the limit {MAX_PARAMETERS}")
    return_scale = config.get("return_scale")
    if isinstance(return_scale, bool) or not isinstance(return_scale, (int, float)) or not 0 < return_scale < 1e308:
        raise refuse("return_scale", f"must be a finite number > 0, got {return_scale!r}")
    relative_error = config.get("relative_error")
    if relative_error is not None and (
        isinstance(relative_error, bool) or not isinstance(relative_error, (int, float))
        or not 0 <= relative_error < 1e308  # False for NaN
    ):
        raise refuse("relative_error", f"must be null or a finite number >= 0, got {relative_error!r}")
    updates = config.get("updates", 0)
    if isinstance(updates, bool) or not isinstance(updates, int) or updates < 0:
        raise refuse("updates", f"must be an integer >= 0, got {updates!r}")
    try:
        redistributor = cls(observation_space, action_space, **settings)
    except (TypeError, ValueError, OverflowError, RuntimeError) as error:
        raise refuse("settings", f"has an invalid value: {str(error)[:200]}") from None
    redistributor.return_scale = float(return_scale)
    redistributor.relative_error = None if relative_error is None else float(relative_error)
    redistributor.updates = updates
    return redistributor


def _same_kind(default: object, value: object) -> bool:
    """Whether the saved setting ``value`` has the kind of its ``default`` (bool, integer,
    finite number or string)."""
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float)) and not isinstance(value, bool) and -1e308 < value < 1e308
    return isinstance(value, str)


def _space_to_json(space: gym.Space) -> dict[str, Any]:
    if isinstance(space, gym.spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, gym.spaces.Box):
        return {
            "type": "Box",
            "low": space.low.tolist(),
            "high": space.high.tolist(),
            "shape": list(space.shape),
            "dtype": str(space.dtype),
        }
    if isinstance(space, gym.spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": space.nvec.tolist()}
    if isinstance(space, gym.spaces.Dict):
        return {"type": "Dict", "spaces": {key: _space_to_json(sub) for key, sub in space.spaces.items()}}
    raise TypeError(f"cannot save the space {space}")


def _is_integer(value: object, *, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _space_from_json(data: object, *, file: Path | None = None, field: str = "space", depth: int = 0) -> gym.Space:
    """The space ``data`` describes, every value checked and its size bounded by
    :data:`MAX_INPUT_SIZE` before it is built."""

    def refuse(problem: str) -> DataFormatError:
        where = f"{str(file)!r}" if file is not None else "a RUDDER model"
        return DataFormatError(f"{where} is corrupt: `{field}` {problem}; save the model again")

    if not isinstance(data, dict):
        raise refuse(f"must be an object describing a space, got {type(data).__name__}")
    kind = data.get("type")
    if kind == "Discrete":
        n, start = data.get("n"), data.get("start", 0)
        if not _is_integer(n, low=1, high=MAX_INPUT_SIZE) or not _is_integer(start, low=-(2**62), high=2**62):
            raise refuse(f"must have 1 <= n <= {MAX_INPUT_SIZE} (the limit) and an integer start, got n={n!r}")
        return gym.spaces.Discrete(int(n), start=int(start))  # type: ignore[arg-type]  # checked above
    if kind == "Box":
        shape = data.get("shape")
        if not isinstance(shape, list) or len(shape) > 32 or not all(_is_integer(size, low=0, high=MAX_INPUT_SIZE) for size in shape) \
                or math.prod(shape) > MAX_INPUT_SIZE:
            raise refuse(f"must have a shape of at most {MAX_INPUT_SIZE} entries (the limit), got {str(shape)[:80]}")
        try:
            dtype = np.dtype(data.get("dtype"))
            low, high = np.array(data.get("low"), dtype=dtype), np.array(data.get("high"), dtype=dtype)
            if low.size > MAX_INPUT_SIZE or high.size > MAX_INPUT_SIZE or dtype.kind not in "fiub":
                raise ValueError("bounds or dtype out of range")
            return gym.spaces.Box(low, high, shape=tuple(shape), dtype=dtype)
        except (TypeError, ValueError, OverflowError) as error:
            raise refuse(f"is not a valid Box: {error}") from None
    if kind == "MultiDiscrete":
        nvec = data.get("nvec")
        if not isinstance(nvec, list) or not nvec or len(nvec) > MAX_INPUT_SIZE \
                or not all(_is_integer(size, low=1, high=MAX_INPUT_SIZE) for size in nvec) or sum(nvec) > MAX_INPUT_SIZE:
            raise refuse(f"must have a non-empty nvec of sizes in [1, {MAX_INPUT_SIZE}] summing to at most the limit")
        return gym.spaces.MultiDiscrete(np.array(nvec, dtype=np.int64))
    if kind == "Dict":
        spaces = data.get("spaces")
        if not isinstance(spaces, dict) or depth > 16:
            raise refuse("must map names to spaces (nested at most 16 deep)")
        built = {key: _space_from_json(sub, file=file, field=f"{field}.{key}", depth=depth + 1) for key, sub in spaces.items()}
        if sum(_space_size(space) for space in built.values()) > MAX_INPUT_SIZE:
            raise refuse(f"declares more than {MAX_INPUT_SIZE} input features (the limit)")
        return gym.spaces.Dict(built)
    raise refuse(f"has an unknown space type {kind!r}")


class OnlineLSTMRedistribution(ReturnBookkeeping):
    """The causal, per-environment state of RUDDER's online redistribution.

    Runs the LSTM one step at a time with this env's own recurrent state; feeding an
    episode's steps gives the same rewards as :meth:`LSTMRedistributor.redistribute`
    (up to float32 rounding of the predictions; the sum is exact).
    """

    __slots__ = ("_recurrent", "_redistributor", "last_prediction", "steps")

    def __init__(self, redistributor: LSTMRedistributor) -> None:
        self._redistributor = redistributor
        self.reset(None)

    def reset(self, observation: Any) -> None:  # noqa: ARG002 - OnlineRedistributionState passes s_0
        """Starts a new episode (the LSTM reads s_0 with the first step's input)."""
        self._recurrent: Any = None
        self.last_prediction = 0.0
        self.steps = 0
        self._start_episode()

    def step(
        self,
        observation: Any,
        action: Any,
        next_observation: Any,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: Mapping[str, Any],  # noqa: ARG002
    ) -> float:
        """The redistributed reward of the transition ``observation, action -> next_observation``:
        g_t - g_{t-1} once the quality gate is open, else ``reward``."""
        redistributor = self._redistributor
        self.steps += 1
        if redistributor.is_reliable:
            features = redistributor.features.step(observation, action, next_observation)
            with torch.no_grad():
                predicted, self._recurrent = redistributor.model(
                    torch.from_numpy(features)[None, None], self._recurrent
                )
            prediction = float(predicted[0, 0]) * redistributor.return_scale
            redistributed = prediction - self.last_prediction
            self.last_prediction = prediction
        else:
            redistributed = float(reward)
        return self._settle(redistributed, reward, terminated or truncated, redistributor.settings.correction)

    @property
    def score(self) -> float:
        """The current return prediction g_t."""
        return self.last_prediction

    @property
    def position(self) -> int:
        """Steps taken in this episode."""
        return self.steps
