"""Runs with awkward values (non-ASCII, long, line breaks) and a generator of run filters."""

from __future__ import annotations

import json
import math
import os
import random
from dataclasses import dataclass

LONG = ("ab" * 1500 + "a" * 2990 + "b" * 10)[:6000]  # MLflow's longest param value
CONFIG = json.dumps({f"layer_{i}": {"units": i * 8, "act": "relu", "drop": 0.1} for i in range(12)})

# Values the generator builds patterns from; each appears in some run below.
TEXTS = [
    "adam", "Adam", "SGD", "sgd", "señor", "SEÑOR", "Ñandú", "straße", "STRASSE", "ſtraße",
    "Kelvin K", "kelvin k", "İstanbul", "istanbul", "ıi", "100%_done", "a_b%c", "back\\slash",
    "line one\nline two", "trail\n", "", " ", "it's", 'say "hi"', "ÇORE", "core", "Core",
    "0.01", "1e-3", "naïve", "日本語テキスト", "emoji 🚀 rocket", LONG, CONFIG,
]  # fmt: skip
PARAM_KEYS = ["opt", "lr", "long", "config", "note", "ключ", "with space"]
TAG_KEYS = ["team", "desc", "Team", "mlflow.note.content"]
METRIC_KEYS = ["loss", "acc", "val/loss"]
STATUSES = ["FINISHED", "FAILED", "KILLED", "RUNNING"]
DATASETS = [("train", "training"), ("Test", "eval"), ("dätä", "ÉVAL"), ("train", "eval")]
NUMBERS = [0.0, 0.5, -1.0, 1.0, 2.5, 1e300, math.nan, math.inf, -math.inf]


@dataclass
class FuzzStore:
    """A store MLflow wrote: its tracking URI, experiment ids and run ids."""

    tracking_uri: str
    experiment_ids: list[str]
    run_ids: list[str]


def write_fuzz_store(tracking_uri: str, runs: int = 30, seed: int = 15) -> FuzzStore:
    """``runs`` runs over two experiments, written by MLflow's client with a fixed seed.

    MySQL compares keys ignoring case, so there the tag ``Team`` is left out (it would
    collide with ``team``).
    """
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    import mlflow
    import pandas as pd
    from mlflow import MlflowClient
    from mlflow.entities import DatasetInput, InputTag, Metric, Param, RunTag

    rng = random.Random(seed)
    client = MlflowClient(tracking_uri=tracking_uri)
    experiments = [client.create_experiment(name) for name in ("fuzz", "fuzz-two")]
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    written = FuzzStore(tracking_uri, experiments, [])
    for index in range(runs):
        name = rng.choice(TEXTS[:30]).replace("\n", " ")[:200] or f"run {index}"
        run = client.create_run(
            experiments[1 if index % 3 == 2 else 0],
            start_time=1000 + rng.randrange(50) * 10,
            run_name=name,
        )
        run_id = run.info.run_id
        written.run_ids.append(run_id)
        params = [Param(k, rng.choice(TEXTS)) for k in PARAM_KEYS if rng.random() < 0.6]
        tags = [RunTag(k, rng.choice(TEXTS)) for k in TAG_KEYS if rng.random() < 0.6]
        if tracking_uri.startswith("mysql"):
            tags = [tag for tag in tags if tag.key != "Team"]
        metrics = [
            Metric(k, rng.choice(NUMBERS), 5 + step, step)
            for k in METRIC_KEYS
            if rng.random() < 0.7
            for step in range(rng.randrange(1, 3))
        ]
        client.log_batch(run_id, metrics=metrics, params=params, tags=tags)
        inputs = []
        for dataset_name, context in rng.sample(DATASETS, rng.randrange(0, 3)):
            dataset = mlflow.data.from_pandas(frame, name=dataset_name)._to_mlflow_entity()
            inputs.append(DatasetInput(dataset, [InputTag("mlflow.data.context", context)]))
        if inputs:
            client.log_inputs(run_id, datasets=inputs)
        status = rng.choice(STATUSES)
        if status == "RUNNING":
            continue
        client.set_terminated(run_id, status, end_time=2000 + index)
    return written


# --- filters ----------------------------------------------------------------------------------

ENTITIES = {
    "metric": ["metrics", "metric", "METRICS"],
    "param": ["params", "param", "parameters", "parameter"],
    "tag": ["tags", "tag"],
    "attribute": ["attributes", "attribute", "attr", "run"],
    "dataset": ["datasets", "dataset"],
}
STRING_ATTRIBUTES = ["status", "run_name", "run_id", "artifact_uri", "user_id", "run name"]
NUMERIC_ATTRIBUTES = ["start_time", "end_time", "created", "Created"]
DATASET_KEYS = ["name", "digest", "context", "x"]
COMPARATORS = ["=", "!=", ">", ">=", "<", "<=", "LIKE", "ILIKE", "like", "ilike", "IN", "NOT IN"]
VALID = {
    "metric": ["=", "!=", ">", ">=", "<", "<="],
    "param": ["=", "!=", "LIKE", "ILIKE", "like", "ilike"],
    "tag": ["=", "!=", "LIKE", "ILIKE", "like", "ilike"],
    "attribute": ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN", ">", "<"],
    "dataset": ["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"],
}
NULL_CHECKS = ["IS NULL", "IS NOT NULL"]


def _quote_key(rng: random.Random, key: str) -> str:
    if " " in key or "/" in key or not key.isascii() or rng.random() < 0.2:
        return rng.choice(["`{}`", '"{}"'] if "`" not in key else ['"{}"']).format(key)
    return key


def _quote_value(rng: random.Random, text: str) -> str:
    """A string literal; MLflow's grammar has no escapes, so pick the quote the text lacks."""
    if "'" in text and '"' in text:
        text = text.replace('"', "")
    quote = '"' if "'" in text or ('"' not in text and rng.random() < 0.2) else "'"
    return quote + text + quote


def _pattern(rng: random.Random, texts: list[str]) -> str:
    """A LIKE pattern cut from a real value: wildcards, case changes, non-ASCII letters."""
    text = rng.choice(texts)
    if len(text) > 40 and rng.random() < 0.7:
        start = rng.randrange(len(text) - 20)
        text = text[start : start + rng.randrange(1, 20)]
    chars = list(text)
    for _ in range(rng.randrange(0, 4)):
        position = rng.randrange(len(chars) + 1)
        chars.insert(position, rng.choice(["%", "%", "_", "%%", "\\", "_%"]))
    if chars and rng.random() < 0.3:
        position = rng.randrange(len(chars))
        chars[position] = rng.choice([chars[position].upper(), chars[position].lower(), "Ñ", "ß"])
    if rng.random() < 0.25:
        chars = ["%", *chars, "%"]
    pattern = "".join(chars)
    # MLflow's FileStore backtracks: three or more % over a 6,000-character value can take
    # minutes there (benchmarks/bench_filters.py times that), so keep at most two.
    while "%%" in pattern:
        pattern = pattern.replace("%%", "%")
    while pattern.count("%") > 2:
        pattern = pattern.replace("%", "", 1)
    return pattern


def _value(rng: random.Random, kind: str, comparator: str) -> str:
    upper = comparator.upper()
    if upper in ("IN", "NOT IN"):
        items = [_quote_value(rng, rng.choice(TEXTS[:30]).replace("\n", "")) for _ in range(3)]
        items = items[: rng.randrange(1, 4)]
        if rng.random() < 0.1:
            items.append(rng.choice(["nan", "1", "'a'", "x", "NULL"]))
        return "(" + ", ".join(items) + ")"
    if kind == "metric" or (kind == "attribute" and rng.random() < 0.4):
        number = rng.choice([0, 0.5, -1, 1, 2.5, 1e300, 1000, 1200, 2010, "1e-3", "nan", "inf"])
        return str(number) if rng.random() < 0.9 else _quote_value(rng, str(number))
    if upper in ("LIKE", "ILIKE"):
        return _quote_value(rng, _pattern(rng, TEXTS))
    return _quote_value(rng, rng.choice(TEXTS[:30]) if rng.random() < 0.9 else "zzz")


def _clause(rng: random.Random, run_ids: list[str]) -> str:
    kind = rng.choice(list(ENTITIES))
    prefix = rng.choice(ENTITIES[kind])
    key = {
        "metric": lambda: rng.choice([*METRIC_KEYS, "missing"]),
        "param": lambda: rng.choice([*PARAM_KEYS, "missing"]),
        "tag": lambda: rng.choice([*TAG_KEYS, "missing"]),
        "attribute": lambda: rng.choice(STRING_ATTRIBUTES + NUMERIC_ATTRIBUTES),
        "dataset": lambda: rng.choice(DATASET_KEYS),
    }[kind]()
    left = _quote_key(rng, key)
    if kind != "attribute" or rng.random() < 0.7:
        left = f"{prefix}.{left}"
    if rng.random() < 0.12:
        return f"{left} {rng.choice(NULL_CHECKS)}"
    comparator = rng.choice(COMPARATORS if rng.random() < 0.15 else VALID[kind])
    if kind == "attribute" and key in NUMERIC_ATTRIBUTES and comparator in ("IN", "NOT IN"):
        comparator = rng.choice(VALID["metric"])
    if kind == "attribute" and key == "run_id" and rng.random() < 0.5:
        chosen = rng.sample(run_ids, 2)
        value = f"('{chosen[0]}', '{chosen[1]}')" if "IN" in comparator else f"'{chosen[0]}'"
        return f"{left} {comparator} {value}"
    return f"{left} {comparator} {_value(rng, kind, comparator)}"


def _mangle(rng: random.Random, text: str) -> str:
    """A small typo: dropped, doubled or swapped characters, or a stray keyword."""
    chars = list(text)
    position = rng.randrange(len(chars))
    choice = rng.randrange(4)
    if choice == 0:
        del chars[position]
    elif choice == 1:
        chars.insert(position, chars[position])
    elif choice == 2:
        chars.insert(position, rng.choice([" OR ", " AND ", "(", ")", "'", '"', "`", ",", " nan"]))
    else:
        chars[position] = rng.choice("=<>!%_ .")
    return "".join(chars)


def generate_filters(count: int, run_ids: list[str], seed: int = 6) -> list[str]:
    """``count`` distinct-ish run filters of MLflow's grammar, about one in eight mangled."""
    rng = random.Random(seed)
    filters = []
    for _ in range(count):
        clauses = [_clause(rng, run_ids) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))]
        text = rng.choice([" AND ", " and ", " And "]).join(clauses)
        if rng.random() < 0.12:
            text = _mangle(rng, text)
        filters.append(text)
    return filters
