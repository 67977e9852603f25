"""Does a profile generalise? Held-out diagnostics of an alignment redistributor.

A profile fitted on a handful of demonstrations can look fine on them and still say
nothing about other episodes. :func:`ordering_diagnostics` fits the redistributor ``folds``
times, each time without one part of the demonstrations, scores the held-out
demonstrations and any other episodes (for example random rollouts) with the profile
score gain ``S_T - S_0`` (the progress a full episode shows), and reports how well that
gain orders the episodes by their true return: the concordance of
:func:`~rudder.redistribution.gate.concordance` (1: perfect, 0.5: chance) and the share of
held-out demonstrations that score above every other episode. ``rudder align --others``
prints it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np

from rudder.data.episode import Episode, check_episodes
from rudder.redistribution.alignment import AlignmentRedistributor
from rudder.redistribution.gate import concordance

__all__ = ["OrderingDiagnostics", "ordering_diagnostics"]


@dataclasses.dataclass(frozen=True)
class OrderingDiagnostics:
    """What :func:`ordering_diagnostics` measured.

    Attributes:
        events_per_demonstration: shape (n,): events the encoder found in each demonstration.
        held_out_gains: shape (n,): each demonstration's score gain under the profile fitted
            without it.
        other_gains: shape (m,): each other episode's score gain (the mean over the folds).
        concordance: how well the gains order the held-out demonstrations and the other
            episodes by return (None when all their returns are equal).
        demonstrations_above_others: share of held-out demonstrations whose gain exceeds
            every other episode's (None without other episodes).
        folds: how many fits.
    """

    events_per_demonstration: np.ndarray
    held_out_gains: np.ndarray
    other_gains: np.ndarray
    concordance: float | None
    demonstrations_above_others: float | None
    folds: int

    def format(self) -> str:
        """A few lines of text for the command line."""
        events = self.events_per_demonstration
        lines = [
            f"Events per demonstration: min {events.min()}, median {np.median(events):g}, max {events.max()}",
            f"Held out ({self.folds} folds): demonstration score gains median {np.median(self.held_out_gains):.3f}"
            + (f", other episodes median {np.median(self.other_gains):.3f}" if self.other_gains.size else ""),
        ]
        if self.concordance is None:
            lines.append("Ordering by return: no two returns differ, nothing to order")
        else:
            verdict = "good" if self.concordance >= 0.75 else "weak" if self.concordance > 0.5 else "none"
            lines.append(f"Ordering by return (concordance, 0.5 = chance): {self.concordance:.3f} ({verdict})")
        if self.demonstrations_above_others is not None:
            lines.append(f"Held-out demonstrations above every other episode: {self.demonstrations_above_others:.0%}")
        return "\n".join(lines)


def _gain(redistributor: AlignmentRedistributor, episode: Episode) -> float:
    scores = redistributor.prefix_scores(episode)
    return float(scores[-1] - scores[0])


def ordering_diagnostics(
    demonstrations: Sequence[Episode],
    make_redistributor: Callable[[], AlignmentRedistributor],
    *,
    others: Sequence[Episode] = (),
    folds: int = 5,
    seed: int = 0,
) -> OrderingDiagnostics:
    """Fits ``make_redistributor()`` ``folds`` times without one fold of the demonstrations
    and scores what it did not see.

    Args:
        demonstrations: at least 3 (each fit keeps at least 2).
        make_redistributor: a new, unfitted redistributor per call (same settings each time).
        others: other episodes (random rollouts, the agent's own), scored by every fit.
        folds: number of folds, clipped to the number of demonstrations.
        seed: the shuffle of the demonstrations into folds.

    Raises:
        ValueError: for fewer than 3 demonstrations or fewer than 2 folds.
    """
    demonstrations = check_episodes(demonstrations)
    others = check_episodes(others) if len(others) else []
    if len(demonstrations) < 3:
        raise ValueError(f"held-out diagnostics need at least 3 demonstrations, got {len(demonstrations)}")
    folds = min(int(folds), len(demonstrations))
    if folds < 2:
        raise ValueError(f"`folds` must be >= 2, got {folds}")
    order = np.random.default_rng(seed).permutation(len(demonstrations))
    held_out = np.zeros(len(demonstrations))
    other_gains = np.zeros((folds, len(others)))
    events = np.zeros(len(demonstrations), dtype=np.int64)
    for fold, part in enumerate(np.array_split(order, folds)):
        held = set(part.tolist())
        kept = [demonstrations[index] for index in order if index not in held]
        redistributor = make_redistributor().fit(kept)
        for index in part:
            held_out[index] = _gain(redistributor, demonstrations[index])
            events[index] = len(redistributor.encoder.encode(demonstrations[index]).events)
        other_gains[fold] = [_gain(redistributor, episode) for episode in others]
    mean_other = other_gains.mean(axis=0) if len(others) else np.zeros(0)
    returns = np.array([episode.episode_return for episode in [*demonstrations, *others]])
    measured = concordance(np.concatenate([held_out, mean_other]), returns)
    above = None if not len(others) else float(np.mean(held_out > mean_other.max()))
    return OrderingDiagnostics(
        events_per_demonstration=events,
        held_out_gains=held_out,
        other_gains=mean_other,
        concordance=measured,
        demonstrations_above_others=above,
        folds=folds,
    )
