"""A classic hex + ASCII dump of a file's first bytes, for files no other preview can show."""

from __future__ import annotations

from pathlib import Path

from flowdeck.core.errors import CorruptStore, FlowdeckError, NotFound, PermissionDenied

DUMP_BYTES = 4096
BYTES_PER_LINE = 16


def hex_dump(data: bytes, offset: int = 0) -> str:
    """``data`` as lines of ``OFFSET  hh hh … hh  hh … hh  |ascii|`` (16 bytes a line; bytes
    outside printable ASCII shown as "." on the right)."""
    lines = []
    for start in range(0, len(data), BYTES_PER_LINE):
        chunk = data[start : start + BYTES_PER_LINE]
        cells = [f"{byte:02x}" for byte in chunk]
        cells += ["  "] * (BYTES_PER_LINE - len(chunk))
        half = BYTES_PER_LINE // 2
        hex_part = " ".join(cells[:half]) + "  " + " ".join(cells[half:])
        text = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in chunk)
        lines.append(f"{offset + start:08x}  {hex_part}  |{text}|")
    return "\n".join(lines)


def read_head(path: Path, limit: int = DUMP_BYTES) -> tuple[bytes, int]:
    """The first ``limit`` bytes of the file and its whole size."""
    try:
        with path.open("rb") as file:
            size = path.stat().st_size
            return file.read(limit), size
    except OSError as error:
        raise file_error(error) from error


def file_error(error: OSError) -> FlowdeckError:
    """The Flowdeck error for a local artifact file that could not be read."""
    reason = error.strerror or str(error)
    if isinstance(error, FileNotFoundError):
        return NotFound(f"The file is not there any more: {reason}")
    if isinstance(error, PermissionError):
        return PermissionDenied(f"The file may not be read: {reason}")
    return CorruptStore(f"The file could not be read: {reason}")
