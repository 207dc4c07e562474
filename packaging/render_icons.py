"""Render the app icon's SVG to the PNG sizes of the hicolor theme (run after editing the SVG).

QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from flowdeck.desktop_entry import APP_ID, ICON_SIZES  # noqa: E402

HICOLOR = ROOT / "src" / "flowdeck" / "resources" / "icons" / "hicolor"


def render(svg: Path, size: int, target: Path) -> None:
    """Draw ``svg`` into a transparent ``size``×``size`` PNG at ``target``."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {svg}")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(target), "PNG"):
        raise SystemExit(f"cannot write {target}")


def main() -> int:
    """Write every PNG size from the scalable icon; print each path written."""
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    svg = HICOLOR / "scalable" / "apps" / f"{APP_ID}.svg"
    for size in ICON_SIZES:
        target = HICOLOR / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        render(svg, size, target)
        print(target.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
