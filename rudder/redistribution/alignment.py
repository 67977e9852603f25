"""Align-RUDDER: reward redistribution by alignment to a profile of demonstrations.

Reference: Patil et al., "Align-RUDDER: Learning From Few Demonstrations by Reward
Redistribution", arXiv 2009.14108.

With S_k the profile score of the events emitted up to state s_k (events at reset
included in S_0), two forms of reward for step t (the transition s_t -> s_{t+1}) are
offered (:attr:`AlignmentSettings.form`):

- ``"difference"`` (the paper's, the default): R_{t+1} = C * (S_{t+1} - S_t), and at the
  last step of an episode the correction G - sum(R) is added, so that the redistributed
  rewards of every episode sum exactly to its return (return equivalence: the optimal
  policies of an undiscounted learner do not change).
- ``"potential"`` (for learners that discount by gamma < 1): potential-based shaping on
  top of the env reward, R_{t+1} = r_{t+1} + gamma * Phi(s_{t+1}) - Phi(s_t) with
  Phi(s_k) = C * (S_k - S_0), Phi = 0 at a terminal state (not at a truncated one, where
  the learner bootstraps). The discounted return changes by -Phi(s_0) = 0 on every
  terminated episode, so the optimal policies of the gamma-discounted task do not change
  (Ng, Harada and Russell 1999), whatever C is.

Optionally the result is mixed with the environment reward: (1 - w) * R + w * r (for the
difference form both sum to G, so the mix does too; for the potential form it is shaping
with (1 - w) * Phi).

The scale C (:meth:`AlignmentRedistributor.fit`) pays demonstrated progress in units of
return: mean demo return / mean demo score gain (S_T - S_0) when the demonstrations earn a
positive mean return; fitted against non-demonstration episodes when they are given; and
a documented positive fallback otherwise, so that demonstrated progress is never paid
negatively (:attr:`AlignmentRedistributor.scale_source` records which).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeVar

import numpy as np

from rudder.alignment import MultipleAlignment, ScoringScheme, align_sequences, event_frequencies
from rudder.data.episode import Episode, check_episodes
from rudder.data.io import check_same_shapes
from rudder.errors import AlignmentError, NotFittedError
from rudder.events.base import EventEncoder, EventSequence, EventStream
from rudder.profile.model import PrefixScorer, ProfileModel
from rudder.redistribution.base import ReturnBookkeeping, terminal_reward

__all__ = ["FALLBACK_SHARE", "AlignmentRedistributor", "AlignmentSettings", "OnlineRedistribution", "ScaleSource"]

#: How the scale C was chosen: from the demonstrations alone (mean return / mean score
#: gain), by least squares over the demonstrations and other episodes, or a fallback.
ScaleSource = Literal["demonstrations", "demonstrations and others", "fallback"]

#: The share of the returns' size that the fallback scale pays when the demonstrations do
#: not out-earn the other episodes (see :meth:`AlignmentRedistributor.fit`).
FALLBACK_SHARE = 0.1


#: The fields of :class:`AlignmentSettings` by type, checked on construction (and so on load).
_REAL_SETTINGS = (
    "match_scale", "mismatch_score", "gap_score", "pseudocount", "insert_score", "delete_score",
    "consensus_threshold", "env_reward_weight", "discount",
)
_BOOL_SETTINGS = ("delete_by_occupancy", "correction")
_INTEGER_SETTINGS = ("refine_passes", "top_n")
#: The documented range of some fields of :class:`AlignmentSettings`: (field, test, range).
_SETTING_RANGES: tuple[tuple[str, Callable[[float], bool], str], ...] = (
    ("gap_score", lambda value: value <= 0.0, "<= 0"),
    ("insert_score", lambda value: value <= 0.0, "<= 0"),
    ("delete_score", lambda value: value <= 0.0, "<= 0"),
    ("pseudocount", lambda value: value > 0.0, "> 0"),
    ("consensus_threshold", lambda value: 0.0 < value <= 1.0, "in (0, 1]"),
    ("refine_passes", lambda value: value >= 0, ">= 0"),
)


def _is_real(value: object) -> bool:
    """Whether ``value`` is a real number (int, float or a numpy one), not a bool."""
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_integer(value: object) -> bool:
    """Whether ``value`` is an integer (int or a numpy one), not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@dataclasses.dataclass(frozen=True)
class AlignmentSettings:
    """Knobs of the alignment and the profile (saved with the model).

    Attributes:
        scoring_form: "paper" (self-match 1/p) or "official" (self-match -0.2 ln p).
        match_scale: factor on the self-match scores.
        mismatch_score: score of two different events in the multiple alignment.
        gap_score: linear gap score of the multiple alignment (<= 0).
        guide_tree: "upgma" or "nj".
        refine_passes: passes of leave-one-out refinement of the multiple alignment (>= 0).
        top_n: align only the n demonstrations with the highest return (None: all).
        pseudocount: pseudocount weight of the profile (> 0).
        insert_score: profile score of an episode event matching no column (<= 0).
        delete_score: profile score of a skipped profile column (<= 0).
        delete_by_occupancy: a skipped column costs ``delete_score`` times the share of
            demonstrations with an event in it (see :class:`~rudder.profile.ProfileModel`).
        consensus_threshold: share of demonstrations a sub-goal column needs.
        correction: add G - sum(R) at the last step (return equivalence; "difference"
            form only).
        env_reward_weight: w in (1 - w) * R + w * r, in [0, 1].
        form: "difference" (C * (S_{t+1} - S_t) plus the correction G - sum(R): return
            equivalence, for undiscounted learners) or "potential" (the env reward plus
            gamma * Phi(s_{t+1}) - Phi(s_t), Phi = C * (S - S_0), Phi = 0 at termination:
            keeps the optimal policy of a learner that discounts by ``discount``).
        discount: gamma of the "potential" form, the learner's discount, in (0, 1].

    Every field is checked on construction (and so on load): numbers must be finite,
    ``consensus_threshold`` in (0, 1] and the others in the ranges given above.

    Raises:
        ValueError: naming the field, if one has the wrong type or is out of range.
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
    form: Literal["difference", "potential"] = "difference"
    discount: float = 0.99

    def __post_init__(self) -> None:
        for name in _REAL_SETTINGS:
            value = getattr(self, name)
            if not _is_real(value) or not math.isfinite(value):
                raise ValueError(f"`{name}` must be a finite number, got {value!r}")
        for name in _BOOL_SETTINGS:
            value = getattr(self, name)
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"`{name}` must be true or false, got {value!r}")
        for name in _INTEGER_SETTINGS:
            value = getattr(self, name)
            if not (value is None and name == "top_n") and not _is_integer(value):
                raise ValueError(f"`{name}` must be an integer, got {value!r}")
        for name, within, documented in _SETTING_RANGES:
            if not within(getattr(self, name)):
                raise ValueError(f"`{name}` must be {documented}, got {getattr(self, name)!r}")
        if self.scoring_form not in ("paper", "official"):
            raise ValueError(f"`scoring_form` must be 'paper' or 'official', got {self.scoring_form!r}")
        if self.guide_tree not in ("upgma", "nj"):
            raise ValueError(f"`guide_tree` must be 'upgma' or 'nj', got {self.guide_tree!r}")
        if self.top_n is not None and self.top_n < 1:
            raise ValueError(f"`top_n` must be None or >= 1, got {self.top_n}")
        if not 0.0 <= self.env_reward_weight <= 1.0:
            raise ValueError(f"`env_reward_weight` must be in [0, 1], got {self.env_reward_weight}")
        if self.form not in ("difference", "potential"):
            raise ValueError(f"`form` must be 'difference' or 'potential', got {self.form!r}")
        if not 0.0 < self.discount <= 1.0:
            raise ValueError(f"`discount` must be in (0, 1], got {self.discount}")


class AlignmentRedistributor:
    """Redistributes delayed reward by aligning an episode's events to a profile.

    The fitted parts (:attr:`profile`, :attr:`alignment`, :attr:`scoring`,
    :attr:`demo_returns`, :attr:`demo_scores`, :attr:`aligned_demos`) raise
    :class:`~rudder.errors.NotFittedError` when read before :meth:`fit`.

    Examples:
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

    Attributes:
        scale: C, the return paid per unit of profile score (set by :meth:`fit`).
        scale_source: how :meth:`fit` chose C: "demonstrations", "demonstrations and
            others" or "fallback" (None before :meth:`fit`).
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
        self.scale_source: ScaleSource | None = None
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
    def fit(
        self,
        demonstrations: Sequence[Episode],
        *,
        fit_encoder: bool = True,
        other_episodes: Sequence[Episode] | None = None,
    ) -> AlignmentRedistributor:
        """Builds the profile from demonstrations and the scale C; returns ``self``.

        A single demonstration works: its profile is that one event sequence. The encoder
        and the profile come from the demonstrations only; ``other_episodes`` serve the
        scale C alone, which is chosen so that demonstrated progress is never paid
        negatively (:attr:`scale_source` records the rule; g is an episode's score gain
        S_T - S_0 and G its return):

        - no ``other_episodes`` and a positive mean demo return: C = mean G / mean g over
          the demonstrations (``"demonstrations"``, the paper's scale).
        - ``other_episodes`` (for example random rollouts): C is the slope of the least
          squares line G = C * g + b through the demonstrations and the other episodes
          together (``"demonstrations and others"``): a unit of profile score is paid what
          it is worth in return, with the intercept b absorbing per-step costs or a
          constant offset. If the slope is not positive, the score does not predict the
          return: a ``UserWarning`` names both groups' mean returns and C falls back to
          ``FALLBACK_SHARE`` (0.1) * mean |G| / mean demo g, over all episodes
          (``"fallback"``): progress is still paid, but little, so that the env return,
          paid by the correction at the end, dominates. The warning is also given (with
          the fitted slope kept) when the demonstrations' mean return is not above the
          others'.
        - no ``other_episodes`` and a mean demo return <= 0 (per-step costs, mixed signs):
          C = mean |G| / mean g over the demonstrations (``"fallback"``), with a
          ``UserWarning``. A demonstration's progress is then paid about the size of its
          return, as the paper's scale pays it for positive returns, but with the sign
          that rewards progress (the correction at the end settles the return). The size
          is a guess: nothing says how much worse episodes without the demonstrated
          progress do, so pass ``other_episodes`` to fit it. If every return is 0,
          mean |G| is taken as 1.

        Args:
            demonstrations: episodes that show the task; shape-compatible with each other.
            fit_encoder: fit :attr:`encoder` on the demonstrations first.
            other_episodes: non-demonstration episodes of the same task (random rollouts,
                a weaker policy's episodes), the same shapes as the demonstrations; used
                only to fit the scale C.

        Raises:
            ValueError: if there are no demonstrations, ``other_episodes`` is empty, the
                shapes differ, or the returns are so large that the scale C overflows.
            AlignmentError: if no demonstration emits any event, or the demonstrations
                score zero against their own profile.
        """
        demonstrations = check_episodes(demonstrations, name="demonstrations")
        check_same_shapes(demonstrations, name="demonstrations")
        others: list[Episode] | None = None
        if other_episodes is not None:
            others = check_episodes(other_episodes, name="other_episodes")
            check_same_shapes([*demonstrations, *others], name="demonstrations and other_episodes")
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
        with np.errstate(over="ignore", invalid="ignore"):
            if others is None:
                scale, source = _scale_from_demonstrations(returns, gains)
            else:
                other_returns = np.array([episode.episode_return for episode in others])
                other_gains = np.array([self._score_gain(sequence) for sequence in self.encoder.encode_all(others)])
                scale, source = _scale_from_all_episodes(returns, gains, other_returns, other_gains)
        if not math.isfinite(scale):
            raise ValueError(
                f"the scale C is not finite ({scale}): the episodes' returns (largest "
                f"{float(np.abs(returns).max()):.6g}) or score gains overflow float64 arithmetic; "
                "rescale the rewards (for example divide them by their largest size) and fit again"
            )
        self.scale, self.scale_source = scale, source
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

        "difference" form: with ``correction`` on and a finished episode (terminated or
        truncated), the rewards sum to the return exactly up to one rounding of the last reward.
        An episode of no steps (T = 0) gets an empty array, whose sum 0 is its return.
        "potential" form: the env rewards plus gamma * Phi(s_{t+1}) - Phi(s_t); on a
        terminated episode their gamma-discounted sum equals the env rewards' (Phi(s_0)
        = 0 and Phi(s_T) = 0), on a truncated one it exceeds it by gamma^T * Phi(s_T).
        """
        scores = self.prefix_scores(episode)
        if self.settings.form == "potential":
            potentials = self.scale * (scores - scores[0])
            if episode.terminated:
                potentials[-1] = 0.0
            rewards = episode.rewards + (self.settings.discount * potentials[1:] - potentials[:-1])
        else:
            rewards = self.scale * np.diff(scores)
            # An episode of no steps has return 0 and nothing to correct: its rewards are ().
            if self.settings.correction and (episode.terminated or episode.truncated) and episode.length:
                rewards[-1] = terminal_reward(episode.rewards, rewards)  # exact: see terminal_reward
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


def _return_size(returns: np.ndarray) -> float:
    """mean |G| of ``returns`` (shape (n,)), or 1 where every return is 0."""
    size = float(np.abs(returns).mean())
    return size if size > 0.0 else 1.0


def _scale_from_demonstrations(returns: np.ndarray, gains: np.ndarray) -> tuple[float, ScaleSource]:
    """C from the demonstrations' returns and score gains (shapes (n,)) alone; see
    :meth:`AlignmentRedistributor.fit`."""
    if returns.mean() > 0.0:
        return float(returns.mean() / gains.mean()), "demonstrations"
    scale = _return_size(returns) / float(gains.mean())
    warnings.warn(
        f"the demonstrations' mean return is {returns.mean():.6g} (not positive), so the scale C "
        f"cannot be mean return / mean score gain without punishing demonstrated progress; "
        f"using C = mean |return| / mean score gain = {scale:.6g} instead. Its size is a guess "
        "without non-demonstration episodes: pass other_episodes= (for example random rollouts) "
        "to fit() to fit it",
        UserWarning,
        stacklevel=3,
    )
    return scale, "fallback"


def _scale_from_all_episodes(
    demo_returns: np.ndarray, demo_gains: np.ndarray, other_returns: np.ndarray, other_gains: np.ndarray
) -> tuple[float, ScaleSource]:
    """C as the least-squares slope of return on score gain over demonstrations (shapes
    (n,)) and other episodes (shapes (m,)) together; see :meth:`AlignmentRedistributor.fit`."""
    returns = np.concatenate([demo_returns, other_returns])
    gains = np.concatenate([demo_gains, other_gains])
    centred = gains - gains.mean()
    spread = float(centred @ centred)
    slope = float(centred @ (returns - returns.mean())) / spread if spread > 1e-12 * float(gains @ gains) else 0.0
    demo_mean, other_mean = float(demo_returns.mean()), float(other_returns.mean())
    if slope > 0.0 and demo_mean > other_mean:
        return slope, "demonstrations and others"
    if slope > 0.0:
        warnings.warn(
            f"the demonstrations (mean return {demo_mean:.6g}) do not out-earn the other episodes "
            f"(mean return {other_mean:.6g}); the scale C = {slope:.6g} is fitted on both, but "
            "following the demonstrations may not pay",
            UserWarning,
            stacklevel=3,
        )
        return slope, "demonstrations and others"
    scale = FALLBACK_SHARE * _return_size(returns) / float(demo_gains.mean())
    warnings.warn(
        f"the demonstrations (mean return {demo_mean:.6g}) do not out-earn the other episodes "
        f"(mean return {other_mean:.6g}): the return does not grow with the profile score "
        f"(fitted slope {slope:.6g}), so the redistribution has nothing to pay for; using the "
        f"small fallback scale C = {FALLBACK_SHARE} * mean |return| / mean demo score gain = {scale:.6g}",
        UserWarning,
        stacklevel=3,
    )
    return scale, "fallback"


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

    __slots__ = (
        "_redistributor",
        "_stream",
        "_scorer",
        "_scale",
        "_correction",
        "_weight",
        "_discount",
        "_initial_score",
        "_potential",
        "last_score",
    )

    def __init__(self, redistributor: AlignmentRedistributor) -> None:
        self._redistributor = redistributor
        self._scorer: PrefixScorer = redistributor.profile.prefix_scorer()  # NotFittedError before fit
        self._stream: EventStream = redistributor.encoder.stream()
        self._scale = redistributor.scale
        self._correction = redistributor.settings.correction
        self._weight = redistributor.settings.env_reward_weight
        # gamma of the potential form; None: the difference form.
        self._discount: float | None = (
            redistributor.settings.discount if redistributor.settings.form == "potential" else None
        )
        self.last_score = 0.0
        self._initial_score = 0.0
        self._potential = 0.0
        self._start_episode()

    def reset(self, observation: Any) -> None:
        """Starts a new episode from observation s_0."""
        self._scorer.reset()
        for event in self._stream.reset(observation):
            self._scorer.add(event)
        self.last_score = self._initial_score = self._scorer.score
        self._potential = 0.0
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
        if self._discount is not None:
            return self._shaped(events, reward, terminated, truncated, self._discount)
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

    def _shaped(self, events: list[int], reward: float, terminated: bool, truncated: bool, discount: float) -> float:
        """The "potential" form: r + gamma * Phi(s_{t+1}) - Phi(s_t), Phi = 0 at termination."""
        if events:
            for event in events:
                self._scorer.add(event)
            self.last_score = self._scorer.score
            potential = self._scale * (self.last_score - self._initial_score)
        else:
            potential = self._potential
        shaped = reward + (discount * (0.0 if terminated else potential) - self._potential)
        self._potential = potential
        shaped = self._settle(shaped, reward, terminated or truncated, False)
        if self._weight:
            return (1.0 - self._weight) * shaped + self._weight * reward
        return shaped

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
