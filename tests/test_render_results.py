"""scripts/render_results.py keeps the notes written by hand below a generated table."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "render_results.py"


def load_script():
    spec = importlib.util.spec_from_file_location("render_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GENERATED = "Command: `x`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nWall time 1,234 s.\n"


def test_notes_with_a_table_of_their_own_are_kept_whole():
    notes = "**How it was made.** By hand.\n\n| task | ratio |\n|---|---:|\n| A | 0.37 |\n\nThe end."
    kept = load_script().hand_written_notes(GENERATED + "\n" + notes + "\n")
    assert kept == ["**How it was made.** By hand.", "| task | ratio |\n|---|---:|\n| A | 0.37 |", "The end."]


def test_a_file_without_notes_has_none_and_one_without_a_wall_time_line_falls_back_to_the_last_table():
    module = load_script()
    assert module.hand_written_notes(GENERATED) == []
    assert module.hand_written_notes("| a |\n|---|\n| 1 |\n\nA note.\n") == ["A note."]
