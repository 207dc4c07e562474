"""Settings: typed values that survive a restart, recent stores without passwords, isolation."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray, QSettings, qWarning

from flowdeck.ui.settings import MAX_RECENT_STORES, Settings, strip_password


def reopened() -> Settings:
    """A fresh Settings object, as after restarting the app."""
    return Settings()


def test_settings_live_in_the_test_folder_not_the_users(isolated_settings, tmp_path_factory):
    path = Path(isolated_settings.file_name)
    assert path.is_relative_to(tmp_path_factory.getbasetemp())
    assert path.name == "Flowdeck.ini" and path.parent.name == "Flowdeck"
    native = Path(QSettings("Flowdeck", "Flowdeck").fileName())  # code that bypasses Settings
    assert native.is_relative_to(tmp_path_factory.getbasetemp())


def test_each_test_starts_with_empty_settings_1(isolated_settings) -> None:
    assert isolated_settings.theme == "system"
    isolated_settings.theme = "dark"
    isolated_settings.remember_store("/data/mlruns")


def test_each_test_starts_with_empty_settings_2(isolated_settings) -> None:
    assert isolated_settings.theme == "system"  # the previous test's "dark" is gone
    assert isolated_settings.recent_stores == []


def test_theme_survives_a_restart_and_rejects_unknown_names(isolated_settings) -> None:
    isolated_settings.theme = "dark"
    isolated_settings.sync()
    assert reopened().theme == "dark"
    with pytest.raises(ValueError):
        isolated_settings.theme = "purple"
    isolated_settings.set_value("theme", "purple")  # e.g. edited by hand
    assert reopened().theme == "system"


def test_recent_stores_are_most_recent_first_without_duplicates(isolated_settings) -> None:
    settings = isolated_settings
    settings.remember_store("/data/a/mlruns")
    settings.remember_store("sqlite:////data/b.db")
    settings.remember_store("/data/a/mlruns")
    assert reopened().recent_stores == ["/data/a/mlruns", "sqlite:////data/b.db"]


def test_recent_stores_keep_at_most_ten(isolated_settings) -> None:
    for index in range(15):
        isolated_settings.remember_store(f"/data/store-{index}")
    recent = reopened().recent_stores
    assert len(recent) == MAX_RECENT_STORES == 10
    assert recent[0] == "/data/store-14" and recent[-1] == "/data/store-5"


def test_a_single_recent_store_reads_back_as_a_list(isolated_settings) -> None:
    isolated_settings.remember_store("/only/one")
    isolated_settings.sync()
    assert reopened().recent_stores == ["/only/one"]


@pytest.mark.parametrize(
    ("location", "saved"),
    [
        (
            "postgresql://alice:s3cret@db.example:5432/mlflow",
            "postgresql://alice@db.example:5432/mlflow",
        ),
        ("mysql+pymysql://root:s3cret@127.0.0.1/mlflow", "mysql+pymysql://root@127.0.0.1/mlflow"),
        ("https://bob:s3cret@mlflow.example/", "https://bob@mlflow.example/"),
        ("http://:s3cret@localhost:5000", "http://localhost:5000"),
        (
            "postgresql://alice@db/mlflow?password=s3cret&sslmode=require",
            "postgresql://alice@db/mlflow?sslmode=require",
        ),
        ("sqlite:////home/alice/mlflow.db", "sqlite:////home/alice/mlflow.db"),
        ("/home/alice/mlruns", "/home/alice/mlruns"),
        (r"C:\Users\alice\mlruns", r"C:\Users\alice\mlruns"),
    ],
)
def test_passwords_are_stripped_before_saving(isolated_settings, location, saved) -> None:
    assert strip_password(location) == saved
    isolated_settings.remember_store(location)
    isolated_settings.sync()
    assert reopened().recent_stores == [saved]
    assert "s3cret" not in Path(isolated_settings.file_name).read_text()


def test_the_same_server_with_and_without_password_is_one_entry(isolated_settings) -> None:
    isolated_settings.remember_store("postgresql://alice:one@db/mlflow")
    isolated_settings.remember_store("postgresql://alice:two@db/mlflow")
    assert isolated_settings.recent_stores == ["postgresql://alice@db/mlflow"]


def test_window_geometry_and_state_survive_a_restart(isolated_settings) -> None:
    assert isolated_settings.window_geometry.isEmpty()
    isolated_settings.window_geometry = QByteArray(b"\x01\xd9\xd0\xcb\x00\x03geometry")
    isolated_settings.window_state = QByteArray(b"\x00\xff\x00state")
    isolated_settings.sync()
    again = reopened()
    assert bytes(again.window_geometry) == b"\x01\xd9\xd0\xcb\x00\x03geometry"
    assert bytes(again.window_state) == b"\x00\xff\x00state"


def test_column_layouts_are_per_store_and_experiment(isolated_settings) -> None:
    layout = {"order": ["name", "metrics.loss"], "hidden": ["params.seed"], "widths": {"name": 180}}
    store = "postgresql://alice:s3cret@db/mlflow"
    isolated_settings.set_column_layout(store, "7", layout)
    isolated_settings.sync()
    again = reopened()
    assert again.column_layout(store, "7") == layout
    assert again.column_layout("postgresql://alice@db/mlflow", "7") == layout  # same store
    assert again.column_layout(store, "8") == {}
    assert again.column_layout("/other/mlruns", "7") == {}
    assert "s3cret" not in Path(isolated_settings.file_name).read_text()


def test_typed_values_come_back_with_their_type(isolated_settings) -> None:
    isolated_settings.set_value("runs/auto_refresh", True)
    isolated_settings.set_value("runs/page_size", 250)
    isolated_settings.set_value("runs/garbage", "not a number")
    isolated_settings.sync()
    again = reopened()
    assert again.value("runs/auto_refresh", False) is True
    assert again.value("runs/page_size", 0, int) == 250
    assert again.value("runs/garbage", 7, int) == 7
    assert again.value("runs/never_set", "fallback") == "fallback"


def test_qt_warnings_are_collected_except_the_allowed_ones(fail_on_qt_warnings) -> None:
    qWarning("This plugin does not support propagateSizeHints()")
    assert fail_on_qt_warnings.problems == []
    qWarning("QWidget: something went wrong")
    assert fail_on_qt_warnings.problems == ["QtWarningMsg: QWidget: something went wrong"]
    fail_on_qt_warnings.problems.clear()  # this test must pass; the fixture checks at teardown
