"""Generate a 100,000-span trace (depth 20, ~1 KB payloads) in a SQLite and a file store.

Writing 100,000 spans through MLflow's tracing API takes many minutes, so real MLflow tracing
(``@mlflow.trace``, ``start_span``, a CHAT_MODEL span with token usage, a failing TOOL span)
writes a 21-level template trace into each store, and its span records are then replicated
faithfully in MLflow's own formats: rows of the ``spans`` table (hex id columns, ``content`` as
MLflow's span JSON with base64 ids) and the file store's ``artifacts/traces.json``. Both
stores stay readable by ``MlflowClient.get_trace``. Cached under ``benchmarks/data/``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import random
import shutil
import sqlite3
from pathlib import Path

FORMAT_VERSION = "1"
N_SPANS, DEPTH, PAYLOAD_BYTES = 100_000, 20, 1_000
EXPERIMENT = "big-trace"
LEVEL_SIZES = [1, 10, 40, 150, 400, 900, 1800, 3000, 4500, 6000, 7000, 7500]
LEVEL_SIZES += [8000] * 6 + [7500, 7000]
LEVEL_SIZES.append(N_SPANS - sum(LEVEL_SIZES))  # 21 levels: depth 0..20
ROOT_NS = 10_000_000_000


def _words(rng: random.Random, size: int) -> str:
    words = ("agent", "tool", "query", "answer", "vector", "chunk", "token", "model", "plan")
    text = ""
    while len(text) < size:
        text += rng.choice(words) + " "
    return text[:size]


def _write_template(uri: str) -> str:
    """A real MLflow trace: nested spans down to depth 20 with 1 KB inputs; its trace id."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment(EXPERIMENT)
    rng = random.Random(1)

    @mlflow.trace(span_type="CHAT_MODEL")
    def chat(prompt: str) -> dict:
        span = mlflow.get_current_active_span()
        span.set_attribute(
            "mlflow.chat.tokenUsage",
            {"input_tokens": 120, "output_tokens": 45, "total_tokens": 165},
        )
        return {"choices": [{"message": {"role": "assistant", "content": prompt[:80]}}]}

    @mlflow.trace(span_type="TOOL")
    def failing_tool(query: str) -> None:
        raise ValueError(f"tool failed on {query[:20]}")

    def nest(level: int) -> None:
        kind = ("AGENT", "CHAIN", "RETRIEVER", "TOOL")[level % 4]
        with mlflow.start_span(name=f"step-{level}", span_type=kind) as span:
            span.set_inputs({"query": _words(rng, PAYLOAD_BYTES)})
            if level < DEPTH - 1:
                nest(level + 1)
            else:
                chat(_words(rng, PAYLOAD_BYTES))
                with contextlib.suppress(ValueError):
                    failing_tool(_words(rng, PAYLOAD_BYTES))
            span.set_outputs({"answer": _words(rng, 64)})

    nest(0)
    mlflow.flush_trace_async_logging()
    trace_id = mlflow.get_last_active_trace_id()
    assert trace_id
    return trace_id


def _b64(span_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(span_hex)).decode()


def replicate(templates: list[dict], otel_trace: str) -> list[dict]:
    """100,000 span records (MLflow's span JSON) shaped as a wide tree of depth 20."""
    rng = random.Random(7)
    by_depth: dict[int, list[dict]] = {}
    for record in templates:
        by_depth.setdefault(int(record["_depth"]), []).append(record)
    records: list[dict] = []
    previous: list[tuple[str, int, int]] = []  # (span hex, start, end) of the level above
    counter = 0
    for depth, size in enumerate(LEVEL_SIZES):
        parents = sorted(rng.randrange(len(previous)) for _ in range(size)) if previous else []
        counts: dict[int, int] = {}
        for index in parents:
            counts[index] = counts.get(index, 0) + 1
        slots = [(p, n) for p, n in sorted(counts.items())] if previous else [(-1, 1)]
        level: list[tuple[str, int, int]] = []
        for parent_index, count in slots:
            start, end = (0, ROOT_NS) if parent_index < 0 else previous[parent_index][1:]
            width = (end - start) // count
            for slot in range(count):
                counter += 1
                span_hex = f"{counter:016x}"
                begin = start + slot * width + width // 20
                finish = begin + max(1, width * 9 // 10)
                choices = by_depth.get(depth) or by_depth[max(by_depth)]
                template = choices[counter % len(choices)]
                record = {k: v for k, v in template.items() if k != "_depth"}
                record.update(
                    trace_id=otel_trace,
                    span_id=_b64(span_hex),
                    parent_span_id=None if parent_index < 0 else _b64(previous[parent_index][0]),
                    name=f"{template['name']}#{counter}",
                    start_time_unix_nano=template["_base"] + begin,
                    end_time_unix_nano=template["_base"] + finish,
                )
                record.pop("_base", None)
                records.append(record)
                level.append((span_hex, begin, finish))
        previous = level
    return records


def _templates(records: list[dict]) -> list[dict]:
    """Template records with their depth and the trace's start time attached."""
    by_id = {r["span_id"]: r for r in records}
    base = min(int(r["start_time_unix_nano"]) for r in records)
    out = []
    for record in records:
        depth, parent = 0, record.get("parent_span_id")
        while parent in by_id:
            depth, parent = depth + 1, by_id[parent].get("parent_span_id")
        out.append({**record, "_depth": depth, "_base": base})
    return out


def _fill_sqlite(db: Path, trace_id: str) -> None:
    connection = sqlite3.connect(db)
    experiment_id, *_ = connection.execute(
        "SELECT experiment_id FROM trace_info WHERE request_id = ?", (trace_id,)
    ).fetchone()
    rows = connection.execute("SELECT content FROM spans WHERE trace_id = ?", (trace_id,))
    templates = _templates([json.loads(r[0]) for r in rows])
    records = replicate(templates, templates[0]["trace_id"])
    connection.execute("DELETE FROM spans WHERE trace_id = ?", (trace_id,))
    connection.executemany(
        "INSERT INTO spans (trace_id, experiment_id, span_id, parent_span_id, name, type, status,"
        " start_time_unix_nano, end_time_unix_nano, content) VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            (
                trace_id,
                experiment_id,
                base64.b64decode(r["span_id"]).hex(),
                base64.b64decode(r["parent_span_id"]).hex() if r["parent_span_id"] else None,
                r["name"],
                json.loads(r["attributes"]["mlflow.spanType"]),
                r["status"]["code"].removeprefix("STATUS_CODE_"),
                r["start_time_unix_nano"],
                r["end_time_unix_nano"],
                json.dumps(r),
            )
            for r in records
        ),
    )
    connection.execute(
        "UPDATE trace_info SET execution_time_ms = ? WHERE request_id = ?",
        (ROOT_NS // 1_000_000, trace_id),
    )
    connection.commit()
    connection.close()


def _fill_files(mlruns: Path, trace_id: str) -> None:
    path = next(mlruns.rglob(f"traces/{trace_id}/artifacts/traces.json"))
    records = json.loads(path.read_text())["spans"]
    templates = _templates(records)
    path.write_text(json.dumps({"spans": replicate(templates, templates[0]["trace_id"])}))


def generate_big_trace(folder: Path) -> dict[str, str]:
    """``{"sqlite": db, "files": mlruns, "sqlite_trace": id, "files_trace": id}``, cached."""
    folder = Path(folder).resolve() / "big-trace"
    stamp = folder / "ready.json"
    shape = f"{FORMAT_VERSION} {N_SPANS} {DEPTH} {PAYLOAD_BYTES}"
    if stamp.exists():
        found = json.loads(stamp.read_text())
        if found.get("shape") == shape:
            return found
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    db, mlruns = folder / "trace.db", folder / "mlruns"
    found = {"shape": shape, "sqlite": str(db), "files": str(mlruns)}
    found["sqlite_trace"] = _write_template(f"sqlite:///{db}")
    found["files_trace"] = _write_template(mlruns.as_uri())
    _fill_sqlite(db, found["sqlite_trace"])
    _fill_files(mlruns, found["files_trace"])
    stamp.write_text(json.dumps(found))
    return found


if __name__ == "__main__":
    print(json.dumps(generate_big_trace(Path(__file__).resolve().parent / "data"), indent=2))
