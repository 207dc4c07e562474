"""Command-line parsing and the choice of store to open."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flowdeck import __version__
from flowdeck.cli import parse_args, plan_launch


def test_location_and_flags_are_parsed():
    args = parse_args(["/data/mlruns"])
    assert args.location == "/data/mlruns"
    assert args.demo is False
    assert args.screenshot is None
    args = parse_args(["sqlite:///x.db", "--screenshot", "out.png"])
    assert args.screenshot == Path("out.png")


def test_location_and_demo_together_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["/data/mlruns", "--demo"])
    assert exit_info.value.code == 2
    assert "either LOCATION or --demo" in capsys.readouterr().err


def test_version_flag_prints_the_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"flowdeck {__version__}"


def test_explicit_location_wins(tmp_path):
    (tmp_path / "mlruns").mkdir()
    plan = plan_launch(parse_args(["postgresql://db/mlflow"]), cwd=tmp_path, environ={})
    assert (plan.location, plan.use_demo) == ("postgresql://db/mlflow", False)


def test_demo_flag_ignores_the_local_store(tmp_path):
    (tmp_path / "mlruns").mkdir()
    plan = plan_launch(parse_args(["--demo"]), cwd=tmp_path, environ={})
    assert plan.use_demo and plan.location is None


def test_tracking_uri_env_var_is_used_without_location(tmp_path):
    (tmp_path / "mlruns").mkdir()
    plan = plan_launch(
        parse_args([]), cwd=tmp_path, environ={"MLFLOW_TRACKING_URI": "http://host:5000"}
    )
    assert (plan.location, plan.use_demo) == ("http://host:5000", False)


def test_local_mlruns_folder_is_opened(tmp_path):
    (tmp_path / "mlruns").mkdir()
    plan = plan_launch(parse_args([]), cwd=tmp_path, environ={})
    assert plan.location == str(tmp_path / "mlruns")
    assert not plan.use_demo


def test_local_mlflow_db_is_opened(tmp_path):
    (tmp_path / "mlflow.db").write_bytes(b"")
    plan = plan_launch(parse_args([]), cwd=tmp_path, environ={})
    assert plan.location == str(tmp_path / "mlflow.db")
    assert not plan.use_demo


def test_first_run_in_an_empty_folder_shows_the_welcome_page(tmp_path):
    asked = []

    def recent() -> list[str]:
        asked.append(True)
        return []

    plan = plan_launch(
        parse_args([]), cwd=tmp_path, environ={"MLFLOW_TRACKING_URI": "  "}, recent_stores=recent
    )
    assert (plan.location, plan.use_demo, plan.page) == (None, False, "welcome")
    assert asked  # only a first run (no store used before) gets the welcome page
    shot = plan_launch(parse_args(["--screenshot", "w.png"]), cwd=tmp_path, environ={})
    assert (shot.page, shot.use_demo, shot.screenshot) == ("welcome", False, Path("w.png"))


def test_first_run_asking_for_runs_or_a_page_still_gets_the_demo_store(tmp_path):
    for argv in (
        ["--experiment", "image-classifier"],
        ["--page", "models"],
        ["--select", "3", "--view", "charts"],
    ):
        plan = plan_launch(parse_args(argv), cwd=tmp_path, environ={})
        assert plan.use_demo and plan.location is None, argv
    plan = plan_launch(parse_args(["--page", "welcome"]), cwd=tmp_path, environ={})
    assert (plan.use_demo, plan.page) == (False, "welcome")


def test_welcome_page_beside_a_store(tmp_path):
    (tmp_path / "mlruns").mkdir()
    plan = plan_launch(parse_args(["--page", "welcome"]), cwd=tmp_path, environ={})
    assert (plan.location, plan.page) == (str(tmp_path / "mlruns"), "welcome")


def test_demo_flag_is_unchanged_by_the_welcome_page(tmp_path):
    plan = plan_launch(parse_args(["--demo"]), cwd=tmp_path, environ={}, recent_stores=list)
    assert plan.use_demo and plan.location is None and plan.page is None


def test_last_store_used_comes_before_the_demo_store(tmp_path):
    recent = ["/data/last/mlflow.db", "/data/older/mlruns"]
    plan = plan_launch(parse_args([]), cwd=tmp_path, environ={}, recent_stores=lambda: recent)
    assert plan.location == "/data/last/mlflow.db" and not plan.use_demo
    local = plan_launch(
        parse_args([]),
        cwd=tmp_path,
        environ={"MLFLOW_TRACKING_URI": "x.db"},
        recent_stores=lambda: recent,
    )
    assert local.location == "x.db"


def test_snapshot_options_are_carried_into_the_plan(tmp_path):
    args = parse_args(
        [
            "s.db",
            "--experiment",
            "bench",
            "--filter",
            "metrics.loss < 1",
            "--select",
            "3",
            "--view",
            "charts",
            "--screenshot",
            "out.png",
        ]
    )
    plan = plan_launch(args, cwd=tmp_path, environ={})
    assert plan.view == "charts"
    assert plan_launch(parse_args(["s.db"]), cwd=tmp_path, environ={}).view == "table"
    with pytest.raises(SystemExit):
        parse_args(["s.db", "--view", "plots"])
    assert (plan.location, plan.experiment, plan.filter_string, plan.select) == (
        "s.db",
        "bench",
        "metrics.loss < 1",
        3,
    )
    assert plan.screenshot == Path("out.png")


def test_help_runs_in_a_subprocess_without_heavy_imports(tmp_path):
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['flowdeck', '--help']\n"
        "try:\n"
        "    runpy.run_module('flowdeck', run_name='__main__')\n"
        "except SystemExit as exit:\n"
        "    heavy = [m for m in ('mlflow', 'PySide6', 'sqlalchemy', 'pandas') if m in sys.modules]\n"
        "    print('HEAVY:', heavy, 'CODE:', exit.code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "usage: flowdeck" in result.stdout
    assert "--demo" in result.stdout
    assert "--screenshot FILE.png" in result.stdout
    assert "HEAVY: [] CODE: 0" in result.stdout


def test_python_m_flowdeck_help_exits_zero(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "flowdeck", "--help"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "LOCATION" in result.stdout
