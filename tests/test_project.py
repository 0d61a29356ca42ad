"""Project-level promises: the code location loads, the library stays free of dagster."""

import subprocess
import sys


def test_dagster_definitions_load():
    import dagster as dg

    from pipelines.definitions import defs

    assert isinstance(defs, dg.Definitions)
    defs.get_repository_def()  # resolves the whole definition set


def test_library_never_imports_dagster():
    code = (
        "import sys, pkgutil, importlib, nexusfin\n"
        "for m in pkgutil.walk_packages(nexusfin.__path__, 'nexusfin.'):\n"
        "    importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m == 'dagster' or m.startswith('dagster.')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_cli_help_lists_the_commands():
    out = subprocess.run(
        [sys.executable, "-m", "nexusfin.cli", "--help"], check=True, capture_output=True, text=True
    ).stdout
    for command in ("generate", "import", "schemas"):
        assert command in out
