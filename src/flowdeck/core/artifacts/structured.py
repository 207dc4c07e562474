"""JSON and YAML files parsed into a capped tree of (key, value preview, children) for a tree view."""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from flowdeck.core.artifacts import kinds

MIB = 1024 * 1024
MAX_PARSE_BYTES = 20 * MIB  # bigger files are shown as text only
MAX_NODES = 50_000
PREVIEW_CHARS = 300

OBJECT, ARRAY, STRING, NUMBER, BOOLEAN, NULL, OTHER, NOTE = (
    "object",
    "array",
    "string",
    "number",
    "boolean",
    "null",
    "other",
    "note",
)


@dataclass(eq=False)
class Node:
    """One key of an object, item of an array, or a note standing for what was not shown."""

    key: str
    value: str  # a one-line preview: a scalar, or "{3 keys}" / "[12 items]"
    kind: str
    parent: Node | None = field(default=None, repr=False)
    row: int = 0
    children: list[Node] = field(default_factory=list, repr=False)

    def add(self, child: Node) -> Node:
        child.parent, child.row = self, len(self.children)
        self.children.append(child)
        return child


@dataclass(frozen=True)
class ParseProblem:
    """Why a file is not valid JSON/YAML; ``line`` and ``column`` count from 1."""

    message: str
    line: int | None = None
    column: int | None = None


@dataclass
class StructuredDoc:
    """A parsed file: its tree (``root`` holds the top-level value) or the problem."""

    fmt: str  # "json" or "yaml"
    root: Node | None = None
    nodes: int = 0
    truncated: bool = False
    problem: ParseProblem | None = None


def format_of(kind: str) -> str:
    """ "json" for a JSON kind, "yaml" for YAML, MLproject and MLmodel files."""
    return "json" if kind == kinds.JSON else "yaml"


def parse_value(text: str, fmt: str) -> tuple[Any, ParseProblem | None]:
    """The value in ``text``, or a problem naming the line and column."""
    if fmt == "json":
        try:
            return json.loads(text), None
        except json.JSONDecodeError as error:
            return None, ParseProblem(
                f"Invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}.",
                error.lineno,
                error.colno,
            )
        except RecursionError:
            return None, ParseProblem("The JSON is nested too deeply to be read.")
    return _parse_yaml(text)


def _parse_yaml(text: str) -> tuple[Any, ParseProblem | None]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        documents = list(yaml.load_all(text, Loader=loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        what = error.problem or error.context or "not valid YAML"
        if mark is None:
            return None, ParseProblem(f"Invalid YAML: {what}.")
        line, column = mark.line + 1, mark.column + 1
        return None, ParseProblem(
            f"Invalid YAML at line {line}, column {column}: {what}.", line, column
        )
    except (yaml.YAMLError, RecursionError, ValueError) as error:
        return None, ParseProblem(f"Invalid YAML: {error}")
    if len(documents) == 1:
        return documents[0], None
    return documents, None  # several "---" documents: shown as a list of them


def parse_structured(text: str, fmt: str, max_nodes: int = MAX_NODES) -> StructuredDoc:
    """Parse ``text`` as JSON or YAML and build its tree, at most ``max_nodes`` nodes."""
    value, problem = parse_value(text, fmt)
    return structured_doc(value, problem, fmt, max_nodes)


def structured_doc(
    value: Any, problem: ParseProblem | None, fmt: str, max_nodes: int = MAX_NODES
) -> StructuredDoc:
    """The document of an already parsed value (or of its problem)."""
    if problem is not None:
        return StructuredDoc(fmt, problem=problem)
    root, count, truncated = build_tree(value, max_nodes)
    return StructuredDoc(fmt, root, count, truncated)


def build_tree(value: Any, max_nodes: int = MAX_NODES) -> tuple[Node, int, bool]:
    """``(root, nodes, truncated)``: the tree of ``value`` built breadth first, so a cap cuts
    the deepest levels; a note node stands for every list of children left out."""
    root = Node("", _preview(value), _kind(value))
    count = 1
    truncated = False
    queue: deque[tuple[Node, Any]] = deque([(root, value)])
    while queue:
        node, item = queue.popleft()
        entries = _entries(item)
        if entries is None:
            continue
        for index, (key, child) in enumerate(entries):
            if count >= max_nodes:
                truncated = True
                left = len(entries) - index
                node.add(Node("…", f"{left:,} more not shown (over {max_nodes:,} nodes)", NOTE))
                break
            count += 1
            queue.append((node.add(Node(key, _preview(child), _kind(child))), child))
    return root, count, truncated


def _entries(value: Any) -> list[tuple[str, Any]] | None:
    if isinstance(value, dict):
        return [(str(key), item) for key, item in value.items()]
    if isinstance(value, list | tuple):
        return [(f"[{index}]", item) for index, item in enumerate(value)]
    return None


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return OBJECT
    if isinstance(value, list | tuple):
        return ARRAY
    if isinstance(value, str):
        return STRING
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int | float):
        return NUMBER
    if value is None:
        return NULL
    return OTHER


def _preview(value: Any) -> str:
    if isinstance(value, dict):
        return f"{{{len(value):,} {'key' if len(value) == 1 else 'keys'}}}"
    if isinstance(value, list | tuple):
        return f"[{len(value):,} {'item' if len(value) == 1 else 'items'}]"
    if isinstance(value, str):
        text = json.dumps(value[: PREVIEW_CHARS + 1], ensure_ascii=False)
    elif isinstance(value, bool) or value is None:
        text = json.dumps(value)
    elif isinstance(value, bytes):
        text = f"<{len(value):,} bytes>"
    else:
        text = str(value)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"
