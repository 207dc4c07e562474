"""Install and start: the wheel and sdist carry the desktop files, and ``--install-desktop-entry``
puts them under ``$XDG_DATA_HOME`` only when asked (a terminal prompt, or ``--yes``)."""

from __future__ import annotations

import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import tarfile
import time
import tomllib
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path

import pytest

import flowdeck
from flowdeck.desktop_entry import APP_ID, ICON_SIZES, desktop_file_text, placements, resource

ROOT = Path(__file__).resolve().parents[1]
RUN_TIMEOUT = 120  # seconds
BUILD_TIMEOUT = 900
NO_QT_CHECK = (
    "import sys\n"
    "from flowdeck.__main__ import main\n"
    "code = main(sys.argv[1:])\n"
    "print('Qt imported' if 'PySide6' in sys.modules else 'no Qt')\n"
    "sys.exit(code)\n"
)


def entry_env(data_home: Path) -> dict[str, str]:
    """The environment of a child process whose data home is ``data_home``."""
    return {**os.environ, "XDG_DATA_HOME": str(data_home)}


def run_flowdeck(args: list[str], data_home: Path) -> subprocess.CompletedProcess[str]:
    """``python -m flowdeck ARGS`` with no terminal on stdin; prints whether Qt was imported."""
    return subprocess.run(
        [sys.executable, "-c", NO_QT_CHECK, *args],
        env=entry_env(data_home),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def run_on_terminal(args: list[str], data_home: Path, answer: str) -> tuple[int, str]:
    """``python -m flowdeck ARGS`` on a pseudo-terminal, typing ``answer`` at the prompt."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "flowdeck", *args],
        env=entry_env(data_home),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        close_fds=True,
    )
    os.close(terminal)
    output = b""
    answered = False
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            output += chunk
        if not answered and b"[y/N]" in output:
            os.write(controller, answer.encode() + b"\n")
            answered = True
        if process.poll() is not None and not ready:
            break
    os.close(controller)
    return process.wait(timeout=RUN_TIMEOUT), output.decode(errors="replace")


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


def desktop_keys(path: Path) -> dict[str, str]:
    """The ``Key=Value`` lines of a .desktop file's main group."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def assert_valid_if_tools(desktop_file: Path, metainfo: Path) -> None:
    """desktop-file-validate and appstreamcli validate pass (each checked when installed)."""
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(
            ["desktop-file-validate", str(desktop_file)], capture_output=True, text=True
        )
        assert result.returncode == 0 and "error" not in result.stdout, result.stdout
    if shutil.which("appstreamcli"):
        result = subprocess.run(
            ["appstreamcli", "validate", "--no-net", str(metainfo)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


# --- the shipped resources ------------------------------------------------------------------


def test_the_desktop_entry_metainfo_and_icons_agree():
    desktop = Path(str(resource(f"{APP_ID}.desktop")))
    metainfo = Path(str(resource(f"{APP_ID}.metainfo.xml")))
    keys = desktop_keys(desktop)
    assert keys["Name"] == "Flowdeck" and keys["Icon"] == APP_ID and keys["Type"] == "Application"
    component = ElementTree.parse(metainfo).getroot()
    assert component.get("type") == "desktop-application"
    assert component.findtext("id") == APP_ID
    assert component.findtext("launchable") == f"{APP_ID}.desktop"
    assert component.findtext("project_license") == "Apache-2.0"
    assert component.find("content_rating") is not None
    assert [r.get("version") for r in component.iter("release")] == [flowdeck.__version__]
    for size in ICON_SIZES:
        png = resource(f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png").read_bytes()
        assert png_size(png) == (size, size)
    assert_valid_if_tools(desktop, metainfo)


def test_exec_quotes_a_path_with_spaces_and_dollars(tmp_path):
    text = desktop_file_text(["/opt/my apps/$HOME/flowdeck"])
    keys = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    assert keys["Exec"] == '"/opt/my apps/\\\\$HOME/flowdeck" %f'
    assert keys["TryExec"] == "/opt/my apps/$HOME/flowdeck"
    desktop = tmp_path / f"{APP_ID}.desktop"
    desktop.write_text(text, encoding="utf-8")
    assert_valid_if_tools(desktop, Path(str(resource(f"{APP_ID}.metainfo.xml"))))


# --- flowdeck --install-desktop-entry / --uninstall-desktop-entry ----------------------------


def test_install_with_yes_writes_exactly_the_listed_files_without_qt(tmp_path):
    result = run_flowdeck(["--install-desktop-entry", "--yes"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("no Qt")
    targets = {item.target for item in placements(tmp_path)}
    listed = {Path(line.strip()) for line in result.stdout.splitlines() if line.startswith("  /")}
    assert listed == targets
    assert {p for p in files_under(tmp_path) if p.name != "mimeinfo.cache"} == targets
    for item in placements(tmp_path):
        if not item.source.endswith(".desktop"):
            assert item.target.read_bytes() == resource(item.source).read_bytes()
    desktop = tmp_path / "applications" / f"{APP_ID}.desktop"
    keys = desktop_keys(desktop)
    launcher = Path(sys.executable).parent / "flowdeck"  # this venv's gui script
    assert keys["Exec"] == f"{launcher} %f"
    assert keys["TryExec"] == str(launcher)
    assert (tmp_path / f"icons/hicolor/48x48/apps/{APP_ID}.png").is_file()
    assert (tmp_path / f"icons/hicolor/scalable/apps/{APP_ID}.svg").is_file()
    assert_valid_if_tools(desktop, tmp_path / "metainfo" / f"{APP_ID}.metainfo.xml")


def test_without_a_terminal_or_yes_nothing_is_installed(tmp_path):
    result = run_flowdeck(["--install-desktop-entry"], tmp_path)
    assert result.returncode == 2
    assert "--yes" in result.stderr and "nothing changed" in result.stderr
    assert f"applications/{APP_ID}.desktop" in result.stdout  # it still says what it would do
    assert files_under(tmp_path) == set()


def test_on_a_terminal_it_asks_and_no_is_the_default(tmp_path):
    code, output = run_on_terminal(["--install-desktop-entry"], tmp_path, "")
    assert code == 1, output
    assert "Install them? [y/N]" in output and "Nothing changed." in output
    assert files_under(tmp_path) == set()
    code, output = run_on_terminal(["--install-desktop-entry"], tmp_path, "y")
    assert code == 0, output
    assert "Installed" in output
    assert {item.target for item in placements(tmp_path)} <= files_under(tmp_path)


def test_uninstall_removes_only_its_own_files(tmp_path):
    neighbours = {
        tmp_path / "applications" / "org.example.Other.desktop": b"[Desktop Entry]\n",
        tmp_path / "icons/hicolor/48x48/apps/org.example.Other.png": b"other icon",
        tmp_path / "icons/hicolor/index.theme": b"[Icon Theme]\n",
        tmp_path / "metainfo" / "org.example.Other.metainfo.xml": b"<component/>",
    }
    for path, content in neighbours.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    assert run_flowdeck(["--install-desktop-entry", "--yes"], tmp_path).returncode == 0
    refused = run_flowdeck(["--uninstall-desktop-entry"], tmp_path)
    assert refused.returncode == 2
    assert (tmp_path / "applications" / f"{APP_ID}.desktop").is_file()

    result = run_flowdeck(["--uninstall-desktop-entry", "--yes"], tmp_path)
    assert result.returncode == 0, result.stderr
    targets = {item.target for item in placements(tmp_path)}
    listed = {Path(line.strip()) for line in result.stdout.splitlines() if line.startswith("  /")}
    assert listed == targets
    remaining = files_under(tmp_path)
    assert not (remaining & targets)
    assert {p for p in remaining if p.name != "mimeinfo.cache"} == set(neighbours)
    assert all(path.read_bytes() == content for path, content in neighbours.items())

    again = run_flowdeck(["--uninstall-desktop-entry", "--yes"], tmp_path)
    assert again.returncode == 0 and "nothing to remove" in again.stdout


# --- the wheel and the sdist (slow: a real build and a fresh venv) ----------------------------


@pytest.fixture(scope="module")
def distributions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The wheel and sdist built from this checkout with ``python -m build``."""
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    result = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    (wheel,) = out.glob("flowdeck-*.whl")
    (sdist,) = out.glob("flowdeck-*.tar.gz")
    return wheel, sdist


def shipped_resources() -> list[str]:
    return [f"flowdeck/resources/{item.source}" for item in placements(Path("/"))]


def shipped_docs() -> dict[str, Path]:
    """pyproject's data files (the user guide and its pictures): install path -> source."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    files = {}
    for folder, patterns in config["tool"]["setuptools"]["data-files"].items():
        for pattern in patterns:
            for source in sorted(ROOT.glob(pattern)):
                files[f"{folder}/{source.name}"] = source
    assert any(name.startswith("docs/") and name.endswith(".md") for name in files), files
    return files


@pytest.mark.slow
def test_wheel_and_sdist_carry_the_desktop_files_and_the_guide(distributions):
    wheel, sdist = distributions
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"flowdeck-{flowdeck.__version__}.dist-info/entry_points.txt")
    assert set(shipped_resources()) <= names
    data = f"flowdeck-{flowdeck.__version__}.data/data/"
    assert {data + name for name in shipped_docs()} <= names
    assert b"flowdeck = flowdeck.__main__:main" in entry_points
    assert b"flowdeck-cli = flowdeck.__main__:main" in entry_points
    with tarfile.open(sdist) as archive:
        top = f"flowdeck-{flowdeck.__version__}/"
        members = {name.removeprefix(top) for name in archive.getnames()}
    assert {f"src/{name}" for name in shipped_resources()} <= members
    docs = {str(source.relative_to(ROOT)) for source in shipped_docs().values()}
    assert docs | {"MANIFEST.in", "packaging/flowdeck.spec"} <= members


@pytest.mark.slow
def test_the_installed_wheel_puts_its_own_flowdeck_in_the_menu(distributions, tmp_path):
    wheel, _ = distributions
    venv = tmp_path / "fresh venv"  # a space: Exec must quote the path
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=RUN_TIMEOUT)
    pip = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert pip.returncode == 0, pip.stdout + pip.stderr
    launcher = venv / "bin" / "flowdeck"
    assert launcher.is_file() and (venv / "bin" / "flowdeck-cli").is_file()
    for name in shipped_docs():  # <prefix>/docs/: where Help > User Guide looks
        assert (venv / name).is_file(), name

    data_home = tmp_path / "share"
    result = subprocess.run(
        [str(launcher), "--install-desktop-entry", "--yes"],
        env={**entry_env(data_home), "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    desktop = data_home / "applications" / f"{APP_ID}.desktop"
    keys = desktop_keys(desktop)
    assert keys["Exec"] == f'"{launcher}" %f'
    assert keys["TryExec"] == str(launcher)
    for size in ICON_SIZES:
        assert (data_home / f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png").is_file()
    metainfo = data_home / "metainfo" / f"{APP_ID}.metainfo.xml"
    assert metainfo.is_file()
    assert_valid_if_tools(desktop, metainfo)
