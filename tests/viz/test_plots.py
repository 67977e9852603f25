"""Tests that the pictures are drawn (content is checked by eye; here: files and errors)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from rudder.viz import plot_alignment, plot_redistribution  # noqa: E402


def test_plot_alignment_many_events(tmp_path):
    rng = np.random.default_rng(0)
    rows = rng.integers(-1, 30, size=(5, 40))
    path = tmp_path / "alignment.png"
    plot_alignment(rows, [f"event {k}" for k in range(30)], path, consensus_columns=[1, 5])
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_plot_redistribution(tmp_path):
    path = tmp_path / "rewards.png"
    plot_redistribution(np.r_[np.zeros(9), 1.0], np.full(10, 0.1), path, event_steps=[2, 5], event_labels=["a", "b"])
    assert path.read_bytes()[:4] == b"\x89PNG"
