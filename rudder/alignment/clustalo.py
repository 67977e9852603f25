"""Optional comparison backend: multiple alignment with the Clustal Omega binary.

Clustal Omega (``apt-get install clustalo``; Sievers et al. 2011) builds its guide
tree from mBed k-mer distances and aligns profile hidden Markov models (HHalign), so it
scales to many sequences; the scaling benchmark times it beside
:func:`~rudder.alignment.align_sequences` and ClustalW. What shapes this wrapper:

- It reads sequences, not scoring schemes: it has no option for a user substitution
  matrix or a linear gap score, and scores with its own protein model and affine gaps.
  Its alignment is therefore a reference for time, and its sum-of-pairs score under
  the caller's scoring scheme says how good it is for that scheme; it is not the
  alignment :func:`align_sequences` optimises.
- Event id k is written as the k-th letter of
  :data:`~rudder.alignment.clustalw.CLUSTALW_LETTERS` (amino-acid letters; at most 20
  events), with ``--seqtype=Protein``; input and output are FASTA (``--outfmt=fa``) in
  input order.
- ``--threads=1`` by default, so that its time is one core's work, as ours is.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rudder.alignment.clustalw import (
    CLUSTALW_LETTERS,
    _alignment_from_records,
    _read_fasta,
    _run,
    _write_fasta,
)
from rudder.alignment.msa import MultipleAlignment
from rudder.alignment.scoring import as_event_array
from rudder.errors import AlignmentError, DependencyNotInstalled

__all__ = ["clustalo_align", "clustalo_available"]


def clustalo_available(executable: str = "clustalo") -> bool:
    """Whether the Clustal Omega executable is on the PATH."""
    return shutil.which(executable) is not None


def clustalo_align(
    sequences: Sequence[np.ndarray],
    *,
    num_events: int,
    threads: int = 1,
    executable: str = "clustalo",
    timeout: float = 3600.0,
) -> MultipleAlignment:
    """Multiple alignment with Clustal Omega (mBed guide tree, HMM profile alignment).

    Empty sequences are not given to Clustal Omega; their rows are all gaps. A single
    non-empty sequence is returned as it is without running it.

    Args:
        sequences: n event sequences, ids in ``[0, num_events)``.
        num_events: the alphabet size N, at most 20.
        threads: Clustal Omega's ``--threads``.
        executable: the Clustal Omega command.
        timeout: seconds before giving up.

    Returns:
        The alignment; row k holds sequence k.

    Raises:
        DependencyNotInstalled: Clustal Omega is not on the PATH.
        AlignmentError: no sequences, all empty, or Clustal Omega failed.
        ValueError: more than 20 events, a bad id, or ``threads`` < 1.
    """
    if num_events > len(CLUSTALW_LETTERS):
        raise ValueError(
            f"Clustal Omega is given amino-acid letters: at most {len(CLUSTALW_LETTERS)} events, "
            f"got num_events={num_events}; use align_sequences, which has no such limit"
        )
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"`threads` must be an int >= 1, got {threads!r}")
    arrays = [as_event_array(sequence, num_events=num_events, name=f"sequences[{index}]") for index, sequence in enumerate(sequences)]
    if not arrays:
        raise AlignmentError("no sequences to align; pass at least one event sequence")
    nonempty = [index for index, array in enumerate(arrays) if array.size]
    if not nonempty:
        raise AlignmentError(f"all {len(arrays)} sequences are empty; there is nothing to align")
    program = shutil.which(executable)
    if program is None:
        raise DependencyNotInstalled(
            f"the Clustal Omega executable {executable!r} is not on the PATH; install it with "
            "`apt-get install clustalo` (Debian/Ubuntu) or use align_sequences instead"
        )
    if len(nonempty) == 1:
        records = {f"s{nonempty[0]}": arrays[nonempty[0]]}
    else:
        with tempfile.TemporaryDirectory(prefix="rudder-clustalo-") as name:
            directory = Path(name)
            _write_fasta(directory / "input.fasta", [f"s{k}" for k in nonempty], [arrays[k] for k in nonempty])
            command = [
                program, "--infile=input.fasta", "--outfile=output.fasta", "--outfmt=fa", "--seqtype=Protein",
                "--output-order=input-order", f"--threads={threads}", "--force",
            ]
            _run(command, directory, timeout, program="Clustal Omega")
            records = _read_fasta(directory / "output.fasta", program="Clustal Omega")
    return _alignment_from_records(records, nonempty, len(arrays), program="Clustal Omega")
