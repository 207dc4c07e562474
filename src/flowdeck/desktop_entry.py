"""Install (and remove) Flowdeck's .desktop file, icons and AppStream metadata for the user."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TextIO

APP_ID = "io.github.flowdeck.Flowdeck"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)  # hicolor PNG sizes, plus scalable/
INSTALL_FLAG = "--install-desktop-entry"
UNINSTALL_FLAG = "--uninstall-desktop-entry"
FLAGS = frozenset({INSTALL_FLAG, UNINSTALL_FLAG})
# Characters that make an Exec argument need quoting (Desktop Entry spec, "The Exec key").
EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
CACHE_TOOL_TIMEOUT = 60  # seconds


def resource(relative: str) -> Traversable:
    """A file shipped in the package's ``resources/`` folder (``relative`` uses ``/``)."""
    node = resources.files("flowdeck").joinpath("resources")
    for part in relative.split("/"):
        node = node.joinpath(part)
    return node


def icon_file() -> Path | None:
    """The scalable app icon on disk (wheel, source tree or bundle), or None if not shipped."""
    path = Path(str(resource(f"icons/hicolor/scalable/apps/{APP_ID}.svg")))
    return path if path.is_file() else None


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME`` when set to an absolute path, else ``~/.local/share``."""
    value = (os.environ if environ is None else environ).get("XDG_DATA_HOME", "")
    return Path(value) if value and Path(value).is_absolute() else Path.home() / ".local/share"


@dataclass(frozen=True)
class Placement:
    """One shipped resource and where it goes under the data home."""

    source: str  # relative to the package's resources/
    target: Path


def placements(home: Path) -> list[Placement]:
    """Every file the desktop entry consists of, in the order it is written (the icons keep
    their place in the hicolor tree, which the package mirrors)."""
    icons = [f"icons/hicolor/scalable/apps/{APP_ID}.svg"] + [
        f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png" for size in ICON_SIZES
    ]
    return [
        Placement(f"{APP_ID}.desktop", home / "applications" / f"{APP_ID}.desktop"),
        Placement(f"{APP_ID}.metainfo.xml", home / "metainfo" / f"{APP_ID}.metainfo.xml"),
        *(Placement(icon, home / icon) for icon in icons),
    ]


def launch_command() -> list[str]:
    """How the desktop should start this installation of Flowdeck, with absolute paths."""
    if getattr(sys, "frozen", False):  # the PyInstaller bundle's executable
        return [str(Path(sys.executable).absolute())]
    folders = [Path(sysconfig.get_path("scripts"))]
    user_scripts = sysconfig.get_path("scripts", f"{os.name}_user")
    if user_scripts:
        folders.append(Path(user_scripts))
    if Path(sys.argv[0]).name in ("flowdeck", "flowdeck-cli"):
        folders.append(Path(sys.argv[0]).absolute().parent)
    for folder in folders:
        script = folder / "flowdeck"
        if script.is_file() and os.access(script, os.X_OK):
            return [str(script.absolute())]
    return [str(Path(sys.executable).absolute()), "-m", "flowdeck"]


def exec_argument(argument: str) -> str:
    """``argument`` quoted for a .desktop ``Exec`` value (quoting, then string escaping)."""
    argument = argument.replace("%", "%%")
    if any(char in EXEC_RESERVED for char in argument):
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in argument)
        argument = f'"{escaped}"'
    return argument.replace("\\", "\\\\")


def desktop_file_text(command: Sequence[str]) -> str:
    """The shipped .desktop file with ``Exec``/``TryExec`` pointing at ``command``."""
    lines = []
    for line in resource(f"{APP_ID}.desktop").read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            lines.append("Exec=" + " ".join(exec_argument(a) for a in command) + " %f")
            lines.append(f"TryExec={command[0]}")
        elif not line.startswith("TryExec="):
            lines.append(line)
    return "\n".join(lines) + "\n"


def install(home: Path, command: Sequence[str]) -> list[Path]:
    """Write every placement under ``home`` (replacing older copies); return the paths."""
    written = []
    for item in placements(home):
        item.target.parent.mkdir(parents=True, exist_ok=True)
        if item.source.endswith(".desktop"):
            item.target.write_text(desktop_file_text(command), encoding="utf-8")
        else:
            item.target.write_bytes(resource(item.source).read_bytes())
        written.append(item.target)
    return written


def present(path: Path) -> bool:
    """Whether ``path`` is a file (or a symlink, even a dangling one) to remove."""
    return path.is_file() or path.is_symlink()


def uninstall(home: Path) -> list[Path]:
    """Remove the placements under ``home`` that exist (nothing else); return the paths."""
    removed = []
    for item in placements(home):
        if present(item.target):
            item.target.unlink()
            removed.append(item.target)
    return removed


def cache_commands(home: Path) -> list[list[str]]:
    """The cache refreshes to run afterwards: only tools that are installed, and the icon cache
    only where one exists already (a new cache would be one more file nobody asked for)."""
    commands = []
    if shutil.which("update-desktop-database"):
        commands.append(["update-desktop-database", "-q", str(home / "applications")])
    hicolor = home / "icons" / "hicolor"
    if shutil.which("gtk-update-icon-cache") and (hicolor / "icon-theme.cache").is_file():
        commands.append(["gtk-update-icon-cache", "-q", "-f", "-t", str(hicolor)])
    return commands


def refresh_caches(commands: Sequence[Sequence[str]]) -> None:
    """Run the cache tools; a failing tool only delays when the desktop notices the change."""
    for command in commands:
        try:
            subprocess.run(command, capture_output=True, timeout=CACHE_TOOL_TIMEOUT, check=False)
        except (OSError, subprocess.SubprocessError):
            continue


def build_parser(prog: str) -> argparse.ArgumentParser:
    """The parser of ``flowdeck --install-desktop-entry`` / ``--uninstall-desktop-entry``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Add Flowdeck to the desktop's application menu (for this user only), or "
        "remove it. Files go under $XDG_DATA_HOME (default ~/.local/share).",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(INSTALL_FLAG, action="store_true", help="install the desktop entry")
    action.add_argument(UNINSTALL_FLAG, action="store_true", help="remove exactly those files")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    return parser


def confirmed(question: str, stdin: TextIO, stdout: TextIO) -> bool:
    """Ask ``question`` on the terminal; only ``y`` or ``yes`` agrees (the default is no)."""
    stdout.write(f"{question} [y/N] ")
    stdout.flush()
    answer = stdin.readline()
    if not answer.endswith("\n"):
        stdout.write("\n")
    return answer.strip().lower() in ("y", "yes")


def desktop_entry_from_cli(
    argv: Sequence[str],
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``flowdeck --install-desktop-entry [--yes]`` or ``--uninstall-desktop-entry``.

    Exit codes: 0 done (or nothing to remove), 1 declined or failed, 2 refused: no terminal to
    ask on and no ``--yes``, or not a freedesktop platform.
    """
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    prog = Path(sys.argv[0]).name if Path(sys.argv[0]).name.startswith("flowdeck") else "flowdeck"
    args = build_parser(prog).parse_args(list(argv))
    if sys.platform in ("win32", "darwin"):
        print(f"{prog}: desktop entries are for Linux and BSD desktops only.", file=stderr)
        return 2
    home = data_home()
    command = launch_command() if args.install_desktop_entry else []
    if args.install_desktop_entry:
        targets = [item.target for item in placements(home)]
        print(f"{prog} will write these files (the menu entry starts {command[0]}):", file=stdout)
    else:
        targets = [item.target for item in placements(home) if present(item.target)]
        if not targets:
            print(
                f"{prog}: no Flowdeck desktop entry under {home}; nothing to remove.", file=stdout
            )
            return 0
        print(f"{prog} will remove these files:", file=stdout)
    for target in targets:
        print(f"  {target}", file=stdout)
    commands = cache_commands(home)
    for cache_command in commands:
        print(f"and then run: {' '.join(cache_command)}", file=stdout)
    if not args.yes:
        if not stdin.isatty():
            print(
                f"{prog}: nothing changed: no terminal to confirm on; add --yes to go ahead.",
                file=stderr,
            )
            return 2
        verb = "Install" if args.install_desktop_entry else "Remove"
        if not confirmed(f"{verb} them?", stdin, stdout):
            print("Nothing changed.", file=stdout)
            return 1
    try:
        done = install(home, command) if args.install_desktop_entry else uninstall(home)
    except OSError as error:
        print(f"{prog}: {error}", file=stderr)
        return 1
    refresh_caches(commands)
    verb = "Installed" if args.install_desktop_entry else "Removed"
    print(f"{verb} {len(done)} files.", file=stdout)
    return 0
