"""A delayed-reward choice task: one decisive action, rewarded only ``delay`` steps later.

The RUDDER paper's kind of artificial task (arXiv 1806.07857, section 4): at the first
step the agent chooses left (0) or right (1); then ``delay`` more steps follow in which
its actions do nothing but a distractor position ``x`` random-walks in [-width, width];
the last step pays 1 if the first choice was right (1). Choosing left (0) pays a small
``lure`` at once, so a learner that cannot see past the delay settles for it. The observation (a
``Discrete`` index) is the Markov state (t, choice, x), so temporal-difference learning
must carry the reward back through ``delay`` states, while RUDDER can move it to the
first step.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


class DelayedChoiceEnv(gym.Env):
    """One decisive choice, paid ``delay`` steps later.

    Args:
        delay: steps between the choice and the reward (>= 1).
        width: the distractor walks in [-width, width] (0: no distractor).
        lure: the immediate reward of the wrong choice, in [0, 1).
    """

    metadata = {"render_modes": []}

    def __init__(self, delay: int = 10, *, width: int = 3, lure: float = 0.1) -> None:
        if delay < 1:
            raise ValueError(f"`delay` must be >= 1, got {delay}")
        if width < 0:
            raise ValueError(f"`width` must be >= 0, got {width}")
        if not 0.0 <= lure < 1.0:
            raise ValueError(f"`lure` must be in [0, 1), got {lure}")
        self.lure = float(lure)
        self.delay = int(delay)
        self.width = int(width)
        self._positions = 2 * self.width + 1
        # state 0: before the choice; then (t in 1..delay, choice, x)
        self.observation_space = gym.spaces.Discrete(1 + self.delay * 2 * self._positions)
        self.action_space = gym.spaces.Discrete(2)
        self._t = 0
        self._choice = 0
        self._x = 0

    def state_index(self) -> int:
        if self._t == 0:
            return 0
        return 1 + ((self._t - 1) * 2 + self._choice) * self._positions + (self._x + self.width)

    def features(self) -> tuple[float, float, float]:
        """The state as three numbers for a function approximator, each in [-1, 1]:
        ``(t / delay, choice, x / width)``, with the choice 0.5 before it is made (and
        ``x / 1`` when there is no distractor)."""
        return (self._t / self.delay, float(self._choice) if self._t else 0.5, self._x / max(self.width, 1))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._t, self._choice, self._x = 0, 0, 0
        return self.state_index(), {}

    def step(self, action):
        if not self.action_space.contains(action):
            raise ValueError(f"invalid action {action!r}; expected 0 or 1")
        reward = 0.0
        if self._t == 0:
            self._choice = int(action)
            reward = self.lure if self._choice == 0 else 0.0
        elif self.width:
            self._x = int(np.clip(self._x + self.np_random.choice((-1, 1)), -self.width, self.width))
        self._t += 1
        terminated = self._t > self.delay
        if terminated:
            self._t = self.delay  # the last state repeats the final (t, choice, x)
        if terminated and self._choice == 1:
            reward += 1.0
        return self.state_index(), reward, terminated, False, {"choice": self._choice}
