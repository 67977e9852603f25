"""Every Python snippet of the README runs as written (each in a fresh interpreter, in an
empty folder, so what it saves does not land in the checkout)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
SNIPPETS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
#: Snippets that train PPO or an LSTM for a few thousand steps (run with -m slow).
SLOW = ("model.learn(",)


def test_the_readme_has_python_snippets():
    assert len(SNIPPETS) >= 4


@pytest.mark.parametrize(
    "snippet",
    [pytest.param(code, marks=[pytest.mark.slow] if any(word in code for word in SLOW) else [], id=f"snippet{index}")
     for index, code in enumerate(SNIPPETS)],
)
def test_snippet_runs(snippet, tmp_path):
    if "stable_baselines3" in snippet:
        pytest.importorskip("stable_baselines3")
    result = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
