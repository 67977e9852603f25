"""Train Align-RUDDER sub-task agents (or PPO, BC, BC+PPO) to obtain a diamond in the
crafting world, from the scripted player's demonstrations.

    python scripts/train_craft.py --method align-rudder --demos 20 --steps 1000000 \\
        --checkpoint runs/craft --tensorboard runs/tb --png runs/craft_alignment.png

Align-RUDDER turns the demonstrations' inventory changes into events, aligns them and
prints the consensus ("6× log, planks, crafting_table, stick, wooden_pickaxe, ...").
Each distinct consensus item becomes a sub-task with its own policy, cloned from the
demonstration steps of that sub-task and trained by PPO on the redistributed reward;
the inventory decides which sub-task is in charge. At the end the agent plays
``--final-episodes`` episodes and the per-item success rates are printed.
"""

from __future__ import annotations

import dataclasses
import functools
import sys

from rudder.arguments import parse_arguments


@dataclasses.dataclass
class Args:
    method: str = "align-rudder"
    env: str = "rudder/CraftDiamond-v0"
    demos: int = 20
    seed: int = 0
    steps: int = 1_000_000
    n_envs: int = 8
    subprocess: bool = False
    bc_epochs: int = 30
    learning_rate: float = 3e-5
    ent_coef: float = 0.003
    mirror: bool = True
    eval_every: int = 100_000
    eval_episodes: int = 30
    final_episodes: int = 100
    checkpoint: str = ""
    tensorboard: str = ""
    png: str = ""
    progress_bar: bool = True


HELP = {
    "method": "ppo, bc, bc-ppo or align-rudder (sub-task agents)",
    "env": "crafting-world id (rudder/CraftDiamond-v0: reward only for the diamond)",
    "demos": "scripted-player demonstrations",
    "seed": "seed of the demonstrations, the envs and PPO",
    "steps": "env-step budget of PPO",
    "n_envs": "parallel envs",
    "subprocess": "run the envs in subprocesses (SubprocVecEnv)",
    "bc_epochs": "behaviour-cloning epochs",
    "learning_rate": "PPO learning rate (3e-5: higher rates made the cloned sub-task agents worse)",
    "ent_coef": "PPO entropy bonus (0.003: enough that an agent cloned from narrow segments still tries other actions)",
    "mirror": "behaviour cloning also fits the demonstrations' left-right mirror images",
    "eval_every": "env steps between evaluations",
    "eval_episodes": "episodes per evaluation",
    "final_episodes": "episodes of the final per-item evaluation",
    "checkpoint": "directory to save the final model and redistributor to",
    "tensorboard": "TensorBoard log directory",
    "png": "draw the alignment of the demonstrations (align-rudder)",
    "progress_bar": "show progress bars",
}


def main(argv=None) -> int:
    args = parse_arguments(Args, sys.argv[1:] if argv is None else argv, help=HELP, description=__doc__)
    from rudder.agents.sb3 import (
        BehaviorCloningSettings,
        PPOSettings,
        SB3RunSettings,
        evaluate_items,
        train_sb3,
    )
    from rudder.envs.craft import (
        ITEM_CHAIN,
        ITEMS,
        craft_demonstrations,
        make_craft_env,
        mirror_episode,
    )
    from rudder.events import InventoryEncoder
    from rudder.profile import format_consensus

    demos = craft_demonstrations(args.demos, env_id=args.env, seed=args.seed)
    print(f"{len(demos)} demonstrations, {sum(d.length for d in demos) / len(demos):.1f} steps on average")
    settings = SB3RunSettings(
        method=args.method,
        total_timesteps=args.steps,
        n_envs=args.n_envs,
        subprocess=args.subprocess,
        subtask_agents=args.method == "align-rudder",
        eval_every=args.eval_every,
        eval_episodes=args.eval_episodes,
        target_success=None,
        behavior_cloning=BehaviorCloningSettings(epochs=args.bc_epochs),
        ppo=PPOSettings(learning_rate=args.learning_rate, batch_size=512, ent_coef=args.ent_coef),
    )
    outcome = train_sb3(
        functools.partial(make_craft_env, args.env),
        demos,
        settings=settings,
        encoder=InventoryEncoder(items=ITEMS, source="info", key="inventory_change"),
        seed=args.seed,
        checkpoint=args.checkpoint or None,
        tensorboard_log=args.tensorboard or None,
        progress_bar=args.progress_bar,
        final_evaluation=functools.partial(evaluate_items, item_names=ITEMS, report=ITEM_CHAIN, num_episodes=args.final_episodes, seed=args.seed + 50_000),
        cloning_augmentation=mirror_episode if args.mirror else None,
    )
    if outcome.redistributor is not None:
        alphabet = outcome.redistributor.encoder.alphabet
        print("Consensus:", format_consensus([alphabet.name(goal.event) for goal in outcome.redistributor.profile.consensus]))
        print("Sub-task agents:", outcome.controller.describe())
        if args.png:
            from rudder.viz import plot_redistributor_alignment

            plot_redistributor_alignment(outcome.redistributor, args.png)
            print(f"wrote {args.png}")
    print("diamond success rate by env steps:", [(steps, round(rate, 2)) for steps, rate, _ in outcome.curve])
    print(f"per-item success over {args.final_episodes} episodes:")
    for item in ITEM_CHAIN:
        print(f"  {item:15s} {outcome.final[item]:.2f}")
    if args.checkpoint:
        print(f"saved {args.checkpoint}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
