"""Layering rules: nothing below ``ui`` imports Qt, and ``core`` imports no SQL or HTTP library."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "flowdeck"
QT_MODULES = ("PySide6", "pyqtgraph", "shiboken6")
CORE_FORBIDDEN = ("sqlalchemy", "requests", "PySide6", "pyqtgraph")


def _package_modules(package: str) -> list[str]:
    """Every importable module under ``flowdeck.<package>`` found on disk (recursively)."""
    folder = SRC / package.replace(".", "/")
    if not folder.is_dir():
        return []
    names = [f"flowdeck.{package}"]
    for info in pkgutil.walk_packages([str(folder)], prefix=f"flowdeck.{package}."):
        names.append(info.name)
    return names


def _loaded_after_import(modules: list[str]) -> set[str]:
    """Import the modules in a fresh interpreter; return the top-level names then loaded."""
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"importing {modules} failed:\n{result.stderr[-3000:]}"
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_core_store_and_serving_do_not_import_qt():
    modules = ["flowdeck.core", "flowdeck.store", "flowdeck.serving"]
    loaded = _loaded_after_import(modules)
    assert not (set(QT_MODULES) & loaded)


@pytest.mark.parametrize("package", ["core", "store", "serving"])
def test_every_module_below_ui_is_qt_free(package):
    modules = _package_modules(package)
    if not modules:
        pytest.skip(f"flowdeck.{package} has no modules yet")
    loaded = _loaded_after_import(modules)
    offenders = set(QT_MODULES) & loaded
    assert not offenders, f"importing flowdeck.{package}.* loads {sorted(offenders)}"


def test_core_imports_neither_sqlalchemy_nor_requests():
    loaded = _loaded_after_import(_package_modules("core"))
    offenders = set(CORE_FORBIDDEN) & loaded
    assert not offenders, f"flowdeck.core pulls in {sorted(offenders)}"


def test_layering_check_catches_qt():
    """The detector itself works: importing PySide6 is seen."""
    assert "PySide6" in _loaded_after_import(["PySide6.QtCore"])
