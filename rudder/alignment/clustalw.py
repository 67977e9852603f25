"""Optional cross-check backend: multiple alignment with the ClustalW 2.1 binary.

The official Align-RUDDER code aligned demonstrations with ClustalW. This module runs
the ``clustalw`` executable (``apt-get install clustalw``) in a temporary directory so
that :func:`~rudder.alignment.align_sequences` can be compared with it. Facts about
ClustalW 2.1 that shape the implementation:

- It reads only amino-acid letters (``J`` is silently dropped), so event id k is
  written as the k-th letter of ``"GALMFWKQESPVICYHRNDT"``; at most 20 events.
- A user matrix row whose first value contains ``"."`` is multiplied by 10 and
  truncated to integers, and very large values (around 1e5) break it. The scores are
  therefore written as integers ``round(matrix_scale * s)``; by default
  ``matrix_scale`` is 10 (ClustalW's own convention), reduced so that the largest
  absolute entry is at most 1000; a non-zero score that would round to 0 is written
  as +-1. Rounding can change ties and near-ties.
- Debian's ClustalW 2.1 crashes with the UPGMA guide tree, so neighbor joining is used.
- ``-NEGATIVE`` keeps negative matrix entries as they are.
- Gaps: ClustalW uses affine, position-specific gap penalties that it rescales
  internally, and it does not penalise end gaps. Only ``gap_score == 0`` (all gap
  penalties 0, the official Align-RUDDER setting) matches the linear gap model of
  this library, so other gap scores are rejected. (Passing ``-10 * gap_score`` as
  penalties was tried: ClustalW then aligned two random sequences end to end with no
  overlap, since end gaps are free.)
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rudder.alignment.msa import MultipleAlignment
from rudder.alignment.scoring import GAP, ScoringScheme, as_event_array, check_rows
from rudder.errors import AlignmentError, DependencyNotInstalled

__all__ = ["CLUSTALW_LETTERS", "clustalw_align", "clustalw_available", "clustalw_profile_align"]

#: The amino-acid letters used for event ids 0..19, in this order.
CLUSTALW_LETTERS = "GALMFWKQESPVICYHRNDT"
_MAX_ENTRY = 1000
_LETTER_INDEX = {letter: index for index, letter in enumerate(CLUSTALW_LETTERS)}


def clustalw_available(executable: str = "clustalw") -> bool:
    """Whether the ClustalW executable is on the PATH."""
    return shutil.which(executable) is not None


def _executable(executable: str) -> str:
    path = shutil.which(executable)
    if path is None:
        raise DependencyNotInstalled(
            f"the ClustalW executable {executable!r} is not on the PATH; install it with "
            "`apt-get install clustalw` (Debian/Ubuntu) or use align_sequences instead"
        )
    return path


def _check_scoring(scoring: ScoringScheme) -> None:
    if scoring.num_events > len(CLUSTALW_LETTERS):
        raise ValueError(
            f"ClustalW can align at most {len(CLUSTALW_LETTERS)} events, but the scoring scheme "
            f"has {scoring.num_events}; use align_sequences, which has no such limit"
        )
    if scoring.gap_score != 0.0:
        raise ValueError(
            f"the ClustalW backend needs gap_score=0 (ClustalW rescales gap penalties and does "
            f"not penalise end gaps, so it cannot mirror a linear gap score), got "
            f"gap_score={scoring.gap_score}; use align_sequences for other gap scores"
        )


def _scale(scoring: ScoringScheme, matrix_scale: float | None) -> float:
    if matrix_scale is not None:
        if not matrix_scale > 0:
            raise ValueError(f"`matrix_scale` must be positive, got {matrix_scale}")
        return float(matrix_scale)
    largest = float(np.max(np.abs(scoring.matrix)))
    if largest == 0.0:
        return 10.0
    return min(10.0, _MAX_ENTRY / largest)


def _write_matrix(path: Path, scoring: ScoringScheme, scale: float) -> None:
    """Writes the matrix in ClustalW's user-matrix format (all 20 letters and ``*``)."""
    size = len(CLUSTALW_LETTERS)
    num_events = scoring.num_events
    values = np.full((size + 1, size + 1), -_MAX_ENTRY, dtype=np.int64)
    scaled = np.round(scale * scoring.matrix)
    # keep the sign of small non-zero scores (a mismatch must not become free)
    scaled = np.where((scaled == 0) & (scoring.matrix != 0), np.sign(scoring.matrix), scaled)
    values[:num_events, :num_events] = scaled.astype(np.int64)
    lines = ["   " + " ".join(CLUSTALW_LETTERS) + " *"]
    for index, letter in enumerate(CLUSTALW_LETTERS + "*"):
        lines.append(letter + " " + " ".join(str(int(value)) for value in values[index]))
    path.write_text("\n".join(lines) + "\n")


def _to_letters(row: np.ndarray) -> str:
    return "".join(CLUSTALW_LETTERS[event] if event >= 0 else "-" for event in row)


def _write_fasta(path: Path, names: Sequence[str], rows: Sequence[np.ndarray]) -> None:
    path.write_text(
        "".join(f">{name}\n{_to_letters(row)}\n" for name, row in zip(names, rows, strict=True))
    )


def _read_fasta(path: Path, program: str = "ClustalW") -> dict[str, np.ndarray]:
    records: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith(">"):
            current = records.setdefault(line[1:].split()[0], [])
        elif current is not None:
            current.append(line)
    result = {}
    for name, parts in records.items():
        text = "".join(parts).upper()
        try:
            result[name] = np.array(
                [GAP if letter == "-" else _LETTER_INDEX[letter] for letter in text], dtype=np.int64
            )
        except KeyError as error:
            raise AlignmentError(
                f"{program} wrote an unexpected letter {error} in {path.name}"
            ) from None
    return result


_ZERO_GAPS = ["-GAPOPEN=0", "-GAPEXT=0"]
_ZERO_PAIRWISE_GAPS = ["-PWGAPOPEN=0", "-PWGAPEXT=0"]


def _run(command: list[str], directory: Path, timeout: float, program: str = "ClustalW") -> None:
    try:
        completed = subprocess.run(
            command, cwd=directory, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise AlignmentError(
            f"{program} did not finish within {timeout} s; raise `timeout`"
        ) from None
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip()[-2000:]
        raise AlignmentError(f"{program} failed (exit code {completed.returncode}): {output}")


def clustalw_align(
    sequences: Sequence[np.ndarray],
    scoring: ScoringScheme,
    *,
    matrix_scale: float | None = None,
    executable: str = "clustalw",
    timeout: float = 600.0,
) -> MultipleAlignment:
    """Multiple alignment with ClustalW (neighbor-joining guide tree).

    Empty sequences are not given to ClustalW; their rows are all gaps. A single
    non-empty sequence is returned as it is without running ClustalW.

    Args:
        sequences: n event sequences, ids in ``[0, N)``, N <= 20.
        scoring: the scoring scheme (see the module docstring for scaling and gaps).
        matrix_scale: integer scale of the written matrix (default: see module).
        executable: the ClustalW command.
        timeout: seconds before giving up.

    Returns:
        The alignment; row k holds sequence k.

    Raises:
        DependencyNotInstalled: ClustalW is not on the PATH.
        AlignmentError: no sequences, all empty, or ClustalW failed.
        ValueError: more than 20 events, a non-zero gap score, or a bad id.
    """
    _check_scoring(scoring)
    arrays = [
        as_event_array(sequence, num_events=scoring.num_events, name=f"sequences[{index}]")
        for index, sequence in enumerate(sequences)
    ]
    if not arrays:
        raise AlignmentError("no sequences to align; pass at least one event sequence")
    nonempty = [index for index, array in enumerate(arrays) if array.size]
    if not nonempty:
        raise AlignmentError(f"all {len(arrays)} sequences are empty; there is nothing to align")
    program = _executable(executable)
    if len(nonempty) == 1:
        records = {f"s{nonempty[0]}": arrays[nonempty[0]]}
    else:
        scale = _scale(scoring, matrix_scale)
        with tempfile.TemporaryDirectory(prefix="rudder-clustalw-") as name:
            directory = Path(name)
            _write_matrix(directory / "matrix.txt", scoring, scale)
            _write_fasta(
                directory / "input.fasta",
                [f"s{k}" for k in nonempty],
                [arrays[k] for k in nonempty],
            )
            _run(
                [
                    program,
                    "-ALIGN",
                    "-CLUSTERING=NJ",
                    "-NEGATIVE",
                    "-INFILE=input.fasta",
                    "-OUTFILE=output.fasta",
                    "-NEWTREE=input.dnd",
                    "-PWMATRIX=matrix.txt",
                    "-MATRIX=matrix.txt",
                    *_ZERO_GAPS,
                    *_ZERO_PAIRWISE_GAPS,
                    "-CASE=UPPER",
                    "-TYPE=PROTEIN",
                    "-OUTPUT=FASTA",
                    "-OUTORDER=INPUT",
                    "-QUIET",
                ],
                directory,
                timeout,
            )
            records = _read_fasta(directory / "output.fasta")
    return _alignment_from_records(records, nonempty, len(arrays), program="ClustalW")


def _alignment_from_records(records: dict, nonempty: list, count: int, *, program: str) -> MultipleAlignment:
    """The (count, L) alignment of an aligner's FASTA records ``s{k}`` for the non-empty
    sequences ``nonempty``; empty sequences are rows of gaps."""
    aligned = {}
    for k in nonempty:
        if f"s{k}" not in records:
            raise AlignmentError(f"{program}'s output lacks sequence s{k}")
        aligned[k] = records[f"s{k}"]
    length = len(next(iter(aligned.values())))
    rows = np.full((count, length), GAP, dtype=np.int64)
    for k, row in aligned.items():
        if row.size != length:
            raise AlignmentError(f"{program} returned rows of different lengths")
        rows[k] = row
    return MultipleAlignment(rows=rows)


def clustalw_profile_align(
    alignment: MultipleAlignment,
    sequence: np.ndarray,
    scoring: ScoringScheme,
    *,
    matrix_scale: float | None = None,
    executable: str = "clustalw",
    timeout: float = 600.0,
) -> MultipleAlignment:
    """Adds one sequence to an alignment with ClustalW's profile alignment.

    Args:
        alignment: the existing alignment, n rows (all-gap columns are dropped first,
            as ClustalW would).
        sequence: shape (K,), ids in ``[0, N)``, N <= 20 (may be empty).
        scoring: the scoring scheme.
        matrix_scale: integer scale of the written matrix (default: see module).
        executable: the ClustalW command.
        timeout: seconds before giving up.

    Returns:
        n + 1 rows; the new sequence is the last row.

    Raises:
        DependencyNotInstalled: ClustalW is not on the PATH.
        AlignmentError: ClustalW failed or the alignment has no events.
    """
    _check_scoring(scoring)
    rows = check_rows(alignment.rows, num_events=scoring.num_events, name="alignment.rows")
    array = as_event_array(sequence, num_events=scoring.num_events, name="sequence")
    rows = rows[:, np.any(rows >= 0, axis=0)]
    program = _executable(executable)
    if rows.shape[1] == 0 or array.size == 0:
        if rows.shape[1] == 0 and array.size == 0:
            raise AlignmentError("both the alignment and the sequence are empty; nothing to align")
        if array.size == 0:
            return MultipleAlignment(rows=np.vstack([rows, np.full((1, rows.shape[1]), GAP)]))
        gaps = np.full((rows.shape[0], array.size), GAP, dtype=np.int64)
        return MultipleAlignment(rows=np.vstack([gaps, array[None, :]]))
    nonempty = [k for k in range(rows.shape[0]) if np.any(rows[k] >= 0)]
    scale = _scale(scoring, matrix_scale)
    with tempfile.TemporaryDirectory(prefix="rudder-clustalw-") as name:
        directory = Path(name)
        _write_matrix(directory / "matrix.txt", scoring, scale)
        _write_fasta(
            directory / "profile.fasta", [f"s{k}" for k in nonempty], [rows[k] for k in nonempty]
        )
        _write_fasta(directory / "sequence.fasta", ["new"], [array])
        _run(
            [
                program,
                "-PROFILE",
                "-PROFILE1=profile.fasta",
                "-PROFILE2=sequence.fasta",
                "-NEGATIVE",
                "-MATRIX=matrix.txt",
                *_ZERO_GAPS,
                "-CASE=UPPER",
                "-TYPE=PROTEIN",
                "-OUTPUT=FASTA",
                "-OUTFILE=output.fasta",
                "-OUTORDER=INPUT",
                "-QUIET",
            ],
            directory,
            timeout,
        )
        records = _read_fasta(directory / "output.fasta")
    if "new" not in records or any(f"s{k}" not in records for k in nonempty):
        raise AlignmentError("ClustalW's profile output lacks some sequences")
    length = records["new"].size
    result = np.full((rows.shape[0] + 1, length), GAP, dtype=np.int64)
    for k in nonempty:
        if records[f"s{k}"].size != length:
            raise AlignmentError("ClustalW returned rows of different lengths")
        result[k] = records[f"s{k}"]
    result[-1] = records["new"]
    return MultipleAlignment(rows=result)
