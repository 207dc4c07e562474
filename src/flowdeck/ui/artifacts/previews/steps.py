"""The step-image previewer: MLflow's ``log_image(key=…, step=…)`` files, one key at a time,
with a slider through the steps."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import partial

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from flowdeck.core.artifacts.images import StepImage, entry_path, step_images
from flowdeck.core.errors import Cancelled, FlowdeckError
from flowdeck.core.task_state import TaskState
from flowdeck.core.text_format import format_time
from flowdeck.ui.artifacts.previewer import Fetch, Previewer, PreviewSource, previewer
from flowdeck.ui.artifacts.previews.image import DecodedImage, decode_image, describe
from flowdeck.ui.artifacts.previews.image_view import ImageView, ZoomBar
from flowdeck.ui.tasks import TaskRunner

CACHED_IMAGES = 48  # decoded steps kept for scrubbing back and forth


@dataclass(frozen=True)
class StepsData:
    """What ``StepImagesPreviewer.show_data`` gets."""

    keys: dict[str, tuple[StepImage, ...]]  # key -> its images in step order
    key: str  # shown first
    index: int  # in keys[key]
    decoded: DecodedImage | None  # keys[key][index], decoded; None if it could not be
    fetch: Fetch | None = field(default=None, compare=False)


def load_step(state: TaskState, fetch: Fetch | None, image: StepImage) -> DecodedImage:
    """Decode one step's image (worker thread): the full-size file, else MLflow's small copy."""
    assert fetch is not None
    local = fetch(state, image.path)
    state.check()
    return decode_image(local)


@previewer
class StepImagesPreviewer(Previewer):
    """A folder with MLflow step images (usually ``images/``): a key selector, the image and a
    step slider; Left/Right step, Home/End go to the first/last step."""

    title = "Images by step"

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.key_box = QComboBox()
        self.key_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.key_box.currentTextChanged.connect(self._key_changed)
        self.key_label = QLabel()
        self.key_label.setTextFormat(Qt.TextFormat.PlainText)
        self.view = ImageView()
        self.bar = ZoomBar(self.view)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setPageStep(10)
        self.slider.valueChanged.connect(self._index_changed)
        self.step_label = QLabel()
        self.step_label.setTextFormat(Qt.TextFormat.PlainText)
        self.step_label.setMinimumWidth(self.step_label.fontMetrics().horizontalAdvance("M" * 24))

        top = QHBoxLayout()
        top.addWidget(QLabel("Key"))
        top.addWidget(self.key_box)
        top.addWidget(self.key_label)
        top.addWidget(self.bar, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.slider, 1)
        bottom.addWidget(self.step_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addLayout(bottom)
        self.setFocusProxy(self.slider)

        self.keys: dict[str, tuple[StepImage, ...]] = {}
        self._fetch: Fetch | None = None
        self._cache: OrderedDict[str, DecodedImage] = OrderedDict()
        self._shown: StepImage | None = None
        self.destroyed.connect(partial(runner.cancel_owner, self))

    @classmethod
    def accepts(cls, source: PreviewSource) -> int:
        if not source.is_dir:
            return 0
        paths = (entry.path for entry in source.entries if not entry.is_dir)
        return 8 if step_images(paths) else 0

    @staticmethod
    def prepare(state: TaskState, source: PreviewSource) -> StepsData:
        paths = [entry_path(source.path, entry) for entry in source.entries if not entry.is_dir]
        keys = step_images(paths)
        key = next(iter(keys))
        index = len(keys[key]) - 1
        try:
            decoded: DecodedImage | None = load_step(state, source.fetch, keys[key][index])
        except Cancelled:
            raise
        except FlowdeckError:  # one broken step: the view shows its message, the others load
            decoded = None
        return StepsData(keys, key, index, decoded, source.fetch)

    def show_data(self, data: StepsData) -> None:
        self.runner.cancel_owner(self)
        self.keys = data.keys
        self._fetch = data.fetch
        self._cache.clear()
        self._shown = None
        if data.decoded is not None:
            self._remember(data.keys[data.key][data.index], data.decoded)
        self.key_box.blockSignals(True)
        self.key_box.clear()
        self.key_box.addItems(list(data.keys))
        self.key_box.setCurrentText(data.key)
        self.key_box.blockSignals(False)
        several = len(data.keys) > 1
        self.key_box.setVisible(several)
        self.key_label.setVisible(not several)
        self.key_label.setText(data.key)
        self._select(data.key, data.index)

    # --- navigation ---------------------------------------------------------------------------

    @property
    def key(self) -> str:
        return self.key_box.currentText()

    def images(self) -> tuple[StepImage, ...]:
        return self.keys.get(self.key, ())

    def current(self) -> StepImage | None:
        images = self.images()
        index = self.slider.value()
        return images[index] if 0 <= index < len(images) else None

    def _select(self, key: str, index: int) -> None:
        images = self.keys[key]
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(images) - 1)
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(images) > 1)
        self._index_changed(index)

    def _key_changed(self, key: str) -> None:
        if key not in self.keys:
            return
        step = self._shown.step if self._shown is not None else 0
        images = self.keys[key]
        nearest = min(range(len(images)), key=lambda i: (abs(images[i].step - step), -i))
        self._select(key, nearest)

    def _index_changed(self, index: int) -> None:
        image = self.current()
        if image is None:
            return
        total = len(self.images())
        parts = [f"Step {image.step}", format_time(image.timestamp), f"{index + 1} of {total}"]
        self.step_label.setText(" · ".join(part for part in parts if part))
        decoded = self._cache.get(image.uuid)
        if decoded is not None:
            self._cache.move_to_end(image.uuid)
            self._show(image, decoded)
            return
        self.runner.submit(
            load_step,
            self._fetch,
            image,
            key="step-image",
            owner=self,
            label=f"Loading {image.key} at step {image.step}",
            on_result=lambda decoded, image=image: self._loaded(image, decoded),
            on_error=lambda error, _details, image=image: self._failed(image, error),
        )

    def _loaded(self, image: StepImage, decoded: DecodedImage) -> None:
        self._remember(image, decoded)
        if self.current() == image:
            self._show(image, decoded)

    def _failed(self, image: StepImage, error: BaseException) -> None:
        if self.current() == image:
            self._shown = image
            self.view.clear()
            self.bar.set_details(str(error))

    def _remember(self, image: StepImage, decoded: DecodedImage) -> None:
        self._cache[image.uuid] = decoded
        while len(self._cache) > CACHED_IMAGES:
            self._cache.popitem(last=False)

    def _show(self, image: StepImage, decoded: DecodedImage) -> None:
        same_size = self._shown is not None and self.view.image_size() == QSize(
            decoded.width, decoded.height
        )
        size = QSize(decoded.width, decoded.height)
        self.view.set_image(decoded.image, size, keep_view=same_size)
        details = describe(decoded)
        if image.full_path is None:
            details += " · only MLflow's small copy is stored"
        self.bar.set_details(details)
        self._shown = image

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        steps = {
            Qt.Key.Key_Left: self.slider.value() - 1,
            Qt.Key.Key_Right: self.slider.value() + 1,
            Qt.Key.Key_Home: self.slider.minimum(),
            Qt.Key.Key_End: self.slider.maximum(),
        }
        target = steps.get(Qt.Key(event.key()))
        if target is None:
            super().keyPressEvent(event)
            return
        self.slider.setValue(max(self.slider.minimum(), min(target, self.slider.maximum())))
