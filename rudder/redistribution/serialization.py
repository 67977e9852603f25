"""Saving and loading redistributors, versioned and without pickle.

An alignment model is a directory with ``model.json`` + ``arrays.npz`` (written here); a
RUDDER LSTM model one with ``config.json`` + ``model.pt`` (written by
:meth:`~rudder.redistribution.LSTMRedistributor.save`). Both JSON files name their
``"format"``, and :func:`load_redistributor` reads either kind by it.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import typing
from pathlib import Path
from typing import Any

import numpy as np

from rudder._files import directory_kind, owned_directory, read_json, read_versioned_json, reading
from rudder.alignment import MultipleAlignment, ScoringScheme
from rudder.data.io import read_npz
from rudder.errors import DataFormatError, DependencyNotInstalled
from rudder.events import load_encoder
from rudder.profile.model import ProfileModel
from rudder.redistribution.alignment import AlignmentRedistributor, AlignmentSettings, ScaleSource
from rudder.redistribution.base import Redistributor

__all__ = [
    "LSTM_FORMAT",
    "MODEL_FORMAT",
    "MODEL_FORMAT_VERSION",
    "load_alignment_model",
    "load_redistributor",
    "save_alignment_model",
]

MODEL_FORMAT = "align-rudder/alignment-redistributor"
#: Version 2 added ``settings.form``, ``settings.discount`` and ``scale_source``; version 1
#: models load with the defaults ("difference" form) and ``scale_source`` "demonstrations"
#: (they were fitted with C = mean demo return / mean demo score gain).
MODEL_FORMAT_VERSION = 2
CONFIG_FILE = "model.json"
ARRAYS_FILE = "arrays.npz"
#: The ``"format"`` of RUDDER LSTM models (``config.json``); see :mod:`rudder.redistribution.lstm`.
LSTM_FORMAT = "align-rudder/lstm-redistributor"
LSTM_CONFIG_FILE = "config.json"


def load_redistributor(path: str | os.PathLike[str], **overrides: Any) -> Redistributor:
    """Reads any saved redistributor by the ``"format"`` its directory names.

    Args:
        path: a directory written by :meth:`AlignmentRedistributor.save` (``model.json``
            + ``arrays.npz``) or :meth:`~rudder.redistribution.LSTMRedistributor.save`
            (``config.json`` + ``model.pt``, read with ``torch.load(weights_only=True)``).
        **overrides: for alignment models, reach the encoder (for example ``function=``
            for a :class:`~rudder.events.CallableEventEncoder`); LSTM models take none.

    Returns:
        an :class:`AlignmentRedistributor` or an
        :class:`~rudder.redistribution.LSTMRedistributor`.

    Raises:
        FileNotFoundError: if ``path`` holds no model.
        DataFormatError: if the format is missing or unknown, or a file is truncated,
            corrupt or inconsistent.
        FormatVersionError: if the model was written by a newer format version.
        TypeError: if ``overrides`` are given for an LSTM model.
    """
    path = Path(path)
    marked = directory_kind(path)
    saved = marked if marked in (MODEL_FORMAT, LSTM_FORMAT) else _saved_format(path)
    if saved == MODEL_FORMAT:
        return load_alignment_model(path, **overrides)
    if saved == LSTM_FORMAT:
        if overrides:
            raise TypeError(f"{str(path)!r} is a RUDDER LSTM model; it takes no overrides, got {sorted(overrides)}")
        from rudder.redistribution.lstm import LSTMRedistributor

        return LSTMRedistributor.load(path)
    raise DataFormatError(
        f"{str(path)!r} holds a model of unknown format {saved!r}; this align-rudder reads "
        f"{MODEL_FORMAT!r} and {LSTM_FORMAT!r} models"
    )


def _saved_format(path: Path) -> object:
    """The ``"format"`` that the model directory ``path`` names in its JSON record."""
    files = [path / CONFIG_FILE, path / LSTM_CONFIG_FILE]
    found = next((file for file in files if file.is_file()), None)
    if found is None:
        raise FileNotFoundError(
            f"no align-rudder model at {str(path)!r}: neither {CONFIG_FILE} (alignment model) nor "
            f"{LSTM_CONFIG_FILE} (RUDDER LSTM model) is there"
        )
    record = read_json(found)
    if not isinstance(record, dict) or "format" not in record:
        raise DataFormatError(f"{str(found)!r} names no model format (its \"format\" field is missing)")
    return record["format"]


def save_alignment_model(redistributor: AlignmentRedistributor, path: str | os.PathLike[str]) -> None:
    """Writes a fitted :class:`AlignmentRedistributor` to the directory ``path``.

    The directory is written only if it is missing, empty, or an alignment model written
    by align-rudder (its ``.align-rudder`` marker, or for older models its ``model.json``,
    names the format), and then only ``model.json``, ``arrays.npz`` and the marker are
    replaced; the replacement is atomic for concurrent loads and saves (see
    :mod:`rudder._files`), and a failure leaves the earlier model untouched.

    Raises:
        NotFittedError: before ``fit``.
        NotOwnedError: if ``path`` holds anything else (nothing is written then).
    """
    from rudder import __version__

    profile = redistributor.profile  # NotFittedError before fit
    encoder = redistributor.encoder
    config: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "library_version": __version__,
        "settings": dataclasses.asdict(redistributor.settings),
        "scale": redistributor.scale,
        "scale_source": redistributor.scale_source,
        "alignment_method": redistributor.alignment.method,
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
    # numpy's stub matches **arrays against its `allow_pickle: bool` (numpy >= 2.1)
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    text = json.dumps(config, indent=2, sort_keys=True)

    with owned_directory(path, kind=MODEL_FORMAT, owned=(CONFIG_FILE, ARRAYS_FILE),
                         legacy=(CONFIG_FILE, ARRAYS_FILE), what="an align-rudder model directory") as directory:
        directory.write_bytes(ARRAYS_FILE, buffer.getvalue())
        directory.write_text(CONFIG_FILE, text + "\n")


def load_alignment_model(path: str | os.PathLike[str], **encoder_overrides: Any) -> AlignmentRedistributor:
    """Reads a model directory written by :func:`save_alignment_model`.

    Every field is checked before it is used: numbers must be finite, settings of the
    right type and range (see :class:`~rudder.redistribution.AlignmentSettings`), event
    and demonstration ids within range, and the arrays consistent with each other.

    Raises:
        FileNotFoundError: if ``path`` holds no model.
        DataFormatError: if a file is truncated, corrupt or inconsistent; the message
            names the file and the field.
        FormatVersionError: if the model was written by a newer format version.
    """
    path = Path(path)
    config_path, arrays_path = path / CONFIG_FILE, path / ARRAYS_FILE
    with reading(path):
        for required in (config_path, arrays_path):
            if not required.exists():
                raise FileNotFoundError(
                    f"no align-rudder model at {str(path)!r}: {required.name} is missing "
                    "(write one with `rudder align` or AlignmentRedistributor.save)"
                )
        config = read_versioned_json(config_path, format=MODEL_FORMAT, version=MODEL_FORMAT_VERSION,
                                     what="an align-rudder alignment model")
        arrays = _read_arrays(arrays_path)
    try:
        settings = _settings_from(config_path, config["settings"])
        scale = _finite_number(config_path, "scale", config["scale"])
        gap_score = _finite_number(config_path, "gap_score", config["gap_score"])
        scale_source = config.get("scale_source", "demonstrations")
        if scale_source not in typing.get_args(ScaleSource):
            raise DataFormatError(f"{str(path)!r} is inconsistent: unknown scale_source {scale_source!r}")
        encoder_arrays = {k[len("encoder/") :]: v for k, v in arrays.items() if k.startswith("encoder/")}
        try:
            encoder = load_encoder(config["encoder"], encoder_arrays, **encoder_overrides)
        except (DataFormatError, DependencyNotInstalled):
            raise
        except (TypeError, ValueError, KeyError, IndexError, AttributeError, OverflowError) as error:
            raise DataFormatError(
                f"{str(config_path)!r} holds an invalid `encoder` ({type(error).__name__}: {str(error)[:200]}); "
                "fit and save the model again"
            ) from None
        _check_arrays(arrays_path, arrays, num_events=len(encoder.alphabet))
        redistributor = AlignmentRedistributor(encoder, **dataclasses.asdict(settings))
        rows = arrays["alignment_rows"]
        try:
            redistributor.alignment = MultipleAlignment(rows=rows, method=config.get("alignment_method", "exact"))
            redistributor.scoring = ScoringScheme(matrix=arrays["scoring_matrix"], gap_score=gap_score)
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
        except DataFormatError:
            raise
        except ValueError as error:
            raise DataFormatError(f"{str(path)!r} is inconsistent: {error}; fit and save the model again") from error
        redistributor.aligned_demos = arrays["aligned_demos"]
        redistributor.scale = scale
        redistributor.scale_source = scale_source
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


def _read_arrays(file: Path) -> dict[str, np.ndarray]:
    """The arrays of the ``.npz`` file ``file``, read without pickle, their declared sizes
    bounded (:func:`rudder.data.io.read_npz`)."""
    return read_npz(file, fix="fit and save the model again")


def _settings_from(file: Path, saved: object) -> AlignmentSettings:
    """The :class:`AlignmentSettings` saved as ``saved`` in ``file``, every field checked."""
    if not isinstance(saved, dict):
        raise DataFormatError(f"{str(file)!r} is corrupt: its \"settings\" must be an object, got {saved!r}")
    known = {field.name for field in dataclasses.fields(AlignmentSettings)}
    unknown = sorted(set(saved) - known)
    if unknown:
        raise DataFormatError(
            f"{str(file)!r} has unknown settings {unknown}; this align-rudder knows {sorted(known)}"
        )
    try:
        # Models written before delete_by_occupancy existed skipped columns at a constant cost.
        return AlignmentSettings(**{"delete_by_occupancy": False, **saved})
    except (ValueError, TypeError, OverflowError) as error:
        raise DataFormatError(f"{str(file)!r} has an invalid setting: {error}; fit and save the model again") from None


def _finite_number(file: Path, name: str, value: object) -> float:
    """``value``, the field ``name`` of ``file``, as a float, if it is a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1e308 < value < 1e308:
        raise DataFormatError(
            f"{str(file)!r} is corrupt: `{name}` must be a finite number, got {value!r}; "
            "fit and save the model again"
        )
    return float(value)


def _check_arrays(file: Path, arrays: dict[str, np.ndarray], *, num_events: int) -> None:
    """Raises :class:`DataFormatError` unless the model arrays of ``file`` are finite, of
    the right kinds and shapes, and their ids within range (``num_events`` events)."""

    def refuse(name: str, problem: str) -> DataFormatError:
        return DataFormatError(f"{str(file)!r} is corrupt: `{name}` {problem}; fit and save the model again")

    for name in ("demo_returns", "demo_scores", "background", "profile_scores", "scoring_matrix"):
        array = arrays[name]
        if not np.issubdtype(array.dtype, np.number) or not np.all(np.isfinite(array)):
            raise refuse(name, "must hold finite numbers only")
    returns, scores = arrays["demo_returns"], arrays["demo_scores"]
    if returns.ndim != 1 or returns.shape != scores.shape:
        raise refuse("demo_scores", f"must have the shape of `demo_returns` (n,), got {scores.shape} and {returns.shape}")
    rows, aligned = arrays["alignment_rows"], arrays["aligned_demos"]
    if not np.issubdtype(rows.dtype, np.integer) or rows.ndim != 2:
        raise refuse("alignment_rows", f"must be 2-D integer event ids, got {rows.dtype} of shape {rows.shape}")
    if rows.size and (rows.min() < -1 or rows.max() >= num_events):
        raise refuse("alignment_rows", f"must hold event ids in [0, {num_events}) or -1 for a gap, "
                     f"got values in [{int(rows.min())}, {int(rows.max())}]")
    if not np.issubdtype(aligned.dtype, np.integer) or aligned.shape != (rows.shape[0],):
        raise refuse("aligned_demos", f"must be ({rows.shape[0]},) integers, one per alignment row, "
                     f"got {aligned.dtype} of shape {aligned.shape}")
    if aligned.size and (aligned.min() < 0 or aligned.max() >= len(returns)):
        raise refuse("aligned_demos", f"must hold demonstration ids in [0, {len(returns)}), "
                     f"got values in [{int(aligned.min())}, {int(aligned.max())}]")
    if arrays["scoring_matrix"].shape != (num_events, num_events):
        raise refuse("scoring_matrix", f"must have shape ({num_events}, {num_events}), got {arrays['scoring_matrix'].shape}")
    counts = arrays["profile_column_counts"]
    if not np.issubdtype(counts.dtype, np.integer) or (counts.size and counts.min() < 0):
        raise refuse("profile_column_counts", "must hold counts >= 0")
