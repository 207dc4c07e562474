"""The dialog that moves a model version to another stage, optionally archiving the others."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QVBoxLayout,
    QWidget,
)

from flowdeck.core.entities import ModelVersion
from flowdeck.core.promotion import ARCHIVING_STAGES
from flowdeck.store.writer_registry import STAGES
from flowdeck.ui.labels import plain_label

if TYPE_CHECKING:
    from flowdeck.ui.registry.edits import ModelState


def versions_text(versions: list[ModelVersion] | tuple[ModelVersion, ...]) -> str:
    return ", ".join(f"v{v.version}" for v in sorted(versions, key=lambda v: v.version))


class StageDialog(QDialog):
    """Choose a stage for one version; optionally archive the versions now in that stage."""

    def __init__(
        self, name: str, version: ModelVersion, state: ModelState, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Stage of {name} v{version.version}")
        self.state, self.version = state, version
        self.stage_combo = QComboBox()
        self.stage_combo.addItems(list(STAGES))
        self.archive_box = QCheckBox()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Move")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain_label(f"v{version.version} is in {version.current_stage}. Move it to:")
        )
        layout.addWidget(self.stage_combo)
        layout.addWidget(self.archive_box)
        layout.addWidget(self.buttons)
        self.stage_combo.currentTextChanged.connect(self._update)
        start = "Production" if version.current_stage != "Production" else "Staging"
        self.stage_combo.setCurrentText(start)
        self._update()

    def stage(self) -> str:
        return self.stage_combo.currentText()

    def archive(self) -> bool:
        return self.archive_box.isEnabled() and self.archive_box.isChecked()

    def _update(self) -> None:
        stage = self.stage()
        others = [
            v
            for v in self.state.versions
            if v.current_stage == stage and v.version != self.version.version
        ]
        listed = f" ({versions_text(others)})" if others else " (none)"
        self.archive_box.setText(f"Archive the versions now in {stage}{listed}")
        self.archive_box.setEnabled(stage in ARCHIVING_STAGES and bool(others))
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(stage != self.version.current_stage)
