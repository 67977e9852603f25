"""Crafter's world generation, computed on whole noise grids: :func:`generate_world`.

Crafter generates each world cell by cell, calling its simplex noise a dozen times per
cell from Python; a reset took about 0.3 s of a 1M-step run's time per episode, and
a run has thousands of episodes. This module computes the same noise fields for the whole
grid at once (``opensimplex``'s array functions, compiled when numba is installed), takes
the terrain decisions on arrays, and walks the cells one by one only where Crafter draws
from the world's random generator, in Crafter's order, so that every draw and every
decision is the one Crafter makes. The result is the same world (materials, objects and
the generator's state afterwards) as ``crafter.worldgen.generate_world``:
``tests/envs/crafter_tasks/test_worldgen.py`` compares them over many seeds.

The formulas (the weights of the noise octaves, the thresholds of each material and
creature) are Crafter's (``crafter/worldgen.py``, version 1.8).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["compiled_noise", "generate_world", "reset_crafter"]


def compiled_noise() -> bool:
    """Whether ``opensimplex`` runs compiled (numba installed): only then is the grid
    generator faster than Crafter's own (without numba its array noise is a Python loop)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def reset_crafter(env: Any) -> Any:
    """``crafter.Env.reset`` (version 1.8) with :func:`generate_world` in place of Crafter's
    cell-by-cell generator: the same episode counter, world seed, clock, player and world.

    Args:
        env: a ``crafter.Env``.

    Returns:
        The env's first observation (``env._obs()``).
    """
    from crafter import objects

    center = (env._world.area[0] // 2, env._world.area[1] // 2)
    env._episode += 1
    env._step = 0
    env._world.reset(seed=hash((env._seed, env._episode)) % (2**31 - 1))
    env._update_time()
    env._player = objects.Player(env._world, center)
    env._last_health = env._player.health
    env._world.add(env._player)
    env._unlocked = set()
    generate_world(env._world, env._player)
    return env._obs()


@contextlib.contextmanager
def _one_noise_thread() -> Iterator[None]:
    """Runs opensimplex's parallel array noise on this thread alone: envs step in many
    processes at once, and a thread pool per process oversubscribes the cores (on two busy
    cores a reset took 15 ms per noise grid with the pool, 1 ms without)."""
    try:
        import numba
    except ImportError:
        yield
        return
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


def _noise_field(
    simplex: Any, xs: np.ndarray, ys: np.ndarray, z: float, sizes: dict[float, float], *, normalize: bool = True
) -> np.ndarray:
    """Crafter's weighted noise at every (x, y) of the grid ``xs`` × ``ys``.

    Args:
        simplex: an ``opensimplex.OpenSimplex``.
        xs: shape (W,): the x coordinate of each column, before dividing by a size.
        ys: shape (H,): the y coordinate of each row, before dividing by a size.
        z: the third coordinate (Crafter's layer).
        sizes: octave size -> weight, in Crafter's order.
        normalize: divide by the sum of the weights.

    Returns:
        shape (W, H): the noise, summed in Crafter's order so that it is the same float.
    """
    value: np.ndarray | float = 0
    for size, weight in sizes.items():
        # noise3array(x, y, z) has shape (len(z), len(y), len(x))
        noise = simplex.noise3array(xs / size, ys / size, np.array([float(z)]))[0].T
        value = value + weight * noise
    if normalize:
        value = value / sum(sizes.values())
    return np.asarray(value, dtype=np.float64)


def generate_world(world: Any, player: Any) -> None:
    """Fills ``world`` (a ``crafter.engine.World`` just reset, holding ``player``) with
    terrain and creatures, exactly as ``crafter.worldgen.generate_world`` does.

    Args:
        world: the world; its ``random`` generator is advanced as Crafter advances it.
        player: the player object, already added to the world.
    """
    with _one_noise_thread():
        _generate(world, player)


def _generate(world: Any, player: Any) -> None:
    """The body of :func:`generate_world`."""
    import opensimplex
    from crafter import constants, objects

    simplex = opensimplex.OpenSimplex(seed=world.random.randint(0, 2**31 - 1))
    width, height = world.area
    cells_x = np.arange(width)
    cells_y = np.arange(height)
    x = cells_x.astype(np.float64)
    y = cells_y.astype(np.float64)

    def field(z: float, sizes: dict[float, float] | float, *, xs: np.ndarray = x, ys: np.ndarray = y, normalize: bool = True) -> np.ndarray:
        return _noise_field(simplex, xs, ys, z, sizes if isinstance(sizes, dict) else {sizes: 1}, normalize=normalize)

    squared = (cells_x[:, None] - player.pos[0]) ** 2 + (cells_y[None, :] - player.pos[1]) ** 2
    distance = np.sqrt(squared)
    start = 4 - distance
    start = start + 2 * field(8, 3)
    start = 1 / (1 + np.exp(-start))
    water = field(3, {15: 1, 5: 0.15}, normalize=False) + 0.1
    water = water - 2 * start
    mountain = field(0, {15: 1, 5: 0.3})
    mountain = mountain - (4 * start + 0.3 * water)

    grass = start > 0.5
    rock = ~grass & (mountain > 0.15)
    cave = rock & (field(6, 7) > 0.15) & (mountain > 0.3)
    horizontal = rock & ~cave & (field(7, 3, xs=2 * x, ys=y / 5) > 0.4)
    vertical = rock & ~cave & ~horizontal & (field(7, 3, xs=x / 5, ys=2 * y) > 0.4)
    tunnels = horizontal | vertical
    mineable = rock & ~cave & ~tunnels  # coal, iron, diamond, lava or stone
    coal_noise = field(1, 8) > 0
    iron_noise = field(2, 6) > 0.4
    lava = mountain > 0.3
    lava &= field(6, 5) > 0.35
    land = ~grass & ~rock
    sand = land & (0.25 < water) & (water <= 0.35) & (field(4, 9) > -0.2)
    lake = land & ~sand & (0.3 < water)
    grassland = land & ~sand & ~lake
    tree_noise = field(5, 7) > 0

    ids = world._mat_ids  # every material is known to the world from its construction
    materials = np.full((width, height), ids["grass"], dtype=np.uint8)
    materials[cave | tunnels] = ids["path"]
    materials[sand] = ids["sand"]
    materials[lake] = ids["water"]
    materials[mineable] = np.where(lava[mineable], ids["lava"], ids["stone"])
    flat = materials.reshape(-1)

    # Where Crafter draws from the generator, cell by cell in its order (x-major, y-minor):
    # a tree in grassland, then coal, iron or diamond in rock (each draw only if the
    # cell gets that far), then the creatures on walkable cells.
    uniform: Callable[[], float] = world.random.uniform
    drawing = np.flatnonzero(mineable | (grassland & tree_noise))
    cells = zip(
        drawing.tolist(),
        grassland.reshape(-1)[drawing].tolist(),
        coal_noise.reshape(-1)[drawing].tolist(),
        iron_noise.reshape(-1)[drawing].tolist(),
        (mountain.reshape(-1)[drawing] > 0.18).tolist(),
        strict=True,
    )
    for index, in_grassland, coal, iron, deep in cells:
        if in_grassland:
            if uniform() > 0.8:
                flat[index] = ids["tree"]
        elif coal and uniform() > 0.85:
            flat[index] = ids["coal"]
        elif iron and uniform() > 0.75:
            flat[index] = ids["iron"]
        elif deep and uniform() > 0.994:
            flat[index] = ids["diamond"]
    world._mat_map[:, :] = materials

    grass_cells = (materials == ids["grass"]).reshape(-1)
    tunnel_paths = ((materials == ids["path"]) & tunnels).reshape(-1)
    walkable = np.flatnonzero(np.isin(materials, [ids[name] for name in constants.walkable]).reshape(-1))
    creatures = zip(
        walkable.tolist(),
        grass_cells[walkable].tolist(),
        tunnel_paths[walkable].tolist(),
        (distance.reshape(-1)[walkable] > 3).tolist(),
        (distance.reshape(-1)[walkable] > 10).tolist(),
        strict=True,
    )
    for index, on_grass, in_tunnel, far, very_far in creatures:
        position = divmod(index, height)
        if far and on_grass and uniform() > 0.985:
            world.add(objects.Cow(world, position))
        elif very_far and uniform() > 0.993:
            world.add(objects.Zombie(world, position, player))
        elif in_tunnel and uniform() > 0.95:
            world.add(objects.Skeleton(world, position, player))
