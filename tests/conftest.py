"""Shared fixtures."""

import pytest


@pytest.fixture(scope="session")
def scored(tmp_path_factory):
    """(folder, RunSummary) of the scored world in tests/scored_world.py, built once per session."""
    import scored_world

    out = tmp_path_factory.mktemp("scored")
    return out, scored_world.build(out)
