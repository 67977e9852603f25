"""Minecraft demonstrations from OpenAI's VPT contractor data and MineRL BASALT.

Both record one JSON object per frame in a ``.jsonl`` file (``<recorder-version>/<name>.jsonl``):
the keyboard and mouse input of that frame, whether a GUI is open, and the whole
inventory. Reading them needs neither the ``minerl`` package nor Java. Contents:

- :func:`find_vpt_episodes` lists the ``.jsonl`` files of a folder.
- :func:`load_vpt_episode` reads one file into an :class:`~rudder.data.Episode` whose
  inventory observations, ``"inventory/<item>"``, match those of the MineRL v0.4 dataset
  (:mod:`rudder.data.minerl`), so both can be aligned with the same
  :class:`~rudder.events.InventoryEncoder`.
- :func:`iter_vpt_episodes` reads the files of a folder one at a time.
- :data:`VPT_ACTION_COLUMNS` and :data:`CAMERA_DEGREES_PER_PIXEL` describe the action matrix.

The item names, the ObtainDiamond rewards and the binary actions are those of
:mod:`rudder.minecraft` (:data:`~rudder.minecraft.MINERL_ITEMS`,
:data:`~rudder.minecraft.ITEM_REWARDS`, :data:`~rudder.minecraft.BINARY_ACTIONS`).

Example:
    >>> from rudder.minecraft import MINERL_ITEMS
    >>> from rudder.data.vpt import iter_vpt_episodes
    >>> episodes = list(iter_vpt_episodes("~/basalt/FindCave", items=MINERL_ITEMS,
    ...                                   limit=20))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rudder.data.episode import Episode
from rudder.data.reading import check_limit, with_progress
from rudder.errors import DataFormatError
from rudder.minecraft import BINARY_ACTIONS, ITEM_REWARDS

__all__ = [
    "CAMERA_DEGREES_PER_PIXEL",
    "VPT_ACTION_COLUMNS",
    "find_vpt_episodes",
    "iter_vpt_episodes",
    "load_vpt_episode",
]

#: The columns of a VPT/BASALT action matrix (0/1 keys and buttons, camera in degrees).
VPT_ACTION_COLUMNS: tuple[str, ...] = (*BINARY_ACTIONS, "use", "camera_pitch", "camera_yaw")

#: Degrees of camera turn per pixel of mouse movement in the VPT recordings.
CAMERA_DEGREES_PER_PIXEL = 360.0 / 2400.0

_VPT_KEYS = {
    "key.keyboard.w": "forward",
    "key.keyboard.s": "back",
    "key.keyboard.a": "left",
    "key.keyboard.d": "right",
    "key.keyboard.space": "jump",
    "key.keyboard.left.shift": "sneak",
    "key.keyboard.left.control": "sprint",
}
_VPT_BUTTONS = {0: "attack", 1: "use"}


# -- reading one file --------------------------------------------------------------------
#: The largest item quantity a VPT inventory entry may hold (a Minecraft stack holds 64).
MAX_QUANTITY = 2**31 - 1


def _item_name(raw: str, *, merge_variants: bool) -> str:
    """``minecraft:oak_log`` -> ``log`` (with ``merge_variants``) or ``oak_log``."""
    name = raw.removeprefix("minecraft:")
    if merge_variants:
        if name.endswith("_log"):
            return "log"
        if name.endswith("_planks"):
            return "planks"
    return name


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """``(line number, record)`` of every non-blank line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise DataFormatError(f"{str(path)!r} is not UTF-8 text ({error})") from error
    last = max((number for number, line in enumerate(lines, 1) if line.strip()), default=0)
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except RecursionError:
            raise DataFormatError(
                f"{str(path)!r}, line {number}: the JSON is nested too deeply to be a VPT record; re-download the file"
            ) from None
        except json.JSONDecodeError as error:
            hint = " (the last line is cut off: the file is truncated)" if number == last else ""
            raise DataFormatError(
                f"{str(path)!r}, line {number}: invalid JSON ({error.msg} at column "
                f"{error.colno}){hint}; re-download the file"
            ) from error
        if not isinstance(record, dict):
            raise DataFormatError(
                f"{str(path)!r}, line {number}: expected one JSON object per line, got "
                f"{type(record).__name__}"
            )
        records.append((number, record))
    if not records:
        raise DataFormatError(
            f"{str(path)!r} is empty; a VPT/BASALT .jsonl file holds one JSON object per "
            "frame, one per line"
        )
    return records


def _vpt_inventory(
    record: Mapping[str, Any], *, number: int, path: Path, merge_variants: bool
) -> dict[str, int]:
    inventory = record.get("inventory")
    if not isinstance(inventory, list):
        raise DataFormatError(
            f"{str(path)!r}, line {number}: no 'inventory' list (files stripped of the "
            "inventory, as some BASALT files are, cannot give inventory observations)"
        )
    counts: dict[str, int] = {}
    for entry in inventory:
        quantity = entry.get("quantity") if isinstance(entry, dict) else None
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("type"), str)
            or isinstance(quantity, bool)
            or not isinstance(quantity, (int, float))
            or not 0 <= quantity <= MAX_QUANTITY  # False for NaN
            or quantity != int(quantity)
        ):
            raise DataFormatError(
                f"{str(path)!r}, line {number}: inventory entries must be "
                f'{{"type": str, "quantity": whole number in [0, {MAX_QUANTITY}]}}, got {str(entry)[:200]}'
            )
        name = _item_name(entry["type"], merge_variants=merge_variants)
        counts[name] = counts.get(name, 0) + int(quantity)
    return counts


def _vpt_action(record: Mapping[str, Any], *, number: int, path: Path) -> np.ndarray:
    """Shape (len(VPT_ACTION_COLUMNS),): the keys, buttons and camera of one frame."""
    keyboard = record.get("keyboard") or {}
    mouse = record.get("mouse") or {}
    if not isinstance(keyboard, dict) or not isinstance(mouse, dict):
        raise DataFormatError(
            f"{str(path)!r}, line {number}: 'keyboard' and 'mouse' must be JSON objects"
        )
    action = np.zeros(len(VPT_ACTION_COLUMNS), dtype=np.float32)
    keys, buttons = keyboard.get("keys") or [], mouse.get("buttons") or []
    if not isinstance(keys, list) or not isinstance(buttons, list) \
            or not all(isinstance(value, (str, int)) and not isinstance(value, bool) for value in keys + buttons):
        raise DataFormatError(
            f"{str(path)!r}, line {number}: keyboard 'keys' and mouse 'buttons' must be lists of names or numbers"
        )
    for key in keys:
        if key in _VPT_KEYS:
            action[VPT_ACTION_COLUMNS.index(_VPT_KEYS[key])] = 1.0
    for button in buttons:
        if button in _VPT_BUTTONS:
            action[VPT_ACTION_COLUMNS.index(_VPT_BUTTONS[button])] = 1.0
    # With a GUI open the mouse moves a cursor, not the camera (as in VPT's loader).
    if not record.get("isGuiOpen", False):
        try:
            pitch = float(mouse.get("dy", 0.0)) * CAMERA_DEGREES_PER_PIXEL
            yaw = float(mouse.get("dx", 0.0)) * CAMERA_DEGREES_PER_PIXEL
            if not (math.isfinite(pitch) and math.isfinite(yaw)):
                raise ValueError("not finite")
        except (TypeError, ValueError, OverflowError):
            raise DataFormatError(
                f"{str(path)!r}, line {number}: mouse 'dx'/'dy' must be finite numbers, got "
                f"{mouse.get('dx')!r}/{mouse.get('dy')!r}"
            ) from None
        action[VPT_ACTION_COLUMNS.index("camera_pitch")] = pitch
        action[VPT_ACTION_COLUMNS.index("camera_yaw")] = yaw
    return action


def _check_items(items: Sequence[str] | None) -> tuple[str, ...] | None:
    if items is None:
        return None
    if isinstance(items, str):
        raise TypeError(f"`items` must be a sequence of item names, got the string {items!r}")
    items = tuple(items)
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"`items` must be non-empty item names, got {list(items)}")
    if len(set(items)) != len(items):
        raise ValueError(f"`items` must be unique, got {list(items)}")
    return items


def load_vpt_episode(
    jsonl_path: str | os.PathLike,
    *,
    merge_variants: bool = True,
    items: Sequence[str] | None = None,
) -> Episode:
    """Reads one VPT/BASALT ``.jsonl`` log (one JSON object per frame) into an episode.

    Each line is one state s_t, and its keyboard and mouse fields are the action taken
    there, so a file of N lines gives T = N - 1 steps (the last line's action is
    dropped). Null-action frames are kept.

    - ``observations``: ``"inventory/<item>"`` int64 (T+1,) for every item seen in the
      file, or for each of ``items`` (0 where the item is absent: each line lists the
      whole inventory). Quantities of one type are summed; a ``minecraft:`` prefix is
      removed. A file whose inventory is empty in every line gives ``"inventory/log"``,
      all 0.
    - ``actions``: float32 (T, len(:data:`VPT_ACTION_COLUMNS`)): W/S/A/D, space,
      left shift and left control as forward/back/left/right/jump/sneak/sprint, mouse
      buttons 0/1 as attack/use, and the camera (dy, dx) * 360/2400 in degrees (0 while a
      GUI is open).
    - ``rewards``: ObtainDiamond's :data:`~rudder.minecraft.ITEM_REWARDS`, paid at the
      first step in which an item's count increases (once per item, like the non-Dense
      MineRL tasks); the recordings have no reward of their own.
    - ``terminated`` when a diamond is obtained, else ``truncated``.

    Args:
        jsonl_path: the ``.jsonl`` file.
        merge_variants: count wood variants as ObtainDiamond's items: every ``*_log``
            (``oak_log``, ``birch_log``, ``stripped_spruce_log``, ...) as ``log`` and every
            ``*_planks`` as ``planks``.
        items: the inventory observations to keep, for example
            :data:`~rudder.minecraft.MINERL_ITEMS`. Episodes meant to be aligned
            together need the same observation keys, and each file holds different
            items, so pass the same ``items`` for all of them. ``None``: every item of
            the file. The rewards count every item either way.

    Raises:
        FileNotFoundError: if the file does not exist.
        DataFormatError: if the file is empty, a line is not valid JSON (the message
            names the line), or a line lacks a well-formed ``inventory``.
    """
    kept_items = _check_items(items)
    path = Path(jsonl_path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no VPT .jsonl file at {str(path)!r}")
    records = _read_jsonl(path)
    inventories = [
        _vpt_inventory(record, number=number, path=path, merge_variants=merge_variants)
        for number, record in records
    ]
    items = sorted({item for inventory in inventories for item in inventory})
    counts = np.array(
        [[inventory.get(item, 0) for item in items] for inventory in inventories], dtype=np.int64
    ).reshape(len(records), len(items))
    num_steps = len(records) - 1
    actions = np.array(
        [_vpt_action(record, number=number, path=path) for number, record in records[:-1]],
        dtype=np.float32,
    ).reshape(num_steps, len(VPT_ACTION_COLUMNS))

    rewards = np.zeros(num_steps, dtype=np.float64)
    gained = np.diff(counts, axis=0) > 0
    for column, item in enumerate(items):
        steps = np.flatnonzero(gained[:, column])
        if steps.size:
            rewards[steps[0]] += ITEM_REWARDS.get(item, 0.0)
    got_diamond = "diamond" in items and bool(gained[:, items.index("diamond")].any())
    if kept_items is not None:
        counts = np.array(
            [[inventory.get(item, 0) for item in kept_items] for inventory in inventories],
            dtype=np.int64,
        ).reshape(len(records), len(kept_items))
        items = list(kept_items)
    observations = {f"inventory/{item}": counts[:, column] for column, item in enumerate(items)}
    if not observations:
        # An episode needs an observation; an empty inventory in every line means 0 logs.
        observations = {"inventory/log": np.zeros(len(records), dtype=np.int64)}
    return Episode(
        observations=observations,
        actions=actions,
        rewards=rewards,
        terminated=got_diamond,
        truncated=not got_diamond,
    )


# -- finding and reading the files of a folder -------------------------------------------
def find_vpt_episodes(path: str | os.PathLike) -> list[Path]:
    """The ``.jsonl`` files of a VPT/BASALT folder (searched recursively), sorted.

    Args:
        path: a folder, or one ``.jsonl`` file.

    Raises:
        FileNotFoundError: if ``path`` does not exist or holds no ``.jsonl`` file.
    """
    path = Path(path).expanduser()
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FileNotFoundError(f"no VPT data at {str(path)!r}: the path does not exist")
    files = sorted(file for file in path.rglob("*.jsonl") if file.is_file())
    if not files:
        raise FileNotFoundError(
            f"no .jsonl files in {str(path)!r}; expected VPT/BASALT recordings "
            "(<recorder-version>/<name>.jsonl, one JSON object per frame)"
        )
    return files


def iter_vpt_episodes(
    folder: str | os.PathLike,
    *,
    merge_variants: bool = True,
    items: Sequence[str] | None = None,
    limit: int | None = None,
    progress: bool = False,
) -> Iterator[Episode]:
    """Reads the ``.jsonl`` files of a folder one at a time (see :func:`load_vpt_episode`).

    Args:
        folder: a folder searched recursively for ``.jsonl`` files, or one file.
        merge_variants: see :func:`load_vpt_episode`.
        items: the inventory observations to keep (see :func:`load_vpt_episode`); pass
            for example :data:`~rudder.minecraft.MINERL_ITEMS`, so that all episodes
            have the same keys.
        limit: read at most this many files (the first ones by path).
        progress: show a tqdm progress bar.

    Returns:
        An iterator of episodes, in the order of the sorted file paths.
    """
    limit = check_limit(limit)
    items = _check_items(items)
    files = find_vpt_episodes(folder)[:limit]

    def episodes() -> Iterator[Episode]:
        for file in with_progress(files, progress, "VPT recordings"):
            yield load_vpt_episode(file, merge_variants=merge_variants, items=items)

    return episodes()
