"""Shared fixtures of the stable-baselines3 agent tests: minigrid demonstrations and
their redistributor, crafting-world demonstrations, and a redistributed minigrid venv."""

import functools

import pytest

ENV_ID = "MiniGrid-KeyCorridorS3R3-v0"


@pytest.fixture(scope="session")
def demos():
    """4 minigrid KeyCorridor demonstrations."""
    pytest.importorskip("minigrid")
    from rudder.envs.minigrid_tasks import minigrid_demonstrations

    return minigrid_demonstrations(ENV_ID, 4, seed=0)


@pytest.fixture(scope="session")
def redistributor(demos):
    """An Align-RUDDER redistributor fitted on :func:`demos`."""
    from rudder import AlignmentRedistributor
    from rudder.envs.minigrid_tasks import interaction_encoder

    return AlignmentRedistributor(interaction_encoder()).fit(demos)


@pytest.fixture(scope="session")
def demonstrations():
    """4 crafting-world demonstrations."""
    from rudder.envs.craft import craft_demonstrations

    return craft_demonstrations(4, seed=0)


@pytest.fixture(scope="session")
def make_venv():
    """``make_venv(redistributor, *, n_envs=2, seed=0, vec_env_cls=None, progress="box")``:
    minigrid KeyCorridor envs with the redistribution above ``Monitor``."""
    pytest.importorskip("stable_baselines3")
    from stable_baselines3.common.env_util import make_vec_env

    from rudder.envs.minigrid_tasks import make_minigrid_env
    from rudder.wrappers import redistribution_wrapper

    def make(redistributor, *, n_envs=2, seed=0, vec_env_cls=None, progress="box"):
        return make_vec_env(
            functools.partial(make_minigrid_env, ENV_ID),
            n_envs=n_envs,
            seed=seed,
            vec_env_cls=vec_env_cls,
            wrapper_class=redistribution_wrapper,
            wrapper_kwargs={"redistributor": redistributor, "progress": progress},
        )

    return make
