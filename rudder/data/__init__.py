"""Episodes: the validated record of one run, and saving, loading and recording them.

The readers of recorded Minecraft play are submodules, imported on their own:
:mod:`rudder.data.minerl` (the MineRL v0.4 dataset) and :mod:`rudder.data.vpt` (VPT and
BASALT ``.jsonl`` logs); :mod:`rudder.data.reading` holds their shared helpers. Minari
datasets (:mod:`rudder.data.minari`) and imitation's trajectories
(:mod:`rudder.data.imitation_format`) are read by their own submodules too, and
:func:`load_demonstrations` reads any of ``PATH.npz``, ``minari:ID`` and ``imitation:PATH``.
"""

from rudder.data.episode import Episode, check_episodes
from rudder.data.io import EPISODES_FORMAT_VERSION, check_same_shapes, load_episodes, save_episodes
from rudder.data.record import record_episode, record_episodes
from rudder.data.sources import load_demonstrations

__all__ = [
    "EPISODES_FORMAT_VERSION",
    "Episode",
    "check_episodes",
    "check_same_shapes",
    "load_demonstrations",
    "load_episodes",
    "record_episode",
    "record_episodes",
    "save_episodes",
]
