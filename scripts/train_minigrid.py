"""Train PPO, BC, BC+PPO or Align-RUDDER on a minigrid task from planner demonstrations.

    python scripts/train_minigrid.py --env MiniGrid-KeyCorridorS3R3-v0 --method align-rudder \\
        --demos 10 --steps 500000 --checkpoint runs/keycorridor --tensorboard runs/tb

The planner records ``--demos`` successful demonstrations; Align-RUDDER turns their
object interactions (key picked up, door unlocked, ...) into events, aligns them into a
profile and pays reward for each sub-goal reached; the policy is cloned from the
demonstrations and fine-tuned by PPO. Training stops at ``--target`` success rate or
after ``--steps`` env steps. ``--resume DIR`` continues from a checkpoint (same
redistributor, same optimizer state).
"""

from __future__ import annotations

import dataclasses
import functools
import sys

from rudder.arguments import parse_arguments


@dataclasses.dataclass
class Args:
    env: str = "MiniGrid-KeyCorridorS3R3-v0"
    method: str = "align-rudder"
    view: str = "agent"
    demos: int = 10
    seed: int = 0
    steps: int = 500_000
    n_envs: int = 8
    subprocess: bool = False
    progress_observation: bool = True
    env_reward_weight: float = 0.0
    delete_score: float = -1.5
    bc_epochs: int = 100
    learning_rate: float = 3e-4
    subtask_agents: bool = False
    eval_every: int = 20_000
    eval_episodes: int = 50
    target: float = 0.8
    checkpoint: str = ""
    resume: str = ""
    tensorboard: str = ""
    progress_bar: bool = True


HELP = {
    "view": "observation: 'agent' (egocentric 7x7 view) or 'full' (whole grid)",
    "env": "minigrid env id",
    "method": "ppo, bc, bc-ppo or align-rudder",
    "demos": "planner demonstrations",
    "seed": "seed of the demonstrations, the envs and PPO",
    "steps": "env-step budget",
    "n_envs": "parallel envs",
    "subprocess": "run the envs in subprocesses (SubprocVecEnv)",
    "progress_observation": "add profile progress to the observation (align-rudder)",
    "env_reward_weight": "share of env reward mixed into the redistributed reward",
    "delete_score": "profile score of a skipped sub-goal (align-rudder; <= 0)",
    "bc_epochs": "behaviour-cloning epochs",
    "learning_rate": "PPO learning rate",
    "subtask_agents": "align-rudder as one agent per consensus sub-goal (door, key, ...), handed over by the interactions",
    "eval_every": "env steps between evaluations",
    "eval_episodes": "episodes per evaluation",
    "target": "success rate that ends training",
    "checkpoint": "directory to save the final model and redistributor to",
    "resume": "checkpoint directory to continue training from",
    "tensorboard": "TensorBoard log directory",
    "progress_bar": "show progress bars",
}


def resume(args: Args) -> int:
    from stable_baselines3.common.callbacks import CallbackList
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    from rudder.agents.sb3 import (
        RedistributionLogger,
        SubtaskBoundaries,
        SuccessEvaluation,
        load_checkpoint,
        load_redistributor_from_checkpoint,
        save_checkpoint,
        subtask_wrapper_from_checkpoint,
    )
    from rudder.envs.minigrid_tasks import interaction_events, make_minigrid_env
    from rudder.wrappers import redistribution_wrapper

    redistributor = load_redistributor_from_checkpoint(args.resume, function=interaction_events)
    wrapper, wrapper_kwargs = None, None
    subtasks = subtask_wrapper_from_checkpoint(args.resume, redistributor)
    if subtasks is not None:
        wrapper = subtasks[0]
    elif redistributor is not None:
        wrapper = redistribution_wrapper
        wrapper_kwargs = {"redistributor": redistributor, "progress": "box" if args.progress_observation else None}

    def venv(seed: int, subprocess: bool):
        return make_vec_env(
            functools.partial(make_minigrid_env, args.env, view=args.view),
            n_envs=args.n_envs,
            seed=seed,
            vec_env_cls=SubprocVecEnv if subprocess else DummyVecEnv,
            wrapper_class=wrapper,
            wrapper_kwargs=wrapper_kwargs,
        )

    model, settings, record = load_checkpoint(
        args.resume, venv(args.seed + 1, args.subprocess), tensorboard_log=args.tensorboard or None
    )
    print(f"resumed {args.resume} at {model.num_timesteps:,} env steps ({record['metadata'].get('method', '?')})")
    evaluation = SuccessEvaluation(
        venv(args.seed + 10_000, False), every=args.eval_every, num_episodes=args.eval_episodes, stop_at=args.target
    )
    callbacks = [evaluation] + ([RedistributionLogger()] if redistributor is not None else [])
    if subtasks is not None:
        _, controller, subtask_returns = subtasks
        print(f"sub-task agents: {controller.describe()}")
        if subtask_returns:
            callbacks.append(SubtaskBoundaries(controller.num_subtasks))
    model.learn(args.steps, callback=CallbackList(callbacks), reset_num_timesteps=False, progress_bar=args.progress_bar)
    print("success rate by env steps:", [(steps, round(rate, 2)) for steps, rate, _ in evaluation.curve])
    if args.checkpoint:
        save_checkpoint(args.checkpoint, model, settings, redistributor=redistributor, seed=args.seed, metadata=record["metadata"])
        print(f"saved {args.checkpoint}")
    return 0


def main(argv=None) -> int:
    args = parse_arguments(Args, sys.argv[1:] if argv is None else argv, help=HELP, description=__doc__)
    if args.resume:
        return resume(args)
    from rudder.agents.sb3 import BehaviorCloningSettings, PPOSettings, SB3RunSettings, train_sb3
    from rudder.envs.minigrid_tasks import (
        INTERACTIONS,
        interaction_encoder,
        make_minigrid_env,
        minigrid_demonstrations,
    )

    demos = minigrid_demonstrations(args.env, args.demos, seed=args.seed, view=args.view)
    print(f"{len(demos)} demonstrations, {sum(d.length for d in demos) / len(demos):.1f} steps on average")
    settings = SB3RunSettings(
        method=args.method,
        total_timesteps=args.steps,
        n_envs=args.n_envs,
        subprocess=args.subprocess,
        progress_observation=args.progress_observation,
        env_reward_weight=args.env_reward_weight,
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        target_success=args.target,
        behavior_cloning=BehaviorCloningSettings(epochs=args.bc_epochs),
        redistribution={"delete_score": args.delete_score},
        ppo=PPOSettings(learning_rate=args.learning_rate),
        subtask_agents=args.subtask_agents,
        subtask_change_key="interaction_change",
        subtask_items=INTERACTIONS,
        # minigrid's return falls with time: pay the sub-goals only (see SubtaskReward).
        settle_terminated=False,
    )
    outcome = train_sb3(
        functools.partial(make_minigrid_env, args.env, view=args.view),
        demos,
        settings=settings,
        encoder=interaction_encoder(),
        seed=args.seed,
        checkpoint=args.checkpoint or None,
        tensorboard_log=args.tensorboard or None,
        progress_bar=args.progress_bar,
    )
    if outcome.redistributor is not None:
        redistributor = outcome.redistributor
        names = redistributor.encoder.alphabet
        print("sub-goals:", ", ".join(names.name(column.event) for column in redistributor.profile.consensus))
    print("success rate by env steps:", [(steps, round(rate, 2)) for steps, rate, _ in outcome.curve])
    if outcome.reached_at is None:
        print(f"did not reach {args.target:.0%} success within {args.steps:,} env steps")
    else:
        print(f"reached {args.target:.0%} success after {outcome.reached_at:,} env steps")
    if args.checkpoint:
        print(f"saved {args.checkpoint}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
