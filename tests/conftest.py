"""Shared fixtures."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def scored(tmp_path_factory):
    """(folder, RunSummary) of the scored world in tests/scored_world.py, built once per session.

    NEXUSFIN_REUSE_SCORED=DIR (developers only) builds it in DIR once and reuses it afterwards."""
    import scored_world

    reuse = os.environ.get("NEXUSFIN_REUSE_SCORED")
    if reuse:
        out = Path(reuse)
        marker = out / "summary.pickle-free"
        if marker.exists():
            return out, None
        out.mkdir(parents=True, exist_ok=True)
        summary = scored_world.build(out)
        marker.write_text("built")
        return out, summary
    out = tmp_path_factory.mktemp("scored")
    return out, scored_world.build(out)
