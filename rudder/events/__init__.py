"""Event encoders: turn the steps of an episode into sequences of discrete events.

Every encoder is fitted on demonstrations, then encodes whole episodes
(:meth:`EventEncoder.encode`) or streams the steps of a running episode
(:meth:`EventEncoder.stream`) with the same result. Saved encoders are rebuilt with
:func:`load_encoder`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rudder.events.base import EventAlphabet, EventEncoder, EventSequence, EventStream
from rudder.events.callable import CallableEventEncoder
from rudder.events.feature_clusters import FeatureClusterEncoder
from rudder.events.inventory import InventoryEncoder
from rudder.events.state_clusters import StateClusterEncoder

__all__ = [
    "CallableEventEncoder",
    "EventAlphabet",
    "EventEncoder",
    "EventSequence",
    "EventStream",
    "FeatureClusterEncoder",
    "InventoryEncoder",
    "StateClusterEncoder",
    "load_encoder",
]


def load_encoder(
    config: Mapping[str, Any], arrays: Mapping[str, np.ndarray], **overrides: Any
) -> EventEncoder:
    """Rebuilds a fitted encoder from its ``get_config()`` and ``get_arrays()``.

    Args:
        config: the encoder's :meth:`~EventEncoder.get_config`; ``config["type"]`` names
            the encoder class.
        arrays: the encoder's :meth:`~EventEncoder.get_arrays`.
        **overrides: passed to ``from_config`` (e.g. ``function=`` for
            :class:`CallableEventEncoder`).

    Raises:
        ValueError: ``config`` has no ``"type"`` or names an unknown encoder.
    """
    if not isinstance(config, Mapping):
        raise TypeError(
            f"`config` must be a mapping from get_config(), got {type(config).__name__}"
        )
    if "type" not in config:
        raise ValueError(
            f"`config` has no 'type' key (keys: {sorted(config)}); pass the dict from "
            "encoder.get_config()"
        )
    name = config["type"]
    encoder_class = EventEncoder.registry.get(name)
    if encoder_class is None:
        raise ValueError(
            f"unknown encoder type {name!r} in `config`; known types: "
            f"{sorted(EventEncoder.registry)} (import the module defining a custom encoder first)"
        )
    return encoder_class.from_config(config, arrays, **overrides)
