"""Evaluation runs written by real ``mlflow.genai.evaluate``: the table, pass rates, comparison."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"

import flowdeck.ui.pages  # noqa: E402, F401 - registers the pages
from flowdeck.core.addresses import Address, parse_address  # noqa: E402
from flowdeck.core.evaluation import compare_evaluations, evaluation_table, verdict_of  # noqa: E402
from flowdeck.store import open_store  # noqa: E402
from flowdeck.store.base import Store  # noqa: E402
from flowdeck.ui.evaluation.reads import read_evaluation  # noqa: E402
from flowdeck.ui.shell.page_types import create_page  # noqa: E402

TIMEOUT = 60_000
SHOTS = Path("/tmp/traces")
DATA = [
    {"inputs": {"q": "paris?"}, "expectations": {"answer": "Paris"}},
    {"inputs": {"q": "rome?"}, "expectations": {"answer": "Rome"}},
    {"inputs": {"q": "<b>oslo?</b>"}, "expectations": {"answer": "Oslo"}},
]


@dataclass(frozen=True)
class Written:
    path: Path
    experiment_id: str
    first: str  # knows Paris only
    second: str  # knows Paris and Rome


def _write(folder: Path) -> Written:
    import mlflow
    from mlflow.genai.scorers import scorer

    @scorer
    def exact(outputs, expectations):  # noqa: ANN001, ANN202
        return outputs == expectations["answer"]

    @scorer
    def short(outputs):  # noqa: ANN001, ANN202
        return len(outputs) < 6

    answers_v1 = {"paris?": "Paris"}
    answers_v2 = {"paris?": "Paris", "rome?": "Rome"}
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        experiment_id = mlflow.set_experiment("eval").experiment_id
        runs = []
        for answers in (answers_v1, answers_v2):

            def predict(q: str, known: dict[str, str] = answers) -> str:
                return known.get(q, "I do not know")

            result = mlflow.genai.evaluate(
                data=DATA, predict_fn=lambda q: predict(q), scorers=[exact, short]
            )
            runs.append(result.run_id)
    finally:
        mlflow.set_tracking_uri(previous)
    return Written(folder / "mlflow.db", experiment_id, runs[0], runs[1])


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Written:
    return _write(tmp_path_factory.mktemp("evaluation"))


@pytest.fixture
def store(written: Written) -> Store:
    opened = open_store(written.path)
    yield opened
    opened.close()


def test_verdicts_pass_rates_and_changes(store, written) -> None:  # noqa: ANN001
    from flowdeck.core.task_state import TaskState

    first = read_evaluation(TaskState(), store, written.experiment_id, written.first)
    second = read_evaluation(TaskState(), store, written.experiment_id, written.second)
    assert first.judges == ("exact", "short")
    assert len(first.rows) == 3
    assert first.pass_rates == {"exact": (1, 3), "short": (1, 3)}
    assert second.pass_rates == {"exact": (2, 3), "short": (2, 3)}
    assert "exact 1/3 (33%)" in first.rate_text()
    rome = next(row for row in second.rows if "rome" in row.request)
    assert rome.expectations == {"answer": "Rome"} and rome.verdicts["exact"].passed is True
    changes = compare_evaluations(first, second)
    assert {(c.request, c.judge, c.kind) for c in changes} == {
        ('{"q": "rome?"}', "exact", "fixed"),
        ('{"q": "rome?"}', "short", "fixed"),
    }
    assert verdict_of("yes") is True and verdict_of(0.7) is None
    assert evaluation_table([]).judges == ()


def test_the_run_page_shows_the_evaluation(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = create_page(shell, store, parse_address(f"run/{written.first}"))
    qtbot.addWidget(page)
    page.resize(1200, 600)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    qtbot.waitUntil(lambda: page.evaluation is not None, timeout=TIMEOUT)
    view = page.evaluation
    with qtbot.waitSignal(view.loaded, timeout=TIMEOUT):
        page.tabs.setCurrentWidget(view)
    assert "3 rows, 2 with a failure" in view.summary.text()
    assert view.table.rowCount() == 3
    headers = [view.table.horizontalHeaderItem(c).text() for c in range(view.table.columnCount())]
    assert headers[:4] == ["Request", "Response", "exact", "short"]
    texts = {view.table.item(r, 0).text() for r in range(3)}
    assert '{"q": "<b>oslo?</b>"}' in texts  # markup stays text
    view.failures_only.setChecked(True)
    assert view.table.rowCount() == 2
    opened: list[Address] = []
    view.open_requested.connect(lambda address, _new: opened.append(address))
    view.table.cellDoubleClicked.emit(0, 0)
    assert opened and opened[0].kind == "trace"
    SHOTS.mkdir(parents=True, exist_ok=True)
    view.failures_only.setChecked(False)
    page.show()
    qtbot.waitExposed(page)
    assert page.grab().save(str(SHOTS / "evaluation.png"))


def test_compare_two_evaluation_runs(qtbot, shell, store, written) -> None:  # noqa: ANN001
    page = create_page(shell, store, parse_address(f"compare/{written.first},{written.second}"))
    qtbot.addWidget(page)
    page.resize(1200, 600)
    with qtbot.waitSignal(page.loaded, timeout=TIMEOUT):
        page.start()
    view = page.evaluation
    with qtbot.waitSignal(view.loaded, timeout=TIMEOUT):
        page.tabs.setCurrentWidget(view)
    assert "2 fixed" in view.summary.text()
    kinds = [view.table.item(r, 4).text() for r in range(view.table.rowCount())]
    assert kinds == ["fixed", "fixed"]
    page.show()
    qtbot.waitExposed(page)
    assert page.grab().save(str(SHOTS / "evaluation-compare.png"))
