"""Helpers shared by the dataset readers: the limit check and the progress bar."""

from __future__ import annotations

from pathlib import Path

import pytest

from rudder.data.reading import check_limit, with_progress


@pytest.mark.parametrize("limit", [None, 1, 20])
def test_check_limit_passes_none_and_positive_integers(limit):
    assert check_limit(limit) == limit


@pytest.mark.parametrize("limit", [0, -3, 2.0, True, "5"])
def test_check_limit_refuses_the_rest(limit):
    with pytest.raises(ValueError, match="`limit` must be None or a positive integer"):
        check_limit(limit)


def test_with_progress_keeps_the_paths_and_their_order():
    paths = [Path("b"), Path("a")]
    assert with_progress(paths, False, "files") is paths
    assert list(with_progress(paths, True, "files")) == paths
