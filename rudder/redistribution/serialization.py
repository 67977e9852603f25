"""Saving and loading redistributors: ``model.json`` + ``arrays.npz``, versioned, no pickle."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from rudder._directories import read_versioned_json, staged_directory
from rudder.alignment import MultipleAlignment, ScoringScheme
from rudder.errors import DataFormatError
from rudder.events import load_encoder
from rudder.profile.model import ProfileModel

MODEL_FORMAT = "align-rudder/alignment-redistributor"
MODEL_FORMAT_VERSION = 1
CONFIG_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"


def save_redistributor(redistributor, path: str | os.PathLike) -> None:
    """Writes a fitted :class:`AlignmentRedistributor` to the directory ``path``.

    The directory is written next to its destination and moved into place at the end,
    so a failure leaves no half-written model. An existing model directory at ``path``
    is replaced; any other non-empty directory is refused.
    """
    from rudder import __version__

    profile = redistributor._require_fitted()
    path = Path(path)
    if path.exists() and (not path.is_dir() or (any(path.iterdir()) and not (path / CONFIG_FILE).exists())):
        raise FileExistsError(
            f"{str(path)!r} exists and is not an align-rudder model directory; choose another path"
        )
    encoder = redistributor.encoder
    config: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "library_version": __version__,
        "settings": dataclasses.asdict(redistributor.settings),
        "scale": redistributor.scale,
        "gap_score": redistributor.scoring.gap_score,
        "encoder": encoder.get_config(),
    }
    arrays: dict[str, np.ndarray] = {
        "alignment_rows": redistributor.alignment.rows,
        "aligned_demos": redistributor.aligned_demos,
        "scoring_matrix": redistributor.scoring.matrix,
        "profile_scores": profile.scores,
        "profile_column_counts": profile.column_counts,
        "background": profile.background,
        "demo_returns": redistributor.demo_returns,
        "demo_scores": redistributor.demo_scores,
    }
    for key, value in encoder.get_arrays().items():
        arrays[f"encoder/{key}"] = np.asarray(value)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    text = json.dumps(config, indent=2, sort_keys=True)

    with staged_directory(path) as staging:
        (staging / ARRAYS_FILE).write_bytes(buffer.getvalue())
        (staging / CONFIG_FILE).write_text(text + "\n")


def load_redistributor(path: str | os.PathLike, **encoder_overrides: Any):
    """Reads a model directory written by :func:`save_redistributor`.

    Raises:
        FileNotFoundError: if ``path`` holds no model.
        DataFormatError: if a file is truncated, corrupt or inconsistent.
        FormatVersionError: if the model was written by a newer format version.
    """
    from rudder.redistribution.alignment import AlignmentRedistributor, AlignmentSettings

    path = Path(path)
    config_path, arrays_path = path / CONFIG_FILE, path / ARRAYS_FILE
    for required in (config_path, arrays_path):
        if not required.exists():
            raise FileNotFoundError(
                f"no align-rudder model at {str(path)!r}: {required.name} is missing "
                "(write one with `rudder align` or AlignmentRedistributor.save)"
            )
    config = read_versioned_json(config_path, format=MODEL_FORMAT, version=MODEL_FORMAT_VERSION,
                                 what="an align-rudder alignment model")
    try:
        with np.load(arrays_path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise DataFormatError(
            f"cannot read {str(arrays_path)!r}: the file is truncated or corrupt ({error}); "
            "fit and save the model again"
        ) from error
    try:
        encoder_arrays = {k[len("encoder/") :]: v for k, v in arrays.items() if k.startswith("encoder/")}
        encoder = load_encoder(config["encoder"], encoder_arrays, **encoder_overrides)
        # Models written before delete_by_occupancy existed skipped columns at a constant cost.
        redistributor = AlignmentRedistributor(encoder, **{"delete_by_occupancy": False, **config["settings"]})
        rows = arrays["alignment_rows"]
        redistributor.alignment = MultipleAlignment(rows=rows)
        redistributor.aligned_demos = arrays["aligned_demos"]
        redistributor.scoring = ScoringScheme(matrix=arrays["scoring_matrix"], gap_score=config["gap_score"])
        settings: AlignmentSettings = redistributor.settings
        redistributor.profile = ProfileModel(
            scores=arrays["profile_scores"],
            column_counts=arrays["profile_column_counts"],
            background=arrays["background"],
            num_sequences=rows.shape[0],
            pseudocount=settings.pseudocount,
            insert_score=settings.insert_score,
            delete_score=settings.delete_score,
            consensus_threshold=settings.consensus_threshold,
            delete_by_occupancy=settings.delete_by_occupancy,
        )
        redistributor.scale = float(config["scale"])
        redistributor.demo_returns = arrays["demo_returns"]
        redistributor.demo_scores = arrays["demo_scores"]
    except KeyError as error:
        raise DataFormatError(f"{str(path)!r} is incomplete: {error} is missing") from error
    if redistributor.profile.num_events != len(encoder.alphabet):
        raise DataFormatError(
            f"{str(path)!r} is inconsistent: the profile has {redistributor.profile.num_events} "
            f"events but the encoder's alphabet has {len(encoder.alphabet)}"
        )
    return redistributor
