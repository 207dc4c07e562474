"""PySide6 6.12.0 stays excluded: it corrupts refcounts when pyqtgraph graphics items are freed.

The exclusion lives in one place, the ``!=`` clauses of the PySide6-Essentials requirement in
pyproject.toml, which these tests read. Allowing a release that fixes the bug is that one edit;
``BROKEN_RELEASES`` lists only releases known to have it, which stay excluded for good.
"""

from __future__ import annotations

import gc
import sys
import tomllib
import weakref
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
DISTRIBUTION = "PySide6-Essentials"
BROKEN_RELEASES = ("6.12.0",)  # freeing pyqtgraph items corrupts refcounts (see below)
ROUNDS = 12
CURVES_PER_ROUND = 15
POINTS = 2_000


def pyside_requirement() -> Requirement:
    """The PySide6-Essentials requirement of ``[project] dependencies``."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    for line in project["dependencies"]:
        requirement = Requirement(line)
        if canonicalize_name(requirement.name) == canonicalize_name(DISTRIBUTION):
            return requirement
    raise AssertionError(f"pyproject.toml does not require {DISTRIBUTION}")


def test_broken_pyside_releases_are_excluded_and_the_installed_one_is_allowed():
    requirement = pyside_requirement()
    excluded = {spec.version for spec in requirement.specifier if spec.operator == "!="}
    for release in BROKEN_RELEASES:
        assert Version(release) not in requirement.specifier, f"{release} must stay excluded"
        assert release in excluded  # excluded on purpose, not by a bound that may move
    installed = version(DISTRIBUTION)
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"the installed {DISTRIBUTION} {installed} is outside {requirement.specifier}"
    )


def test_pyqtgraph_items_added_removed_and_cleared_are_freed(qtbot):
    """What broke on 6.12.0: with it this very workload aborts the interpreter inside
    ``PlotItem.clear()`` ("Fatal Python error: bool_dealloc: deallocating True or False: bug
    likely caused by a refcount error"). Here every item dies and shared objects keep their
    reference counts."""
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    widget.resize(480, 320)
    widget.show()
    qtbot.waitExposed(widget)
    plot = widget.getPlotItem()
    scene_items_before = len(widget.scene().items())
    x = np.linspace(0.0, 10.0, POINTS)
    x_refs_before = sys.getrefcount(x)
    pen = pg.mkPen("#3fa7d6", width=2)
    pen_refs_before = sys.getrefcount(pen)
    freed: list[weakref.ref] = []

    for round_number in range(ROUNDS):
        items: list[pg.GraphicsObject] = []
        for index in range(CURVES_PER_ROUND):
            y = np.sin(x * (index + 1) + round_number)
            curve = pg.PlotDataItem(x, y, pen=pen)
            scatter = pg.ScatterPlotItem(x[::50], y[::50], size=6, symbol="o", pen=pen)
            plot.addItem(curve)
            plot.addItem(scatter)
            items += [curve, scatter]
        widget.grab()  # paint them: the renderer holds on to paths and pixmaps
        for item in items[::2]:
            plot.removeItem(item)
        plot.clear()  # the rest go with the plot's clear
        freed += [weakref.ref(item) for item in items]
        del items, item, curve, scatter, y
        gc.collect()
        widget.grab()

    gc.collect()
    alive = [ref() for ref in freed if ref() is not None]
    assert not alive, f"{len(alive)} of {len(freed)} pyqtgraph items were never freed"
    assert plot.listDataItems() == []
    assert len(widget.scene().items()) == scene_items_before
    assert sys.getrefcount(x) == x_refs_before
    assert sys.getrefcount(pen) == pen_refs_before
