"""The documentation site shows the committed benchmark pictures, not stale copies."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def shown_pictures():
    pages = "\n".join(page.read_text() for page in DOCS.rglob("*.md"))
    return set(re.findall(r"\((?:\.\./)?results/([A-Za-z0-9_.-]+\.png)\)", pages))


def test_every_picture_the_pages_show_is_the_committed_benchmark_picture():
    pictures = shown_pictures()
    assert pictures, "the results page shows no pictures"
    for name in sorted(pictures):
        copy, committed = DOCS / "results" / name, ROOT / "benchmarks" / "results" / name
        assert copy.exists(), f"docs/results/{name} is missing: copy benchmarks/results/{name}"
        assert copy.read_bytes() == committed.read_bytes(), f"docs/results/{name} differs from benchmarks/results/{name}: copy it again"


def test_the_docs_hold_no_picture_that_no_page_shows():
    unused = {path.name for path in (DOCS / "results").glob("*.png")} - shown_pictures()
    assert not unused, f"pictures no page shows: {sorted(unused)}"
