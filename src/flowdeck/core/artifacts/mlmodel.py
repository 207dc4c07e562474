"""An MLmodel file read for display: flavors, ids, signature rows and the input example."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowdeck.core.artifacts.structured import parse_value
from flowdeck.core.errors import CorruptStore

MIB = 1024 * 1024
MAX_MLMODEL_BYTES = 4 * MIB
EXAMPLE_HEAD_BYTES = 64 * 1024
EXAMPLE_PRETTY_BYTES = 1 * MIB  # examples up to this size are pretty-printed when JSON
PRETTY_LINE_CHARS = 80


@dataclass(frozen=True)
class Flavor:
    """One flavor: its name and its scalar fields (nested ones as ``env.conda``)."""

    name: str
    fields: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class SignatureRow:
    """One input, output or parameter of a signature, every field as display text."""

    name: str
    type: str
    shape: str = ""
    required: str = ""  # "yes" / "no"; "" for tensors and parameters
    default: str = ""


@dataclass
class ModelInfo:
    """What an MLmodel file says about a model."""

    flavors: list[Flavor]
    run_id: str | None = None
    model_uuid: str | None = None
    model_id: str | None = None
    utc_time_created: str | None = None
    mlflow_version: str | None = None
    model_size_bytes: int | None = None
    inputs: list[SignatureRow] | None = None  # None: the signature has none
    outputs: list[SignatureRow] | None = None
    params: list[SignatureRow] | None = None
    signature_kind: str | None = None  # "columns", "tensors" or None without a signature
    input_example: str | None = None  # file name beside the MLmodel
    serving_input_example: str | None = None
    input_example_type: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def has_signature(self) -> bool:
        return self.signature_kind is not None


@dataclass(frozen=True)
class ExampleHead:
    """The beginning of an input example file, pretty-printed when it is small JSON."""

    name: str
    text: str
    size: int
    is_json: bool
    truncated: bool


def sibling(path: str, name: str) -> str:
    """The artifact path of ``name`` in the folder of the artifact ``path``."""
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    return f"{folder}/{name}" if folder else name


def read_mlmodel(path: Path) -> ModelInfo:
    """Parse the MLmodel file at ``path``; a broken file raises ``CorruptStore``."""
    size = path.stat().st_size
    if size > MAX_MLMODEL_BYTES:
        raise CorruptStore(f"This MLmodel file is {size / MIB:,.1f} MB, too big to be one.")
    return parse_mlmodel(path.read_bytes().decode("utf-8", errors="replace"))


def parse_mlmodel(text: str) -> ModelInfo:
    """The model described by the MLmodel YAML ``text``."""
    value, problem = parse_value(text, "yaml")
    if problem is not None:
        raise CorruptStore(f"This MLmodel file is damaged. {problem.message}")
    if not isinstance(value, dict):
        raise CorruptStore("This MLmodel file is damaged: it is not a YAML mapping.")
    flavors_value = value.get("flavors")
    flavors = [
        Flavor(str(name), tuple(_flatten(settings)))
        for name, settings in (flavors_value.items() if isinstance(flavors_value, dict) else ())
    ]
    info = ModelInfo(
        flavors,
        run_id=_text(value.get("run_id")),
        model_uuid=_text(value.get("model_uuid")),
        model_id=_text(value.get("model_id")),
        utc_time_created=_text(value.get("utc_time_created")),
        mlflow_version=_text(value.get("mlflow_version")),
        model_size_bytes=_int(value.get("model_size_bytes")),
    )
    if not flavors:
        info.notes.append("This MLmodel file names no flavors.")
    _read_signature(info, value.get("signature"))
    example = value.get("saved_input_example_info")
    if isinstance(example, dict):
        info.input_example = _text(example.get("artifact_path"))
        info.serving_input_example = _text(example.get("serving_input_path"))
        info.input_example_type = _text(example.get("type"))
    return info


def read_example(path: Path, name: str, limit: int = EXAMPLE_HEAD_BYTES) -> ExampleHead:
    """The head of an input example file: pretty JSON when it is at most 1 MB of JSON."""
    size = path.stat().st_size
    small = size <= EXAMPLE_PRETTY_BYTES
    with open(path, "rb") as handle:
        data = handle.read(size if small else limit)
    text = data.decode("utf-8", errors="replace")
    if small:
        try:
            pretty = pretty_json(json.loads(text))
        except (json.JSONDecodeError, RecursionError):
            pass
        else:
            return ExampleHead(name, pretty[:limit], size, True, len(pretty) > limit)
    return ExampleHead(name, text[:limit], size, False, size > len(data) or len(text) > limit)


def pretty_json(value: Any, indent: str = "", used: int = 0) -> str:
    """JSON indented by two spaces, with arrays and objects that fit the line kept on one line
    (``used``: the characters already on the line)."""
    compact = json.dumps(value, ensure_ascii=False)
    if (
        not isinstance(value, dict | list)
        or max(used, len(indent)) + len(compact) < PRETTY_LINE_CHARS
    ):
        return compact
    inner = indent + "  "
    if isinstance(value, list):
        items = [inner + pretty_json(item, inner) for item in value]
        return "[\n" + ",\n".join(items) + "\n" + indent + "]"
    items = []
    for key, item in value.items():
        prefix = f"{inner}{json.dumps(str(key), ensure_ascii=False)}: "
        items.append(prefix + pretty_json(item, inner, len(prefix)))
    return "{\n" + ",\n".join(items) + "\n" + indent + "}"


# --- signature --------------------------------------------------------------------------------


def _read_signature(info: ModelInfo, signature: Any) -> None:
    if not isinstance(signature, dict):
        return
    for part in ("inputs", "outputs", "params"):
        specs = _spec_list(info, part, signature.get(part))
        if specs is None:
            continue
        rows = [_param_row(spec) if part == "params" else _spec_row(spec) for spec in specs]
        setattr(info, part, rows)
        if part != "params" and specs:
            tensors = all(spec.get("type") == "tensor" for spec in specs)
            info.signature_kind = "tensors" if tensors else "columns"
    if info.signature_kind is None and (info.inputs is not None or info.params is not None):
        info.signature_kind = "columns"


def _spec_list(info: ModelInfo, part: str, raw: Any) -> list[dict[str, Any]] | None:
    """MLflow stores each part of a signature as a JSON string inside the YAML."""
    if raw is None:
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            info.notes.append(f"The signature's {part} are not valid JSON: {error.msg}.")
            return None
    if not isinstance(raw, list) or not all(isinstance(spec, dict) for spec in raw):
        info.notes.append(f"The signature's {part} are not a list of fields.")
        return None
    return raw


def _spec_row(spec: dict[str, Any]) -> SignatureRow:
    name = _text(spec.get("name")) or ""
    if spec.get("type") == "tensor":
        tensor = spec.get("tensor-spec") or {}
        return SignatureRow(
            name, f"tensor ({tensor.get('dtype', '?')})", _shape(tensor.get("shape"))
        )
    required = spec.get("required", True)
    return SignatureRow(name, type_text(spec), "", "yes" if required else "no")


def _param_row(spec: dict[str, Any]) -> SignatureRow:
    default = spec.get("default")
    default_text = "" if default is None else json.dumps(default, ensure_ascii=False, default=str)
    return SignatureRow(
        _text(spec.get("name")) or "", type_text(spec), _shape(spec.get("shape")), "", default_text
    )


def type_text(spec: Any) -> str:
    """A column type as one line: ``double``, ``array<string>``, ``object{a: long}``."""
    if not isinstance(spec, dict):
        return str(spec)
    kind = spec.get("type")
    if kind == "array":
        return f"array<{type_text(spec.get('items'))}>"
    if kind == "object":
        properties = spec.get("properties") or {}
        inner = ", ".join(f"{key}: {type_text(value)}" for key, value in properties.items())
        return f"object{{{inner}}}"
    if kind == "map":
        return f"map<string, {type_text(spec.get('values'))}>"
    if kind == "tensor":
        return f"tensor ({(spec.get('tensor-spec') or {}).get('dtype', '?')})"
    return str(kind) if kind is not None else "?"


def _shape(shape: Any) -> str:
    if not isinstance(shape, list | tuple):
        return ""
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


# --- helpers ----------------------------------------------------------------------------------


def _flatten(settings: Any, prefix: str = "") -> list[tuple[str, str]]:
    if not isinstance(settings, dict):
        return [(prefix or "value", _display(settings))] if settings is not None else []
    fields: list[tuple[str, str]] = []
    for key, item in settings.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict):
            fields.extend(_flatten(item, name))
        elif item is not None:
            fields.append((name, _display(item)))
    return fields


def _display(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_display(item) for item in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None
