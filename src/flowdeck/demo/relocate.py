"""Rewrite absolute folder paths inside a freshly built store (database and model files)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

TEXT_FILE_NAMES = ("MLmodel",)
TEXT_FILE_SUFFIXES = (".yaml", ".json")
MAX_TEXT_FILE_BYTES = 1_000_000


def relocate_paths(db_path: Path, old_root: Path, new_root: Path) -> int:
    """Replace ``old_root`` by ``new_root`` in every text cell of ``db_path``; returns changes.

    MLflow stores absolute artifact locations (experiments, runs, model versions, logged
    models, trace tags), so a store built in a temporary folder must be pointed at its final
    folder before the rename.
    """
    pairs = {str(old_root): str(new_root), quote(str(old_root)): quote(str(new_root))}
    changed = 0
    with sqlite3.connect(db_path) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        for table in tables:
            columns = [row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')]
            for column in columns:
                for old, new in pairs.items():
                    cursor = connection.execute(
                        f'UPDATE "{table}" SET "{column}" = replace("{column}", ?, ?) '
                        f'WHERE typeof("{column}") = \'text\' AND instr("{column}", ?) > 0',
                        (old, new, old),
                    )
                    changed += cursor.rowcount
    connection.close()
    return changed


def relocate_files(folder: Path, old_root: Path, new_root: Path) -> int:
    """Replace ``old_root`` by ``new_root`` in MLmodel/YAML/JSON files; returns files changed.

    MLflow writes the absolute ``artifact_path`` of a logged model into its MLmodel file.
    """
    changed = 0
    for path in folder.rglob("*"):
        if not path.is_file() or path.stat().st_size > MAX_TEXT_FILE_BYTES:
            continue
        if path.name not in TEXT_FILE_NAMES and path.suffix not in TEXT_FILE_SUFFIXES:
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if str(old_root) in text:
            path.write_text(
                text.replace(str(old_root), str(new_root)),
                encoding="utf-8",
                errors="surrogateescape",
            )
            changed += 1
    return changed
