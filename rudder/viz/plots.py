"""Matplotlib pictures: the multiple alignment and the redistributed reward of an episode."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rudder.errors import DependencyNotInstalled

if TYPE_CHECKING:
    from rudder.redistribution.alignment import AlignmentRedistributor

__all__ = ["plot_alignment", "plot_redistribution", "plot_redistributor_alignment"]


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise DependencyNotInstalled(
            'drawing pictures needs matplotlib: pip install "align-rudder[viz]"'
        ) from error
    return plt


def _event_colours(num_events: int) -> np.ndarray:
    """Shape (num_events, 4): distinct RGBA colours (tab20, then evenly spaced hues)."""
    plt = _pyplot()
    if num_events <= 20:
        return plt.get_cmap("tab20")(np.arange(num_events))
    return plt.get_cmap("hsv")(np.linspace(0.0, 1.0, num_events, endpoint=False))


def plot_alignment(
    rows: np.ndarray,
    event_names: Sequence[str],
    path: str | os.PathLike,
    *,
    consensus_columns: Sequence[int] = (),
    row_labels: Sequence[str] | None = None,
    title: str = "Multiple alignment of demonstrations",
) -> None:
    """Draws an alignment: rows = sequences, columns = alignment columns, one colour per event.

    Args:
        rows: shape (n, L), int: event ids, -1 for gaps (drawn white).
        event_names: name of every event id (the legend).
        path: the PNG file to write.
        consensus_columns: columns to mark as sub-goals (a triangle above the column).
        row_labels: one label per row (default "demo 0", "demo 1", ...).
        title: figure title.
    """
    plt = _pyplot()
    rows = np.asarray(rows)
    num_rows, length = rows.shape
    colours = _event_colours(len(event_names))
    image = np.ones((num_rows, length, 4))
    present = rows >= 0
    image[present] = colours[np.clip(rows[present], 0, len(event_names) - 1)]
    width = min(max(8.0, 0.22 * length + 4.0), 40.0)
    height = min(max(2.5, 0.35 * num_rows + 1.8), 30.0)
    figure, axes = plt.subplots(figsize=(width, height))
    axes.imshow(image, aspect="auto", interpolation="nearest")
    axes.set_yticks(range(num_rows))
    axes.set_yticklabels(row_labels if row_labels is not None else [f"demo {i}" for i in range(num_rows)])
    axes.set_xlabel("alignment column")
    axes.set_xlim(-0.5, length - 0.5)
    used = sorted({int(e) for e in rows[present]})
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[e]) for e in used]
    labels = [event_names[e] for e in used]
    if len(consensus_columns):
        marker = axes.scatter(
            list(consensus_columns), [-0.75] * len(consensus_columns), marker="v", color="black", s=30, clip_on=False
        )
        handles.append(marker)
        labels.append(f"consensus sub-goal ({len(consensus_columns)})")
    axes.set_title(title, fontsize=11, pad=12)
    axes.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def plot_redistributor_alignment(redistributor: AlignmentRedistributor, path: str | os.PathLike) -> None:
    """Draws a fitted :class:`~rudder.redistribution.AlignmentRedistributor`'s alignment of
    its demonstrations (event names, consensus sub-goal columns marked) to ``path``."""
    plot_alignment(
        redistributor.alignment.rows,
        redistributor.encoder.alphabet.names,
        path,
        consensus_columns=[goal.column for goal in redistributor.profile.consensus],
        row_labels=[f"demo {int(index)}" for index in redistributor.aligned_demos],
    )


def plot_redistribution(
    original_rewards: np.ndarray,
    redistributed_rewards: np.ndarray,
    path: str | os.PathLike,
    *,
    event_steps: Sequence[int] = (),
    event_labels: Sequence[str] = (),
    title: str = "Reward redistribution",
) -> None:
    """Draws the env reward and the redistributed reward of one episode, step by step.

    Args:
        original_rewards: shape (T,): the env's rewards.
        redistributed_rewards: shape (T,): the redistributed rewards.
        path: the PNG file to write.
        event_steps: state indices (1..T) at which events were emitted, marked on the axis.
        event_labels: the name of each of those events.
        title: figure title.
    """
    plt = _pyplot()
    steps = np.arange(len(original_rewards))
    figure, axes = plt.subplots(figsize=(max(6.0, 0.12 * len(steps) + 4.0), 3.6))
    axes.bar(steps - 0.2, original_rewards, width=0.4, label=f"env reward (sum {np.sum(original_rewards):.3f})")
    axes.bar(steps + 0.2, redistributed_rewards, width=0.4, label=f"redistributed (sum {np.sum(redistributed_rewards):.3f})")
    for step, label in zip(event_steps, event_labels):
        if step >= 1:
            axes.axvline(step - 1, color="grey", lw=0.5, ls=":")
            axes.annotate(label, (step - 1, axes.get_ylim()[1]), fontsize=6, rotation=90, va="top", ha="right")
    axes.set_xlabel("step t")
    axes.set_ylabel("reward")
    axes.set_title(title)
    axes.legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
