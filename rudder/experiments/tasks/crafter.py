"""Crafter: PPO, BC, BC+PPO and Align-RUDDER on the open-world benchmark, scored by Crafter's metric.

Every run trains on ``rudder/Crafter-v0`` (:class:`~rudder.envs.crafter_tasks.CrafterEnv`,
the symbolic observation, Crafter's reward: +1 per achievement unlocked for the first
time in an episode and the change of health / 10) for the budget (Crafter's 1M env
steps) with the library's default settings, except that it runs the whole budget (no
target success rate) and that the sub-task agents read the step's events from
``info["achievement_increments"]`` (or ``info["inventory_change"]`` with ``--events
inventory``). Each (demonstrations, seed) records its own expert demonstrations
(:func:`~rudder.envs.crafter_tasks.record_crafter_demonstrations`, seed = the run's
seed); PPO uses none, so it runs once per seed. Align-RUDDER aligns the demonstrations'
achievements; the library's rule chooses sub-task agents or one network by the
consensus length.

Scored the way Crafter scores (:mod:`rudder.envs.crafter_tasks.scoring`): each
achievement's success rate over the training episodes finished within the budget, the
Crafter score of those rates per run, and a method's score as the mean and standard
deviation over its runs; the diamond rate is ``collect_diamond``'s success rate. Every
run also plays ``--final-episodes`` evaluation episodes with its final policy (sampled
actions, the same worlds for every method), scored the same way. Behaviour cloning has
no training episodes, so its row has the final evaluation only.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from rudder.envs.crafter_tasks.env import (
    ACHIEVEMENTS,
    DEATH_CAUSES,
    ZOMBIE_RESPONSES,
    zombie_response,
)
from rudder.envs.crafter_tasks.scoring import crafter_score, success_rates
from rudder.experiments.harness import Benchmark
from rudder.experiments.report import Metric
from rudder.experiments.results import ResultFile
from rudder.experiments.sb3 import SB3Task, SB3TaskSettings, run_sb3_job, task_run_settings
from rudder.experiments.sweep import Job, Progress

__all__ = [
    "CRAFTER",
    "CRAFTER_TASK",
    "ENDINGS",
    "PUBLISHED_SCORES",
    "CrafterSettings",
    "CrafterSweep",
    "crafter_jobs",
    "run_crafter",
    "run_expert",
]

NAMES = {"ppo": "PPO", "bc": "BC", "bc-ppo": "BC+PPO", "align-rudder": "Align-RUDDER", "expert": "scripted expert"}

PUBLISHED_SCORES: dict[str, float] = {
    "Human experts": 50.5,
    "SPRING (LLM planner)": 27.3,
    "Achievement Distillation": 21.8,
    "Curious Replay": 19.4,
    "PPO (ResNet)": 15.6,
    "DreamerV3": 14.5,
    "PPO (stable-baselines3)": 4.6,
    "Random": 1.6,
}
"""Published Crafter scores after 1M env steps (percent), for comparison."""

_CHANGE_KEYS = {"achievements": "achievement_increments", "inventory": "inventory_change"}


@dataclasses.dataclass(frozen=True)
class CrafterSettings(SB3TaskSettings):
    """How one Crafter run goes."""

    budget: int = 1_000_000
    """Env-step budget of PPO per run (Crafter's 1M)."""
    eval_every: int = 100_000
    """Env steps between the diamond-rate evaluations during training."""
    eval_episodes: int = 10
    """Episodes per evaluation during training."""
    final_episodes: int = 30
    """Episodes of the final policy's evaluation (0: none)."""
    length: int = 10_000
    """Steps before an episode is truncated (Crafter's 10,000; shorter only for smoke tests)."""
    events: str = "achievements"
    """Align-RUDDER's events: achievements (each time one happens) or inventory (items gained)."""
    mirror: bool = True
    """Behaviour cloning also fits the demonstrations' three mirror images (left-right,
    up-down, both; :func:`~rudder.envs.crafter_tasks.mirror_images`), for bc, bc-ppo and
    align-rudder alike."""
    unhurried_expert: float = 0.0
    """The chance that a demonstration starts with an unhurried first day (the expert's
    ``unhurried``): pastimes after the wooden tools until a random step, so that some
    demonstrated nights fall before the stone pickaxe."""
    expert_nap_chance: float = 0.0
    """The chance that a demonstration naps in daylight once it has its wooden tools (the
    expert's ``nap_chance``)."""
    expert_sapling_chance: float = 0.5
    """The chance that a demonstration plants a sapling before its wooden pickaxe (the
    expert's ``sapling_chance``)."""
    expert_night_shelter: bool = True
    """The expert seals itself in for every night (its ``night_shelter``); --no-expert-night-shelter:
    it works on through the dark and shelters only when tired or hurt."""
    expert_sight: Literal["world", "view"] = "world"
    """What the expert knows of the world (its ``sight``): world (the whole map) or view (only
    the cells it has seen in its 9x7 view, as a player does; it scouts for what it has not
    seen, and is retried up to 40 times per demonstration that must reach the diamond)."""
    fight_agent: bool = False
    """Give Align-RUDDER's sub-task agents one more agent, in charge whenever a zombie is
    next to the player (``rudder.agents.subtasks.SubtaskInterrupt`` on the four cells'
    zombie entries), cloned on every demonstrated step with a zombie next to the player
    (off: the library's default, for the ablation; not with ``night_agent``)."""
    night_agent: bool = False
    """Give Align-RUDDER's sub-task agents one more agent, in charge whenever the daylight is
    below 0.5 (``rudder.agents.subtasks.SubtaskInterrupt``), cloned on every demonstrated
    night (off: the library's default, for the ablation)."""
    zombie_spawning: bool = True
    """Zombies spawn as the game goes on, most at night, as in Crafter (the default);
    --no-zombie-spawning: the training and evaluation worlds keep the zombies they were
    generated with and spawn none after (the demonstrations are still recorded in Crafter's
    worlds). A diagnostic of what the nights cost the agents, not Crafter's benchmark."""

    compass: bool = False
    """--compass: the symbolic observation also holds a compass to the nearest water, tree,
    stone, coal, iron, diamond, table, furnace, lava and cow the player has seen this episode
    (``CrafterEnv(compass=True)``, :mod:`rudder.envs.crafter_tasks.compass`), for every
    method and the demonstrations; off: Crafter's observation (the default)."""

    convolutions: bool = False
    """--convolutions: every method's networks read the symbolic view with convolutions
    (``PPOSettings(grid=(9, 7, 19))``, :class:`~rudder.agents.sb3.policies.GridFeatures`),
    so that what is learned at one cell of the view holds at every cell; off: the hidden
    layers read the one-hot view directly (the default)."""

    def __post_init__(self) -> None:
        if self.events not in _CHANGE_KEYS:
            raise ValueError(f"--events {self.events!r}: choose from {', '.join(_CHANGE_KEYS)}")
        if self.length < 1 or self.final_episodes < 0:
            raise ValueError("--length must be >= 1 and --final-episodes >= 0")
        for flag, value in (
            ("--unhurried-expert", self.unhurried_expert),
            ("--expert-nap-chance", self.expert_nap_chance),
            ("--expert-sapling-chance", self.expert_sapling_chance),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{flag} must be in [0, 1], got {value}")
        if self.expert_sight not in ("world", "view"):
            raise ValueError(f"--expert-sight {self.expert_sight!r}: choose world or view")
        if self.fight_agent + self.night_agent + (self.reflex_agent is True) > 1:
            raise ValueError(
                "--fight-agent, --night-agent and --reflex-agent: the sub-task agents take one interrupt; choose one "
                "(without --reflex-agent, reflexes are looked for only where no other interrupt is given)"
            )


@dataclasses.dataclass(frozen=True)
class CrafterSweep(CrafterSettings):
    """The Crafter benchmark's runs."""

    methods: tuple[str, ...] = ("align-rudder", "bc-ppo", "bc", "ppo")
    """Methods: ppo, bc, bc-ppo, align-rudder, and expert (the demonstrator: the scripted
    expert plays ``--final-episodes`` episodes, once per seed, no training)."""
    demos: tuple[int, ...] = (20,)
    """Numbers of demonstrations."""
    seeds: int = 3
    """Seeds per (method, demonstrations)."""
    align_rudder_seeds: int = 5
    """Seeds per number of demonstrations of Align-RUDDER."""
    first_seed: int = 0
    """The first seed."""

    def __post_init__(self) -> None:
        super().__post_init__()
        unknown = sorted(set(self.methods) - set(NAMES))
        if unknown:
            raise ValueError(f"unknown methods {unknown}; choose from {list(NAMES)}")


def _make_env(settings: CrafterSettings) -> Callable[[], gym.Env]:
    from rudder.envs.crafter_tasks import CrafterEnv

    return functools.partial(
        CrafterEnv, length=settings.length, zombie_spawning=settings.zombie_spawning, compass=settings.compass
    )


def _record(settings: CrafterSettings, count: int, seed: int) -> list:
    from rudder.envs.crafter_tasks import record_crafter_demonstrations

    attempts = 40 if settings.expert_sight == "view" else 5  # view: about a quarter reach the diamond
    return record_crafter_demonstrations(
        max(count, 1), seed=seed, max_attempts=attempts, compass=settings.compass, **_expert_choices(settings)
    )


def _expert_choices(settings: CrafterSettings) -> dict[str, Any]:
    return {
        "unhurried": settings.unhurried_expert,
        "nap_chance": settings.expert_nap_chance,
        "sapling_chance": settings.expert_sapling_chance,
        "night_shelter": settings.expert_night_shelter,
        "sight": settings.expert_sight,
    }


def _encoder(settings: CrafterSettings) -> Any:
    from rudder.envs.crafter_tasks.events import crafter_event_encoder

    return crafter_event_encoder(settings.events)  # type: ignore[arg-type]


NIGHT_LEVEL = 0.5
"""The daylight below which ``--night-agent``'s agent is in charge: the darker half of
the night, when zombies spawn most."""


def _run_settings(settings: CrafterSettings, method: str) -> Any:
    fields: dict[str, Any] = {}
    if settings.night_agent and method == "align-rudder":
        from rudder.agents.subtasks import SubtaskInterrupt
        from rudder.envs.crafter_tasks.env import daylight_feature

        fields["subtask_interrupt"] = SubtaskInterrupt("night", feature=daylight_feature(), below=NIGHT_LEVEL)
    if settings.fight_agent and method == "align-rudder":
        from rudder.agents.subtasks import SubtaskInterrupt
        from rudder.envs.crafter_tasks.env import adjacent_features

        fields["subtask_interrupt"] = SubtaskInterrupt("fight", feature=adjacent_features("zombie"), above=0.5)
    return task_run_settings(
        settings,
        method,
        ppo=_network_settings(settings),
        target_success=None,
        subtask_change_key=_CHANGE_KEYS[settings.events],
        **fields,
    )


def _network_settings(settings: CrafterSettings) -> dict[str, Any]:
    """PPO settings of the networks' input: the view's grid where ``--convolutions``."""
    from rudder.envs.crafter_tasks.env import view_grid

    return {"grid": view_grid()} if settings.convolutions else {}


def _final_evaluation(settings: CrafterSettings, seed: int) -> Any:
    """Per-achievement shares of ``final_episodes`` episodes (``info["obtained"]``)."""
    if settings.final_episodes == 0:
        return None
    from rudder.agents.sb3 import evaluate_items

    return functools.partial(
        evaluate_items, item_names=ACHIEVEMENTS, num_episodes=settings.final_episodes, seed=seed + 50_000
    )


def _augmentation(settings: CrafterSettings) -> Any:
    from rudder.envs.crafter_tasks import mirror_images

    if not settings.mirror:
        return None
    return functools.partial(mirror_images, compass=True) if settings.compass else mirror_images


CRAFTER_TASK = SB3Task(
    name="crafter",
    make_env=_make_env,
    record_demonstrations=_record,
    encoder=_encoder,
    run_settings=_run_settings,
    final_evaluation=_final_evaluation,
    cloning_augmentation=_augmentation,
)


def crafter_jobs(sweep: CrafterSweep) -> list[Job]:
    """Every (method, demonstrations, seed), methods in the order given (so that a stopped
    sweep has whole rows); PPO once per seed, Align-RUDDER with its own number of seeds."""
    return [
        Job({"method": method, "n_demos": n_demos, "seed": seed}, sweep, budget=sweep.budget)
        for method in sweep.methods
        for n_demos in ((0,) if method in ("ppo", "expert") else sweep.demos)
        for seed in range(
            sweep.first_seed, sweep.first_seed + (sweep.align_rudder_seeds if method == "align-rudder" else sweep.seeds)
        )
    ]


ENDINGS = (*DEATH_CAUSES, "time limit", "finished")
"""How an episode ends: the player's death by one of
:data:`~rudder.envs.crafter_tasks.DEATH_CAUSES`, alive at the episode's length, or (the
scripted expert's only) finished: the diamond mined and the extras done."""


def _training_episodes(progress: Progress, budget: int) -> Any:
    """An SB3 callback that reports env steps to ``progress`` and keeps, for every training
    episode that ends, its end step, its unlocked achievements (``info["obtained"]``), how
    it ended (``info["death_cause"]``, or ``"time limit"``), whether a death came asleep
    and its daylight (``info["death_asleep"]``, ``info["death_daylight"]``), the sub-task
    in charge at a death (``info["subtask"]``, with sub-task agents) and its length (the
    Monitor's ``info["episode"]["l"]``, where there is one); and, over the steps within
    ``budget``, how the agent answered a zombie next to the player
    (:func:`~rudder.envs.crafter_tasks.env.zombie_response`)."""
    from stable_baselines3.common.callbacks import BaseCallback

    class TrainingEpisodes(BaseCallback):
        """Crafter's record of the training episodes."""

        def __init__(self) -> None:
            super().__init__()
            self.ends: list[int] = []
            self.obtained: list[np.ndarray] = []
            self.endings: list[str] = []
            self.lengths: list[int] = []
            self.deaths: list[tuple[int, bool, float]] = []  # end step, asleep, daylight
            self.death_subtasks: list[tuple[int, str]] = []  # end step, sub-task in charge
            self.unlock_steps: list[np.ndarray] = []  # per episode, shape (22,): first unlock's step, 0 never
            self._steps = np.zeros(0, dtype=np.int64)  # per env: steps of its episode so far
            self._first = np.zeros((0, len(ACHIEVEMENTS)), dtype=np.int64)
            self.zombie_responses = dict.fromkeys(ZOMBIE_RESPONSES, 0)  # steps within the budget

        def _on_step(self) -> bool:
            progress(self.num_timesteps)
            infos = self.locals["infos"]
            if self.num_timesteps <= budget and "obs_tensor" in self.locals:
                observations = self.locals["obs_tensor"].cpu().numpy()
                for observation, action in zip(observations, np.asarray(self.locals["actions"]).reshape(-1), strict=True):
                    response = zombie_response(observation, int(action))
                    if response is not None:
                        self.zombie_responses[response] += 1
            if self._steps.size != len(infos):
                self._steps = np.zeros(len(infos), dtype=np.int64)
                self._first = np.zeros((len(infos), len(ACHIEVEMENTS)), dtype=np.int64)
            self._steps += 1
            for index, (done, info) in enumerate(zip(self.locals["dones"], infos, strict=True)):
                if "achievement_increments" in info:
                    new = (np.asarray(info["achievement_increments"]) > 0) & (self._first[index] == 0)
                    self._first[index][new] = self._steps[index]
                if done:
                    self.unlock_steps.append(self._first[index].copy())
                    self._steps[index] = 0
                    self._first[index] = 0
                    self.ends.append(int(self.num_timesteps))
                    self.obtained.append(np.asarray(info["obtained"], dtype=bool))
                    self.endings.append(str(info.get("death_cause", "time limit")))
                    if "death_asleep" in info:
                        self.deaths.append(
                            (int(self.num_timesteps), bool(info["death_asleep"]), float(info["death_daylight"]))
                        )
                        if "subtask" in info:
                            self.death_subtasks.append((int(self.num_timesteps), str(info["subtask"])))
                    if "episode" in info:
                        self.lengths.append(int(info["episode"]["l"]))
            return True

    return TrainingEpisodes()


def _unlock_steps(unlocks: Sequence[np.ndarray], ends: Sequence[int], budget: int) -> dict[str, float | None] | None:
    """Per achievement: the median step of its first unlock over the episodes finished
    within ``budget`` that unlocked it (None: none did); None without such episodes.

    Args:
        unlocks: per episode, shape (22,): the step (1 is the first) at which each
            achievement was first unlocked, 0 where it never was.
        ends: per episode, the env step at which it ended.
        budget: count the episodes that ended at or before this env step.
    """
    counted = np.array([steps for steps, end in zip(unlocks, ends, strict=True) if end <= budget], dtype=np.int64)
    if counted.size == 0:
        return None
    return {
        name: float(np.median(column[column > 0])) if np.any(column > 0) else None
        for name, column in zip(ACHIEVEMENTS, counted.T, strict=True)
    }


def _zombie_shares(counts: dict[str, int]) -> dict[str, float] | None:
    """The steps with a zombie next to the player and the percent of them answered each
    way (:data:`~rudder.envs.crafter_tasks.env.ZOMBIE_RESPONSES`); None without such steps."""
    steps = sum(counts.values())
    if steps == 0:
        return None
    return {"steps": float(steps), **{name: 100.0 * counts[name] / steps for name in ZOMBIE_RESPONSES}}


def _rates(percents: np.ndarray | None) -> dict[str, float] | None:
    return None if percents is None else {name: float(value) for name, value in zip(ACHIEVEMENTS, percents, strict=True)}


def _endings(endings: list[str], ends: list[int], budget: int) -> dict[str, float] | None:
    """Percent of the training episodes finished within ``budget`` that ended each way
    (:data:`ENDINGS`); None without such episodes."""
    counted = [ending for ending, end in zip(endings, ends, strict=True) if end <= budget]
    if not counted:
        return None
    return {ending: 100.0 * counted.count(ending) / len(counted) for ending in ENDINGS}


def _deaths(deaths: list[tuple[int, bool, float]], budget: int) -> dict[str, float] | None:
    """Of the deaths within ``budget``: the percent that came asleep and the mean daylight
    (0 night, 1 day); None without such deaths."""
    counted = [(asleep, daylight) for end, asleep, daylight in deaths if end <= budget]
    if not counted:
        return None
    return {
        "asleep": 100.0 * float(np.mean([asleep for asleep, _ in counted])),
        "daylight": float(np.mean([daylight for _, daylight in counted])),
    }


def _death_subtasks(
    deaths: list[tuple[int, str]], budget: int, *, order: Sequence[str] = ()
) -> dict[str, float] | None:
    """Of the deaths within ``budget`` with a sub-task in charge: the percent under each
    sub-task (those of ``order`` first, in that order; then the others as they came);
    None without such deaths."""
    counted = [subtask for end, subtask in deaths if end <= budget]
    if not counted:
        return None
    names = [name for name in order if name in counted] + [name for name in dict.fromkeys(counted) if name not in order]
    return {name: 100.0 * counted.count(name) / len(counted) for name in names}


def run_expert(job: Job, progress: Progress) -> dict[str, Any]:
    """The demonstrator's run: the scripted expert plays ``final_episodes`` episodes (reset
    seeds ``seed + 50,000 + i``, its generator seeded by the run's seed), each ending as a
    recorded demonstration does (finished, dead, or at the episode's length). Its success
    rates and score are the final evaluation's fields, how the episodes ended and their
    length the training episodes' fields; the step of the first diamond is kept too."""
    from rudder.envs.crafter_tasks import CrafterEnv, CrafterExpert

    settings: CrafterSettings = job.settings
    seed, episodes = int(job.key["seed"]), int(settings.final_episodes)
    if episodes < 1:
        raise ValueError("--methods expert plays --final-episodes episodes: give at least 1")
    env = CrafterEnv(length=settings.length)
    expert = CrafterExpert(env, **_expert_choices(settings))
    rng = np.random.default_rng(seed)
    obtained, endings, lengths, diamond_steps = [], [], [], []
    unlocks: list[np.ndarray] = []
    deaths: list[tuple[int, bool, float]] = []
    diamond = ACHIEVEMENTS.index("collect_diamond")
    steps, started = 0, time.perf_counter()
    responses = dict.fromkeys(ZOMBIE_RESPONSES, 0)
    for episode in range(episodes):
        observation, _ = env.reset(seed=seed + 50_000 + episode)
        length = 0
        info: dict[str, Any] = {}
        first = np.zeros(len(ACHIEVEMENTS), dtype=np.int64)
        while True:
            action = expert(None, rng)
            response = zombie_response(observation, action)
            if response is not None:
                responses[response] += 1
            observation, _, terminated, truncated, info = env.step(action)
            length += 1
            increments = np.asarray(info["achievement_increments"]) > 0
            first[increments & (first == 0)] = length
            if increments[diamond]:
                diamond_steps.append(length)
            if terminated or truncated or expert.finished:
                break
        steps += length
        progress(steps)
        obtained.append(np.asarray(info["obtained"], dtype=bool))
        unlocks.append(first)
        endings.append("finished" if expert.finished else str(info.get("death_cause", "time limit")))
        lengths.append(length)
        if "death_asleep" in info:
            deaths.append((0, bool(info["death_asleep"]), float(info["death_daylight"])))
    env.close()
    rates = 100.0 * np.mean(obtained, axis=0)
    return {
        "final_score": crafter_score(rates),
        "final_diamond": float(rates[diamond]),
        "final_rates": _rates(rates),
        "training_endings": _endings(endings, [0] * len(endings), 0),
        "training_deaths": _deaths(deaths, 0),
        "mean_episode_length": float(np.mean(lengths)),
        "median_diamond_step": float(np.median(diamond_steps)) if diamond_steps else None,
        "unlock_steps": _unlock_steps(unlocks, [0] * len(unlocks), 0),
        "zombie_responses": _zombie_shares(responses),
        "env_steps": steps,
        "seconds": round(time.perf_counter() - started, 1),
    }


def run_crafter(job: Job, progress: Progress) -> dict[str, Any]:
    """One run: Crafter's success rates and score over the training episodes and over the
    final policy's evaluation, how the training episodes ended and their mean length, the
    sub-tasks, the diamond-rate curve (for ``method="expert"``, :func:`run_expert`)."""
    if job.key["method"] == "expert":
        return run_expert(job, progress)
    budget = int(job.settings.budget)
    recorder = _training_episodes(progress, budget)
    outcome, record = run_sb3_job(CRAFTER_TASK, job, progress, callback=recorder)
    training = success_rates(np.array(recorder.obtained).reshape(-1, len(ACHIEVEMENTS)), recorder.ends, budget=budget)
    final = None if outcome.final is None else 100.0 * np.array([outcome.final[name] for name in ACHIEVEMENTS])
    diamond = ACHIEVEMENTS.index("collect_diamond")
    return {
        "score": None if training is None else crafter_score(training),
        "diamond": None if training is None else float(training[diamond]),
        "training_episodes": len(recorder.ends),
        "training_rates": _rates(training),
        "training_endings": _endings(recorder.endings, recorder.ends, budget),
        "training_deaths": _deaths(recorder.deaths, budget),
        "training_death_subtasks": _death_subtasks(
            recorder.death_subtasks, budget, order=outcome.controller.subtasks if outcome.controller else ()
        ),
        "mean_episode_length": float(np.mean(recorder.lengths)) if recorder.lengths else None,
        "unlock_steps": _unlock_steps(recorder.unlock_steps, recorder.ends, budget),
        "zombie_responses": _zombie_shares(recorder.zombie_responses),
        "final_score": None if final is None else crafter_score(final),
        "final_diamond": None if final is None else float(final[diamond]),
        "final_rates": _rates(final),
        "subtasks": list(outcome.controller.subtasks) if outcome.controller else None,
        "interrupts": [
            _interrupt_record(each, compass=job.settings.compass)
            for each in (outcome.controller.interrupts if outcome.controller else ())
        ],
        **record,
    }


def _interrupt_record(interrupt: Any, *, compass: bool = False) -> dict[str, Any]:
    """A sub-task interrupt of a run, with the names of the features it reads."""
    from rudder.envs.crafter_tasks.env import feature_name

    return {**interrupt.to_dict(), "names": [feature_name(index, compass=compass) for index in interrupt.features]}


def _caption(sources: list[dict[str, Any]]) -> str:
    budgets = sorted({int(source.get("budget", CrafterSettings.budget)) for source in sources})
    episodes = sorted({int(source.get("final_episodes", CrafterSettings.final_episodes)) for source in sources})
    lengths = sorted({int(source.get("length", CrafterSettings.length)) for source in sources})
    return (
        f"Crafter after {' and '.join(f'{budget:,}' for budget in budgets)} env steps (episodes of at most "
        f"{' and '.join(f'{length:,}' for length in lengths)} steps). Score: Crafter's, exp(mean ln(1 + s_i)) - 1 "
        "over the 22 achievements' success rates s_i in percent, counted over the training episodes finished "
        f"within the budget; final: the same over {' and '.join(map(str, episodes))} episodes of the final "
        "policy (sampled actions). Diamond: collect_diamond's success rate in percent."
        + _world_note(sources)
    )


_OPTION_NOTES = (
    (
        "--no-zombie-spawning",
        lambda source: not source.get("zombie_spawning", True),
        "trained and were evaluated in worlds where no zombie spawns after the world is made: a diagnostic of what "
        "the nights cost, not Crafter's benchmark.",
    ),
    (
        "--convolutions",
        lambda source: source.get("convolutions", False),
        "read the 9x7 view with convolutions before the hidden layers.",
    ),
    (
        "--compass",
        lambda source: source.get("compass", False),
        "also observed a compass to the nearest water, tree, stone, coal, iron, diamond, table, furnace, lava and cow "
        "seen so far in the episode: a memory that Crafter's observation does not give.",
    ),
)
"""The caption's notes on options that set runs apart: the flag, whether a run's settings
had it, and what it did."""


def _world_note(sources: list[dict[str, Any]]) -> str:
    """The caption's notes where some or all runs had an option of :data:`_OPTION_NOTES`
    (worlds without zombie spawning, convolutions, the compass)."""
    note = ""
    for flag, had, text in _OPTION_NOTES:
        count = sum(1 for source in sources if had(source))
        if count:
            note += f" {'All' if count == len(sources) else 'Some'} runs ({flag}) {text}"
    return note


def _label(row: dict[str, Any]) -> str:
    return NAMES.get(row["method"], row["method"]) + (f", {row['n_demos']} demos" if row.get("n_demos") else "")


def _row_runs(results: ResultFile, row: dict[str, Any], field: str) -> list[dict[str, Any]]:
    """The runs of ``row`` (its method and number of demonstrations) that recorded ``field``."""
    return [
        run for run in results.runs
        if run.get("method") == row["method"] and run.get("n_demos") == row.get("n_demos") and run.get(field)
    ]  # fmt: skip


def _mean_rates(results: ResultFile, row: dict[str, Any], field: str) -> np.ndarray | None:
    """Shape (22,): the mean over the row's runs of their rates in ``field`` (None: no run has them)."""
    runs = _row_runs(results, row, field)
    if not runs:
        return None
    return np.mean([[run[field][name] for name in ACHIEVEMENTS] for run in runs], axis=0)


def _score_text(row: dict[str, Any], metric: str) -> str:
    if row.get(metric) is None:
        return "-"
    values = row[metric]["values"]
    return f"{np.mean(values):.1f} ± {np.std(values):.1f}"


def _notes(results: ResultFile, rows: list[dict[str, Any]]) -> str:
    """Crafter's score per row (mean ± std over runs), the published scores, and every
    achievement's success rate (training episodes / final evaluation, mean over runs)."""
    lines = ["Crafter score, mean ± std over runs (training episodes; final evaluation):"]
    lines += [f"- {_label(row)}: {_score_text(row, 'score')}; {_score_text(row, 'final score')}" for row in rows]
    lines.append("Published (1M env steps): " + ", ".join(f"{name} {score}" for name, score in PUBLISHED_SCORES.items()) + ".")
    if any(row["method"] == "expert" for row in rows):
        lines.append(
            "The scripted expert is the demonstrator itself, untrained: its column holds its own episodes "
            "(--final-episodes per seed, each ending as a recorded demonstration does: finished once the diamond "
            "and its extras are done, or dead, or at the episode's length) under \"final\" and \"training episodes\"."
        )
    lines += ["", "Success rates in percent (training episodes / final evaluation, mean over runs):", ""]
    lines.append("| achievement | " + " | ".join(_label(row) for row in rows) + " |")
    lines.append("|---|" + "---:|" * len(rows))
    tables = [(_mean_rates(results, row, "training_rates"), _mean_rates(results, row, "final_rates")) for row in rows]
    for index, name in enumerate(ACHIEVEMENTS):
        cells = [
            " / ".join("-" if rates is None else f"{rates[index]:.1f}" for rates in pair) for pair in tables
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + _unlock_table(results, rows) + _endings_table(results, rows)


def _table_head(caption: str, first: str, rows: list[dict[str, Any]], columns: list[list[dict[str, Any]]]) -> list[str]:
    """The lines that open a table of the notes: a blank line, ``caption``, and the header
    (``first``, then each row's label with how many runs recorded the column)."""
    labels = [f"{_label(row)} ({len(runs)} runs)" for row, runs in zip(rows, columns, strict=True)]
    return ["", "", caption, "", f"| {first} | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(rows)]


def _unlock_table(results: ResultFile, rows: list[dict[str, Any]]) -> str:
    """The median step of each achievement's first unlock (mean over the runs that
    recorded it), or ""."""
    columns = [_row_runs(results, row, "unlock_steps") for row in rows]
    if not any(columns):
        return ""
    lines = _table_head(
        "How soon: the median step of each achievement's first unlock in the training episodes that unlocked it "
        "(the scripted expert: in its own episodes), mean over the runs that recorded it:",
        "achievement",
        rows,
        columns,
    )
    for name in ACHIEVEMENTS:
        cells = []
        for runs in columns:
            values = [run["unlock_steps"][name] for run in runs if run["unlock_steps"].get(name) is not None]
            cells.append("-" if not values else f"{np.mean(values):.0f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _endings_table(results: ResultFile, rows: list[dict[str, Any]]) -> str:
    """How the training episodes ended (mean over the runs that recorded it), or ""."""
    columns = [_row_runs(results, row, "training_endings") for row in rows]
    if not any(columns):
        return ""
    lines = _table_head(
        "How the training episodes ended, in percent (mean over the runs that recorded it; the cause of "
        "death inferred by `rudder.envs.crafter_tasks.death_cause`), and their mean length in steps:",
        "ending",
        rows,
        columns,
    )
    for ending in ENDINGS:
        if ending == "finished" and not any(run["training_endings"].get(ending) for runs in columns for run in runs):
            continue  # only the scripted expert finishes
        cells = ["-" if not runs else f"{np.mean([run['training_endings'].get(ending, 0.0) for run in runs]):.1f}" for runs in columns]
        lines.append(f"| {ending} | " + " | ".join(cells) + " |")
    lengths = [
        [run["mean_episode_length"] for run in runs if run.get("mean_episode_length") is not None] for runs in columns
    ]
    lines.append("| mean length | " + " | ".join("-" if not values else f"{np.mean(values):.0f}" for values in lengths) + " |")
    for key, label, form in (("asleep", "deaths asleep (% of deaths)", ".1f"), ("daylight", "daylight at death (0 night, 1 day)", ".2f")):
        values = [[run["training_deaths"][key] for run in runs if run.get("training_deaths")] for runs in columns]
        if any(values):
            lines.append(f"| {label} | " + " | ".join("-" if not v else f"{np.mean(v):{form}}" for v in values) + " |")
    for name in ZOMBIE_RESPONSES:
        values = [[run["zombie_responses"][name] for run in runs if run.get("zombie_responses")] for runs in columns]
        if any(values):
            label = f"zombie next to the player: {name} (% of the steps with one)"
            lines.append(f"| {label} | " + " | ".join("-" if not v else f"{np.mean(v):.1f}" for v in values) + " |")
    subtasks = [[run["training_death_subtasks"] for run in runs if run.get("training_death_subtasks")] for runs in columns]
    for name in dict.fromkeys(name for shares in subtasks for share in shares for name in share):
        cells = ["-" if not shares else f"{np.mean([share.get(name, 0.0) for share in shares]):.1f}" for shares in subtasks]
        lines.append(f"| deaths under {_subtask_label(name)} (% of deaths) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _subtask_label(name: str) -> str:
    """A sub-task's name for a table: a need agent's (``"need 1199"``, after the feature it
    reads) as ``"need: inventory drink"``; others as they are."""
    prefix, _, feature = name.partition(" ")
    if prefix != "need" or not feature.isdigit():
        return name
    from rudder.envs.crafter_tasks.env import feature_name

    return f"need: {feature_name(int(feature))}"


def _draw(results: ResultFile, rows: list[dict[str, Any]], path: str) -> None:
    """Crafter's bar chart: every achievement's success rate on a log scale, one bar per
    row, for the training episodes and for the final evaluation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    figure, axes = plt.subplots(2, 1, figsize=(11, 7), sharex=True)
    centers = np.arange(len(ACHIEVEMENTS))
    width = 0.8 / max(len(rows), 1)
    for axis, field, title in zip(
        axes, ("training_rates", "final_rates"), ("training episodes", "final policy"), strict=True
    ):
        for index, row in enumerate(rows):
            rates = _mean_rates(results, row, field)
            if rates is not None:
                axis.bar(centers + width * (index - (len(rows) - 1) / 2), rates, width, color=f"C{index}")
        axis.set_yscale("log")
        axis.set_ylim(0.01, 100)
        axis.set_yticks([0.01, 0.1, 1, 10, 100], ["0.01", "0.1", "1", "10", "100"])
        axis.set_ylabel("success rate (%)")
        axis.set_title(f"Crafter achievements, {title}")
        axis.spines[["top", "right"]].set_visible(False)
    names = [name.replace("_", " ").title() for name in ACHIEVEMENTS]
    axes[-1].set_xticks(centers, names, rotation=45, ha="right", rotation_mode="anchor")
    handles = [Patch(color=f"C{index}", label=_label(row)) for index, row in enumerate(rows)]
    figure.tight_layout(rect=(0, 0, 1, 0.95))
    figure.legend(handles=handles, loc="upper center", ncol=min(len(rows), 5), fontsize=8, frameon=False)
    figure.savefig(path, dpi=120)
    plt.close(figure)


CRAFTER = Benchmark(
    name="crafter",
    script="scripts/bench_crafter.py",
    description=__doc__ or "",
    settings=CrafterSweep,
    jobs=crafter_jobs,
    run=run_crafter,
    group_by=("method", "n_demos"),
    metrics=(
        Metric("score", lambda run: run.get("score"), decimals=1),
        Metric("diamond %", lambda run: run.get("diamond"), decimals=1),
        Metric("final score", lambda run: run.get("final_score"), decimals=1),
        Metric("final diamond %", lambda run: run.get("final_diamond"), decimals=1),
        Metric("training episodes", lambda run: run.get("training_episodes"), full=False, higher_is_better=True),
    ),
    caption=_caption,
    draw=_draw,
    notes=_notes,
    names=NAMES,
    axes=("methods", "demos", "seeds", "align_rudder_seeds", "first_seed"),
)
