"""Reading artifacts for previews: text windows, chunked search, JSON/YAML trees, MLmodel, tables."""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.models import infer_signature
from tests.helpers.contract import mlflow_reading

from flowdeck.core.artifacts import mlmodel, structured, tables
from flowdeck.core.artifacts import text_window as tw
from flowdeck.core.errors import Cancelled, CorruptStore
from flowdeck.core.task_state import TaskState

MIB = 1024 * 1024


class CountingFile:
    """A real unbuffered file that counts the bytes handed out by ``read``."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the test
        self.bytes_read = 0

    def read(self, count: int = -1) -> bytes:
        data = self._file.read(count)
        self.bytes_read += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def close(self) -> None:
        self._file.close()


def process_bytes_read() -> int | None:
    """Bytes this process has read through read() calls (Linux), None elsewhere."""
    try:
        text = Path("/proc/self/io").read_text()
    except OSError:
        return None
    return int(re.search(r"^rchar: (\d+)$", text, re.M).group(1))


def log_lines(count: int, start: int = 0) -> str:
    return "".join(
        f"2024-05-01 12:00:{i % 60:02d} INFO step={i} loss={1 / (i + 1):.6f} ünïcødé ✓\n"
        for i in range(start, start + count)
    )


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    path = tmp_path / "train.log"
    path.write_text(log_lines(3000), encoding="utf-8")
    return path


# --- text windows ---------------------------------------------------------------------------


def test_head_tail_and_next_chunk_are_whole_lines_and_read_no_more_than_asked(log_file):
    data = log_file.read_bytes()
    handle = CountingFile(log_file)
    try:
        head = tw.read_head(handle, 4096)
        assert handle.bytes_read <= 4096 and head.bytes_read == handle.bytes_read
        assert head.start == 0 and 4096 - 200 < head.end <= 4096
        assert head.text == data[: head.end].decode() and head.text.endswith("\n")

        before = handle.bytes_read
        chunk = tw.read_chunk(handle, head.end, 4096)
        assert handle.bytes_read - before <= 4096
        assert chunk.start == head.end and data[chunk.end - 1 : chunk.end] == b"\n"
        assert chunk.text == data[chunk.start : chunk.end].decode()

        before = handle.bytes_read
        tail = tw.read_tail(handle, 4096)
        assert handle.bytes_read - before <= 4096
        assert tail.end == len(data) and data[tail.start - 1 : tail.start] == b"\n"
        assert tail.text == data[tail.start :].decode()
        assert tail.text.splitlines()[-1].startswith("2024-05-01") and "step=2999" in tail.text
    finally:
        handle.close()


def test_chunks_read_one_after_another_rebuild_the_file_exactly(log_file):
    text = log_file.read_text(encoding="utf-8")
    pieces, offset = [], 0
    while offset < log_file.stat().st_size:
        window = tw.read_chunk(log_file, offset, 5000)
        assert window.end > offset
        pieces.append(window.text)
        offset = window.end
    assert "".join(pieces) == text
    assert tw.read_chunk(log_file, 0, 10_000, end=3000).end <= 3000


def test_a_window_inside_one_huge_line_is_cut_between_characters(tmp_path):
    path = tmp_path / "one-line.txt"
    path.write_text("é" * 5000, encoding="utf-8")  # 10,000 bytes, no line end
    head = tw.read_head(path, 1001)
    assert "\ufffd" not in head.text and head.text == "é" * 500
    tail = tw.read_tail(path, 1001)
    assert "\ufffd" not in tail.text and tail.end == 10_000 and tail.text == "é" * 500
    window, at = tw.read_around(path, 6000, 1000)
    assert "\ufffd" not in window.text and window.start <= 6000 < window.end
    assert at == (6000 - window.start) // 2


def test_invalid_utf8_is_replaced_and_windows_line_ends_become_newlines(tmp_path):
    path = tmp_path / "mixed.log"
    path.write_bytes(b"caf\xe9 ok\r\nsecond\r\n")
    assert tw.read_head(path).text == "caf\ufffd ok\nsecond\n"


def test_a_200_mb_log_is_opened_by_its_head_and_tail_only(tmp_path):
    path = tmp_path / "huge.log"
    with open(path, "wb") as handle:
        handle.write(log_lines(30_000).encode())  # ~2.4 MB of real lines at the start
        handle.truncate(200 * MIB)  # a sparse middle: no disk space, same size
        handle.seek(0, os.SEEK_END)
        handle.write(log_lines(30_000, start=10_000_000).encode())
    before = process_bytes_read()
    start = tw.open_text(path)
    after = process_bytes_read()
    assert start.size > 200 * MIB and start.tail is not None
    assert start.bytes_read <= tw.HEAD_BYTES + tw.TAIL_BYTES
    if before is not None:  # what the kernel saw this process read
        assert after - before < 3 * MIB
    assert start.head.text.startswith("2024-05-01 12:00:00 INFO step=0 ")
    assert start.tail.text.rstrip("\n").endswith(f"step={10_029_999} loss=0.000000 ünïcødé ✓")


def test_the_window_around_an_offset_stays_inside_the_gap(log_file):
    data = log_file.read_bytes()
    target = data.index(b"step=1500 ")
    window, units = tw.read_around(log_file, target, 2000, not_before=10_000, end=200_000)
    assert 10_000 <= window.start <= target < window.end <= 200_000
    assert window.text[units:].startswith("step=1500 ")
    assert data[window.start - 1 : window.start] == b"\n"


def test_the_layout_of_a_partly_loaded_file_becomes_the_file_once_every_gap_is_filled(log_file):
    text = log_file.read_text(encoding="utf-8")
    start = tw.open_text(log_file, whole=1000, head=3000, tail=3000)
    layout = tw.TextLayout(start)
    document = "".join(piece for piece, _marker in layout.pieces)
    assert [piece[1] for piece in layout.pieces] == [False, True, False]
    assert "not loaded — scroll or press Load more" in document
    data = log_file.read_bytes()
    middle = data.index(b"step=2000 ")
    gap = layout.gaps[0]
    window, units = tw.read_around(log_file, middle, 4000, not_before=gap.start, end=gap.end)
    edit = layout.fill(gap, window)

    def apply(document: str, edit: tw.Edit) -> str:
        inserted = "".join(piece for piece, _marker in edit.pieces)
        return document[: edit.position] + inserted + document[edit.position + edit.removed :]

    document = apply(document, edit)
    position = edit.window_position + units  # every character here is one UTF-16 unit
    assert document[position:].startswith("step=2000 ")
    assert len(layout.gaps) == 2
    while layout.gaps:
        gap = layout.gaps[0]
        document = apply(
            document, layout.fill(gap, tw.read_chunk(log_file, gap.start, 7000, end=gap.end))
        )
    assert document == text
    assert layout.loaded_bytes == len(data)


# --- chunked search -------------------------------------------------------------------------


def test_search_finds_matches_across_chunk_boundaries(tmp_path):
    path = tmp_path / "needles.txt"
    content = bytearray(b"." * 400)
    for offset in (60, 128, 190, 250):  # chunks of 64: 60 and 190 straddle a boundary
        content[offset : offset + 6] = b"NEEDLE"
    content[300:306] = b"needle"
    path.write_bytes(bytes(content))
    assert tw.search_file(None, path, "NEEDLE", case_sensitive=True, chunk_bytes=64) == [
        60, 128, 190, 250,
    ]  # fmt: skip
    assert tw.search_file(None, path, "needle", chunk_bytes=64) == [60, 128, 190, 250, 300]
    assert tw.search_file(None, path, "needle", chunk_bytes=64, max_matches=2) == [60, 128]


def test_search_agrees_with_a_regex_over_the_whole_file(log_file):
    data = log_file.read_bytes()
    expected = [match.start() for match in re.finditer(re.escape("ünïcødé ✓\n2024".encode()), data)]
    found = tw.search_file(None, log_file, "ünïcødé ✓\n2024", chunk_bytes=1000)
    assert found == expected and len(found) == 2999


def test_search_stops_when_cancelled(log_file):
    state = TaskState()
    state.cancel()
    with pytest.raises(Cancelled):
        tw.search_file(state, log_file, "step")


# --- JSON / YAML ----------------------------------------------------------------------------


def test_json_tree_keys_previews_and_kinds():
    doc = structured.parse_structured(
        '{"name": "run", "layers": [64, 32], "config": {"lr": 0.1, "on": true, "x": null}}',
        "json",
    )
    assert doc.problem is None and doc.nodes == 9
    top = {node.key: (node.value, node.kind) for node in doc.root.children}
    assert top == {
        "name": ('"run"', "string"),
        "layers": ("[2 items]", "array"),
        "config": ("{3 keys}", "object"),
    }
    config = doc.root.children[2]
    assert [(n.key, n.value) for n in config.children] == [
        ("lr", "0.1"),
        ("on", "true"),
        ("x", "null"),
    ]
    assert config.children[1].parent is config and config.children[1].row == 1


def test_a_tree_over_the_node_cap_keeps_the_top_levels_and_says_what_is_left_out():
    value = {"items": [{"id": i, "tags": ["a", "b"]} for i in range(100)], "total": 100}
    root, count, truncated = structured.build_tree(value, max_nodes=50)
    assert truncated and count == 50
    assert [node.key for node in root.children] == ["items", "total"]
    notes = [node for node in _walk(root) if node.kind == structured.NOTE]
    assert notes and "not shown (over 50 nodes)" in notes[0].value


def _walk(node):
    for child in node.children:
        yield child
        yield from _walk(child)


def test_invalid_json_and_yaml_name_the_line_and_column():
    doc = structured.parse_structured('{\n  "a": 1,\n  "b": [1 2]\n}', "json")
    assert doc.root is None
    assert doc.problem.line == 3 and doc.problem.column == 11
    assert doc.problem.message == "Invalid JSON at line 3, column 11: Expecting ',' delimiter."
    doc = structured.parse_structured("name: x\nentry_points:\n  main: [a\n", "yaml")
    assert doc.problem.line == 4 and doc.problem.message.startswith("Invalid YAML at line 4")


def test_files_written_by_mlflow_log_dict_parse_as_trees(mlflow_files):
    for name in ("config.json", "config.yaml"):
        fmt = "json" if name.endswith("json") else "yaml"
        text = (mlflow_files["artifacts"] / name).read_text()
        doc = structured.parse_structured(text, fmt)
        keys = {node.key: node for node in doc.root.children}
        assert set(keys) == {"model", "optimizer", "layers"}
        assert keys["layers"].value == "[3 items]"
        assert {(c.key, c.value) for c in keys["optimizer"].children} == {
            ("name", '"adam"'),
            ("lr", "0.001"),
        }


# --- MLmodel --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mlflow_files(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A run written by MLflow: log_dict, log_text, log_table and two pyfunc models."""
    folder = tmp_path_factory.mktemp("mlflow-files")
    result: dict = {}
    with mlflow_reading((folder / "mlruns").as_uri()), mlflow.start_run() as run:
        config = {"model": "mlp", "optimizer": {"name": "adam", "lr": 0.001}, "layers": [64, 32, 8]}
        mlflow.log_dict(config, "config.json")
        mlflow.log_dict(config, "config.yaml")
        mlflow.log_text("hello\nworld\n", "notes.txt")
        scores = pd.DataFrame({"question": ["a", "b", "c"], "score": [0.5, 2.0, 10.0]})
        mlflow.log_table(scores, "eval/results.json")
        frame = pd.DataFrame({"age": [31.0, 42.0], "city": ["Oslo", "Lima"]})
        columns = mlflow.pyfunc.log_model(
            name="columns",
            python_model=Doubler(),
            signature=infer_signature(frame, frame["age"], params={"temperature": 0.7}),
            input_example=frame,
            pip_requirements=["mlflow"],
        )
        matrix = np.arange(8, dtype="float64").reshape(2, 4)
        tensors = mlflow.pyfunc.log_model(
            name="tensors",
            python_model=Doubler(),
            signature=infer_signature(matrix, matrix[:, 0]),
            input_example=matrix,
            pip_requirements=["mlflow"],
        )
    mlruns = folder / "mlruns"
    result["artifacts"] = next(mlruns.rglob(f"{run.info.run_id}/artifacts"))
    for key, info in (("columns", columns), ("tensors", tensors)):
        result[key] = next(p for p in mlruns.rglob("MLmodel") if info.model_id in str(p))
    return result


class Doubler(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):  # noqa: ANN001, ANN201
        return model_input


def test_mlmodel_of_a_column_based_pyfunc_model(mlflow_files):
    info = mlmodel.read_mlmodel(mlflow_files["columns"])
    assert [flavor.name for flavor in info.flavors] == ["python_function"]
    fields = dict(info.flavors[0].fields)
    assert fields["loader_module"] == "mlflow.pyfunc.model"
    assert fields["env.virtualenv"] == "python_env.yaml"
    assert info.model_id and info.model_id.startswith("m-") and info.run_id
    assert info.utc_time_created and info.model_size_bytes and info.model_size_bytes > 0
    assert info.signature_kind == "columns"
    assert info.inputs == [
        mlmodel.SignatureRow("age", "double", required="yes"),
        mlmodel.SignatureRow("city", "string", required="yes"),
    ]
    assert info.outputs == [mlmodel.SignatureRow("age", "double", required="yes")]
    assert info.params == [mlmodel.SignatureRow("temperature", "double", default="0.7")]
    assert info.input_example == "input_example.json"
    assert info.serving_input_example == "serving_input_example.json"
    example_path = mlflow_files["columns"].with_name(info.input_example)
    example = mlmodel.read_example(example_path, info.input_example)
    assert example.is_json and not example.truncated
    assert json.loads(example.text) == {
        "columns": ["age", "city"],
        "data": [[31.0, "Oslo"], [42.0, "Lima"]],
    }
    assert example.text.count("\n") == 0  # short enough for one line
    serving_path = mlflow_files["columns"].with_name(info.serving_input_example)
    serving = mlmodel.read_example(serving_path, info.serving_input_example)
    assert serving.text.splitlines() == [
        "{",
        '  "dataframe_split": {',
        '    "columns": ["age", "city"],',
        '    "data": [[31.0, "Oslo"], [42.0, "Lima"]]',
        "  }",
        "}",
    ]


def test_mlmodel_of_a_tensor_based_pyfunc_model(mlflow_files):
    info = mlmodel.read_mlmodel(mlflow_files["tensors"])
    assert info.signature_kind == "tensors"
    assert info.inputs == [mlmodel.SignatureRow("", "tensor (float64)", "(-1, 4)")]
    assert info.outputs == [mlmodel.SignatureRow("", "tensor (float64)", "(-1,)")]
    assert info.params is None and info.input_example_type == "ndarray"


def test_column_types_of_nested_signatures_read_as_one_line():
    spec = {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "long"}}}}
    assert mlmodel.type_text(spec) == "array<object{a: long}>"
    assert mlmodel.sibling("model/MLmodel", "input_example.json") == "model/input_example.json"
    assert mlmodel.sibling("MLmodel", "input_example.json") == "input_example.json"


def test_a_damaged_mlmodel_raises_a_plain_message(tmp_path):
    path = tmp_path / "MLmodel"
    path.write_text("flavors:\n  python_function: {loader_module: [\n")
    with pytest.raises(CorruptStore, match="This MLmodel file is damaged. Invalid YAML at line"):
        mlmodel.read_mlmodel(path)
    info = mlmodel.parse_mlmodel("flavors: {}\nsignature:\n  inputs: '[{broken'\n")
    assert info.inputs is None and any("not valid JSON" in note for note in info.notes)


# --- tables ---------------------------------------------------------------------------------


def test_a_csv_of_100000_rows_gives_the_first_10000_and_the_total(tmp_path):
    path = tmp_path / "metrics.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", "loss", "split"])
        for i in range(100_000):
            writer.writerow([i, f"{1 / (i + 1):.5f}", "train" if i % 2 else "val"])
    preview = tables.read_table(TaskState(), path)
    assert preview.columns == ["step", "loss", "split"]
    assert len(preview.rows) == 10_000 and preview.total_rows == 100_000
    assert preview.rows[9_999] == ["9999", "0.00010", "train"]
    assert preview.numeric == [True, True, False] and not preview.notes
    assert tables.count_csv_rows(None, path) == 100_000
    cancelled = TaskState()
    cancelled.cancel()
    with pytest.raises(Cancelled):
        tables.count_lines(cancelled, path)


def test_a_ragged_csv_keeps_reading_with_a_note(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n\n")
    preview = tables.read_table(None, path)
    assert preview.columns == ["a", "b", "c", "(4)"]
    assert preview.rows == [
        ["1", "2", "3", ""],
        ["4", "5", "", ""],
        ["6", "7", "8", "9"],
        ["10", "11", "12", ""],
    ]
    assert preview.total_rows == 4
    assert preview.notes == ["2 rows had the wrong number of fields (the header has 3 fields)."]


def test_tsv_semicolons_and_quoted_line_breaks(tmp_path):
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("x\ty\n1\tone, two\n")
    assert tables.read_table(None, tsv).rows == [["1", "one, two"]]
    semicolons = tmp_path / "europe.csv"
    semicolons.write_text("name;value\nfoo;1,5\n")
    assert tables.read_table(None, semicolons).rows == [["foo", "1,5"]]
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('id,text\n1,"two\nlines"\n2,plain\n')
    preview = tables.read_csv(None, quoted, max_rows=1)
    assert preview.rows == [["1", "two\nlines"]] and preview.total_rows is None
    assert preview.approximate


def test_parquet_first_rows_and_total_from_metadata(tmp_path):
    path = tmp_path / "predictions.parquet"
    frame = pd.DataFrame(
        {"id": np.arange(25_000), "p": np.linspace(0, 1, 25_000), "label": ["cat", "dog"] * 12_500}
    )
    frame.to_parquet(path, row_group_size=3000)
    preview = tables.read_table(None, path)
    assert preview.total_rows == 25_000 and len(preview.rows) == 10_000
    assert preview.columns == ["id", "p", "label"] and preview.numeric == [True, True, False]
    assert preview.rows[0] == ["0", "0.0", "cat"] and preview.rows[9_999][0] == "9999"


def test_a_corrupt_parquet_is_a_plain_message(tmp_path):
    real = tmp_path / "real.parquet"
    pd.DataFrame({"a": range(100)}).to_parquet(real)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(real.read_bytes()[: real.stat().st_size // 2])
    with pytest.raises(CorruptStore, match="This Parquet file cannot be read"):
        tables.read_table(None, broken)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet at all" * 10)
    with pytest.raises(CorruptStore, match="This Parquet file cannot be read"):
        tables.read_table(None, garbage)


def test_mlflow_log_table_json_is_recognised_as_a_table(mlflow_files):
    path = mlflow_files["artifacts"] / "eval" / "results.json"
    assert tables.is_table_value(json.loads(path.read_text()))
    preview = tables.read_table(None, path)
    assert preview.fmt == "json" and preview.columns == ["question", "score"]
    assert preview.rows == [["a", "0.5"], ["b", "2.0"], ["c", "10.0"]]
    assert preview.numeric == [False, True] and preview.total_rows == 3
    assert not tables.is_table_value(
        json.loads((mlflow_files["artifacts"] / "config.json").read_text())
    )
    with pytest.raises(CorruptStore, match="not a table"):
        tables.read_table_json(mlflow_files["artifacts"] / "config.json")


def test_log_table_files_are_known_from_the_run_tag(tmp_path):
    import mlflow
    from mlflow import MlflowClient

    from flowdeck.core.artifacts.kinds import logged_tables

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    try:
        with mlflow.start_run() as run:
            mlflow.log_table({"question": ["a", "b"], "score": [1, 2]}, artifact_file="eval/results.json")
            mlflow.log_dict({"plain": True}, "config.json")
    finally:
        mlflow.set_tracking_uri(None)
    tags = MlflowClient(tracking_uri=uri).get_run(run.info.run_id).data.tags
    assert logged_tables(tags) == {"eval/results.json"}
    assert logged_tables({}) == frozenset() and logged_tables({"mlflow.loggedArtifacts": "{"}) == frozenset()
