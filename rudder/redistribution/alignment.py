"""Align-RUDDER: reward redistribution by alignment to a profile of demonstrations.

Reference: Patil et al., "Align-RUDDER: Learning From Few Demonstrations by Reward
Redistribution", arXiv 2009.14108.

With S_k the profile score of the events emitted up to state s_k (events at reset
included in S_0), the reward of step t (the transition s_t -> s_{t+1}) is

    R_{t+1} = C * (S_{t+1} - S_t),    C = mean demo return / mean demo (S_T - S_0),

and at the last step of an episode the correction G - sum(R) is added, so that the
redistributed rewards of every episode sum exactly to its return (return equivalence:
the optimal policies do not change). Optionally the result is mixed with the
environment reward: (1 - w) * R + w * r; both sum to G, so the mix does too.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

import numpy as np

from rudder.alignment import MultipleAlignment, ScoringScheme, align_sequences, event_frequencies
from rudder.data.episode import Episode, check_episodes
from rudder.data.io import check_same_shapes
from rudder.errors import AlignmentError, NotFittedError
from rudder.events.base import EventEncoder, EventSequence, EventStream
from rudder.profile.model import PrefixScorer, ProfileModel
from rudder.redistribution.base import ReturnBookkeeping

__all__ = ["AlignmentRedistributor", "AlignmentSettings", "OnlineRedistribution"]


@dataclasses.dataclass(frozen=True)
class AlignmentSettings:
    """Knobs of the alignment and the profile (saved with the model).

    Attributes:
        scoring_form: "paper" (self-match 1/p) or "official" (self-match -0.2 ln p).
        match_scale: factor on the self-match scores.
        mismatch_score: score of two different events in the multiple alignment.
        gap_score: linear gap score of the multiple alignment (<= 0).
        guide_tree: "upgma" or "nj".
        refine_passes: passes of leave-one-out refinement of the multiple alignment.
        top_n: align only the n demonstrations with the highest return (None: all).
        pseudocount: pseudocount weight of the profile (> 0).
        insert_score: profile score of an episode event matching no column (<= 0).
        delete_score: profile score of a skipped profile column (<= 0).
        delete_by_occupancy: a skipped column costs ``delete_score`` times the share of
            demonstrations with an event in it (see :class:`~rudder.profile.ProfileModel`).
        consensus_threshold: share of demonstrations a sub-goal column needs.
        correction: add G - sum(R) at the last step (return equivalence).
        env_reward_weight: w in (1 - w) * R + w * r, in [0, 1].
    """

    scoring_form: Literal["paper", "official"] = "paper"
    match_scale: float = 1.0
    mismatch_score: float = -1.0
    gap_score: float = 0.0
    guide_tree: Literal["upgma", "nj"] = "upgma"
    refine_passes: int = 1
    top_n: int | None = None
    pseudocount: float = 1.0
    insert_score: float = 0.0
    delete_score: float = 0.0
    delete_by_occupancy: bool = True
    consensus_threshold: float = 0.8
    correction: bool = True
    env_reward_weight: float = 0.0

    def __post_init__(self) -> None:
        if self.scoring_form not in ("paper", "official"):
            raise ValueError(f"`scoring_form` must be 'paper' or 'official', got {self.scoring_form!r}")
        if self.guide_tree not in ("upgma", "nj"):
            raise ValueError(f"`guide_tree` must be 'upgma' or 'nj', got {self.guide_tree!r}")
        if self.top_n is not None and self.top_n < 1:
            raise ValueError(f"`top_n` must be None or >= 1, got {self.top_n}")
        if not 0.0 <= self.env_reward_weight <= 1.0:
            raise ValueError(f"`env_reward_weight` must be in [0, 1], got {self.env_reward_weight}")


class AlignmentRedistributor:
    """Redistributes delayed reward by aligning an episode's events to a profile.

    The fitted parts (:attr:`profile`, :attr:`alignment`, :attr:`scoring`,
    :attr:`demo_returns`, :attr:`demo_scores`, :attr:`aligned_demos`) raise
    :class:`~rudder.errors.NotFittedError` when read before :meth:`fit`.

    Example:
        >>> import numpy as np
        >>> from rudder import CallableEventEncoder, Episode
        >>> def entered(observation, action, next_observation, info):
        ...     return int(next_observation)                   # event: the state entered
        >>> demo = Episode(observations=np.array([0, 1, 2, 3]), actions=np.zeros(3, dtype=int),
        ...                rewards=np.array([0.0, 0.0, 1.0]), terminated=True)
        >>> redistributor = AlignmentRedistributor(CallableEventEncoder(entered)).fit([demo, demo])
        >>> redistributor.redistribute(demo).round(3)          # shape (T,), sums to G
        array([0.333, 0.333, 0.333])
        >>> state = redistributor.start(0)                     # the same, online
        >>> [round(state.step(t, 0, t + 1, float(t == 2), t == 2, False, {}), 3) for t in range(3)]
        [0.333, 0.333, 0.333]

        ``RedistributedReward(env, redistributor)`` runs the online state inside a
        gymnasium environment.

    Args:
        encoder: maps steps to events; fitted on the demonstrations by :meth:`fit`
            unless ``fit_encoder=False`` there.
        **settings: fields of :class:`AlignmentSettings`.
    """

    def __init__(self, encoder: EventEncoder, **settings: Any) -> None:
        if not isinstance(encoder, EventEncoder):
            raise TypeError(f"`encoder` must be an EventEncoder, got {type(encoder).__name__}")
        self.encoder = encoder
        self.settings = AlignmentSettings(**settings)
        self._profile: ProfileModel | None = None
        self._alignment: MultipleAlignment | None = None
        self._scoring: ScoringScheme | None = None
        self.scale: float = 1.0
        self._demo_returns: np.ndarray | None = None
        self._demo_scores: np.ndarray | None = None
        self._aligned_demos: np.ndarray | None = None

    # -- fitted parts ---------------------------------------------------------------
    @property
    def profile(self) -> ProfileModel:
        """The profile (PSSM) of the aligned demonstrations."""
        return _fitted(self._profile)

    @profile.setter
    def profile(self, value: ProfileModel) -> None:
        self._profile = value

    @property
    def alignment(self) -> MultipleAlignment:
        """The multiple alignment of the demonstrations' event sequences."""
        return _fitted(self._alignment)

    @alignment.setter
    def alignment(self, value: MultipleAlignment) -> None:
        self._alignment = value

    @property
    def scoring(self) -> ScoringScheme:
        """The scoring scheme of the multiple alignment."""
        return _fitted(self._scoring)

    @scoring.setter
    def scoring(self, value: ScoringScheme) -> None:
        self._scoring = value

    @property
    def demo_returns(self) -> np.ndarray:
        """Shape (n,): the return of each fitted demonstration."""
        return _fitted(self._demo_returns)

    @demo_returns.setter
    def demo_returns(self, value: np.ndarray) -> None:
        self._demo_returns = value

    @property
    def demo_scores(self) -> np.ndarray:
        """Shape (n,): the profile score gain S_T - S_0 of each fitted demonstration."""
        return _fitted(self._demo_scores)

    @demo_scores.setter
    def demo_scores(self, value: np.ndarray) -> None:
        self._demo_scores = value

    @property
    def aligned_demos(self) -> np.ndarray:
        """Shape (rows,), int64: the index (into the fitted demonstrations) of each
        alignment row."""
        return _fitted(self._aligned_demos)

    @aligned_demos.setter
    def aligned_demos(self, value: np.ndarray) -> None:
        self._aligned_demos = value

    # -- fitting --------------------------------------------------------------------
    def fit(self, demonstrations: Sequence[Episode], *, fit_encoder: bool = True) -> AlignmentRedistributor:
        """Builds the profile from demonstrations and the scale C; returns ``self``.

        A single demonstration works: its profile is that one event sequence.

        Raises:
            ValueError: if there are no demonstrations or their shapes differ.
            AlignmentError: if no demonstration emits any event, or the demonstrations
                score zero against their own profile.
        """
        demonstrations = check_episodes(demonstrations, name="demonstrations")
        check_same_shapes(demonstrations, name="demonstrations")
        if fit_encoder:
            self.encoder.fit(demonstrations)
        num_events = len(self.encoder.alphabet)
        sequences = self.encoder.encode_all(demonstrations)
        returns = np.array([episode.episode_return for episode in demonstrations])
        with_events = [i for i, sequence in enumerate(sequences) if len(sequence) > 0]
        if not with_events:
            raise AlignmentError(
                f"none of the {len(demonstrations)} demonstrations emits any event with "
                f"{type(self.encoder).__name__}; choose an encoder that sees what the "
                "demonstrations do"
            )
        chosen = sorted(with_events, key=lambda i: (-returns[i], i))
        if self.settings.top_n is not None:
            chosen = chosen[: self.settings.top_n]
        chosen.sort()
        event_arrays = [sequences[i].events for i in range(len(sequences))]
        frequencies = event_frequencies(event_arrays, num_events)
        self.scoring = ScoringScheme.from_frequencies(
            frequencies,
            form=self.settings.scoring_form,
            match_scale=self.settings.match_scale,
            mismatch_score=self.settings.mismatch_score,
            gap_score=self.settings.gap_score,
        )
        self.alignment = align_sequences(
            [event_arrays[i] for i in chosen],
            self.scoring,
            guide_tree=self.settings.guide_tree,
            refine_passes=self.settings.refine_passes,
        )
        self.aligned_demos = np.asarray(chosen, dtype=np.int64)
        self.profile = ProfileModel.from_alignment(
            self.alignment.rows,
            num_events,
            background=frequencies,
            pseudocount=self.settings.pseudocount,
            insert_score=self.settings.insert_score,
            delete_score=self.settings.delete_score,
            consensus_threshold=self.settings.consensus_threshold,
            delete_by_occupancy=self.settings.delete_by_occupancy,
        )
        gains = np.array([self._score_gain(sequence) for sequence in sequences])
        if gains.mean() <= 1e-12:
            raise AlignmentError(
                "the demonstrations score zero against their own profile, so no reward can be "
                "redistributed; use an encoder with more distinct events or a lower pseudocount"
            )
        self.scale = float(returns.mean() / gains.mean())
        self.demo_returns = returns
        self.demo_scores = gains
        return self

    def _score_gain(self, sequence: EventSequence) -> float:
        """S_T - S_0 of one event sequence (events at reset are not paid)."""
        scorer = self.profile.prefix_scorer()
        at_reset = int(np.searchsorted(sequence.steps, 1))
        for event in sequence.events[:at_reset]:
            scorer.add(int(event))
        initial = scorer.score
        for event in sequence.events[at_reset:]:
            scorer.add(int(event))
        return scorer.score - initial

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` has run (or the model was loaded)."""
        return self._profile is not None

    @property
    def is_ready(self) -> bool:
        """Whether :meth:`redistribute` and :meth:`start` work: the same as :attr:`is_fitted`."""
        return self.is_fitted

    # -- offline --------------------------------------------------------------------
    def prefix_scores(self, episode: Episode) -> np.ndarray:
        """Shape (T+1,): S_0 .. S_T, the profile score of the events up to each state."""
        return self._prefix_trace(episode)[0]

    def prefix_positions(self, episode: Episode) -> np.ndarray:
        """Shape (T+1,), int64: the profile position (alignment progress) at each state,
        as :attr:`OnlineRedistribution.position` reports it online."""
        return self._prefix_trace(episode)[1]

    def _prefix_trace(self, episode: Episode) -> tuple[np.ndarray, np.ndarray]:
        profile = self.profile
        sequence = self.encoder.encode(episode)
        scores = np.empty(episode.length + 1)
        positions = np.empty(episode.length + 1, dtype=np.int64)
        scorer = profile.prefix_scorer()
        position = 0
        for step in range(episode.length + 1):
            while position < len(sequence) and sequence.steps[position] == step:
                scorer.add(int(sequence.events[position]))
                position += 1
            scores[step] = scorer.score
            positions[step] = scorer.position
        return scores, positions

    def redistribute(self, episode: Episode) -> np.ndarray:
        """Shape (T,): the redistributed reward of every step of ``episode``.

        With ``correction`` on and a finished episode (terminated or truncated), the
        rewards sum to ``episode.episode_return`` up to float rounding.
        """
        scores = self.prefix_scores(episode)
        rewards = self.scale * np.diff(scores)
        if self.settings.correction and (episode.terminated or episode.truncated):
            rewards[-1] += episode.episode_return - rewards.sum()
        weight = self.settings.env_reward_weight
        if weight:
            rewards = (1.0 - weight) * rewards + weight * episode.rewards
        return rewards

    # -- online ---------------------------------------------------------------------
    def start(self, observation: Any) -> OnlineRedistribution:
        """Begins online redistribution of one episode (one per environment)."""
        state = OnlineRedistribution(self)
        state.reset(observation)
        return state

    # -- saving ---------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes the fitted model to directory ``path`` (``model.json`` + ``arrays.npz``)."""
        from rudder.redistribution.serialization import save_alignment_model

        save_alignment_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str], **encoder_overrides: Any) -> AlignmentRedistributor:
        """Reads a model written by :meth:`save`; ``encoder_overrides`` reach the encoder
        (for example ``function=`` for a :class:`~rudder.events.CallableEventEncoder`)."""
        from rudder.redistribution.serialization import load_alignment_model

        return load_alignment_model(path, **encoder_overrides)


_Part = TypeVar("_Part")


def _fitted(part: _Part | None) -> _Part:
    """``part`` of a fitted redistributor, or :class:`NotFittedError` before :meth:`fit`."""
    if part is None:
        raise NotFittedError("AlignmentRedistributor is not fitted; call .fit(demonstrations) first")
    return part


class OnlineRedistribution(ReturnBookkeeping):
    """The causal, per-environment state of online redistribution.

    Made by :meth:`AlignmentRedistributor.start`. Feeding an episode's steps through
    :meth:`step` gives the same rewards as :meth:`AlignmentRedistributor.redistribute`.
    """

    __slots__ = ("_redistributor", "_stream", "_scorer", "_scale", "_correction", "_weight", "last_score")

    def __init__(self, redistributor: AlignmentRedistributor) -> None:
        self._redistributor = redistributor
        self._scorer: PrefixScorer = redistributor.profile.prefix_scorer()  # NotFittedError before fit
        self._stream: EventStream = redistributor.encoder.stream()
        self._scale = redistributor.scale
        self._correction = redistributor.settings.correction
        self._weight = redistributor.settings.env_reward_weight
        self.last_score = 0.0
        self._start_episode()

    def reset(self, observation: Any) -> None:
        """Starts a new episode from observation s_0."""
        self._scorer.reset()
        for event in self._stream.reset(observation):
            self._scorer.add(event)
        self.last_score = self._scorer.score
        self._start_episode()

    def step(
        self,
        observation: Any,
        action: Any,
        next_observation: Any,
        reward: float,
        terminated: bool,
        truncated: bool,
        info: Mapping[str, Any],
    ) -> float:
        """The redistributed reward of the transition ``observation, action -> next_observation``."""
        events = self._stream.step(observation, action, next_observation, info)
        if events:
            for event in events:
                self._scorer.add(event)
            score = self._scorer.score
            redistributed = self._scale * (score - self.last_score)
            self.last_score = score
        else:
            redistributed = 0.0
        redistributed = self._settle(redistributed, reward, terminated or truncated, self._correction)
        if self._weight:
            return (1.0 - self._weight) * redistributed + self._weight * reward
        return redistributed

    @property
    def score(self) -> float:
        """The current prefix score S_t."""
        return self.last_score

    @property
    def position(self) -> int:
        """Profile columns covered by the best alignment so far (alignment progress)."""
        return self._scorer.position

    @property
    def num_events(self) -> int:
        """Events emitted so far in this episode."""
        return self._scorer.num_events_seen
