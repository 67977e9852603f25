"""Issue 16, item 12 (part): settings outside their documented range are refused.

``--gap-score 5`` (documented as <= 0) used to exit 0 with a degenerate alignment; every
:class:`AlignmentSettings` field documented with a range is now checked on construction,
so the command line, the library and model files all refuse it with a clear message.
"""

from __future__ import annotations

import dataclasses

import pytest

from rudder.cli import main
from rudder.data import save_episodes
from rudder.envs import frozen_lake_demonstrations
from rudder.redistribution import AlignmentSettings

OUT_OF_RANGE = [
    ("gap_score", 5.0),
    ("gap_score", 1e-9),
    ("delete_score", 0.5),
    ("insert_score", 2.0),
    ("pseudocount", 0.0),
    ("pseudocount", -1.0),
    ("consensus_threshold", 0.0),
    ("consensus_threshold", 1.5),
    ("refine_passes", -1),
]


def test_the_defaults_are_valid():
    defaults = AlignmentSettings()
    assert dataclasses.replace(defaults) == defaults


@pytest.mark.parametrize(("field", "value"), OUT_OF_RANGE)
def test_alignment_settings_out_of_range_are_refused(field, value):
    with pytest.raises(ValueError, match=f"`{field}` must be"):
        AlignmentSettings(**{field: value})


@pytest.mark.parametrize(("field", "value"), [("gap_score", 0.0), ("delete_score", -3.0), ("insert_score", 0.0),
                                              ("pseudocount", 1e-6), ("consensus_threshold", 1.0),
                                              ("refine_passes", 0)])
def test_alignment_settings_at_the_edge_of_their_range_are_accepted(field, value):
    assert getattr(AlignmentSettings(**{field: value}), field) == value


def test_gap_score_5_on_the_command_line_is_one_line_and_writes_nothing(tmp_path, capsys):
    demos = tmp_path / "demos.npz"
    save_episodes(demos, frozen_lake_demonstrations(4, seed=0))
    model = tmp_path / "model"
    assert main(["align", str(demos), "-o", str(model), "--gap-score", "5"]) == 2
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("rudder align: error: ") and "gap_score" in error[0]
    assert not model.exists()
