"""Live MineRL environments, when the optional ``minerl`` package is installed.

- :func:`require_minerl` imports ``minerl`` or says how to install it.
- :func:`make_minerl_env` makes a live MineRL env (``pip install "align-rudder[minerl]"``).

Reading the recorded MineRL dataset needs neither ``minerl`` nor Java: that is
:mod:`rudder.data.minerl`; the item names, rewards and actions are in :mod:`rudder.minecraft`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from rudder.errors import DependencyNotInstalled

__all__ = ["make_minerl_env", "require_minerl"]


def require_minerl() -> ModuleType:
    """Imports and returns the ``minerl`` package.

    Raises:
        DependencyNotInstalled: if ``minerl`` is not installed; the message says how to
            install it.
    """
    try:
        import minerl
    except ImportError as error:
        raise DependencyNotInstalled(
            'MineRL environments need the minerl package: pip install "align-rudder[minerl]". '
            "minerl 0.4 needs Java 8 (JDK 8, not newer) and downloads and builds Minecraft "
            "with Gradle while it installs, so it needs internet access at install time. "
            "Reading the MineRL dataset (iter_minerl_episodes) works without it."
        ) from error
    return minerl


def make_minerl_env(env_id: str, **kwargs: Any) -> Any:
    """Makes a live MineRL environment, for example ``"MineRLObtainDiamond-v0"``.

    MineRL 0.4 registers its environments with the old ``gym`` package, so the env
    follows the old API (``reset() -> obs``, ``step() -> (obs, reward, done, info)``).

    Args:
        env_id: the MineRL environment id.
        **kwargs: passed to ``gym.make``.

    Returns:
        The old-``gym`` environment.

    Raises:
        DependencyNotInstalled: if ``minerl`` is not installed.
    """
    require_minerl()
    import gym

    return gym.make(env_id, **kwargs)
