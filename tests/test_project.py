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


def test_cli_generate_then_run(tmp_path):
    from typer.testing import CliRunner

    from nexusfin.cli import app

    runner = CliRunner()
    out = tmp_path / "world"
    res = runner.invoke(app, ["generate", "--out", str(out), "--days", "2", "--accounts", "500", "--seed", "1",
                              "--format", "csv"])
    assert res.exit_code == 0, res.output
    assert len(list((out / "landing" / "transactions").glob("transactions_*.csv"))) == 2
    assert "structuring" in res.output
    res = runner.invoke(app, ["run", "--landing", str(out), "--lake", str(tmp_path / "lake")])
    assert res.exit_code == 0, res.output
    assert "days ok 2/2" in res.output
    assert (tmp_path / "warehouse.duckdb").is_file()


def test_cli_import_rejects_a_broken_file_by_name_and_line(tmp_path):
    from typer.testing import CliRunner

    from nexusfin.cli import app

    bad = tmp_path / "SAML-D.csv"
    bad.write_text("not,the,header\n1,2,3\n")
    res = CliRunner().invoke(app, ["import", "--format", "samld", str(bad), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2
    assert "SAML-D.csv line 1" in res.output
