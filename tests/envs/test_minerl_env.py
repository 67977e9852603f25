"""Live MineRL environments: a clear error when the optional ``minerl`` is missing."""

from __future__ import annotations

import sys

import pytest

from rudder.envs.minerl import make_minerl_env, require_minerl
from rudder.errors import DependencyNotInstalled


def test_make_minerl_env_without_minerl(monkeypatch):
    monkeypatch.setitem(sys.modules, "minerl", None)  # `import minerl` now raises ImportError
    with pytest.raises(
        DependencyNotInstalled, match=r'pip install "align-rudder\[minerl\]".*Java 8'
    ):
        make_minerl_env("MineRLObtainDiamond-v0")
    with pytest.raises(ImportError):
        require_minerl()
