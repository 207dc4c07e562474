"""MLflow's step-image files as ``mlflow.log_image`` writes them, the SVG guard and the hex dump."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from flowdeck.core.artifacts.hexdump import hex_dump, read_head
from flowdeck.core.artifacts.images import (
    drop_svg_references,
    folder_images,
    full_size_paths,
    is_step_image,
    neighbours,
    parse_step_image_name,
    step_images,
)
from flowdeck.core.entities import ArtifactEntry
from flowdeck.core.errors import NotFound

UUID = "0d3c9f6e-1b2a-4c5d-8e7f-a1b2c3d4e5f6"
LOOKALIKES = (
    f"sample+step+1+timestamp+1700000000000+{UUID}.jpg",  # not the extension MLflow writes
    "sample+step+1+timestamp+1700000000000+not-a-uuid.png",
    f"sample+step+one+timestamp+1700000000000+{UUID}.png",
    f"sample+step+1+{UUID}.png",
    f"sample+step+1%timestamp+1700000000000+{UUID}.png",  # mixed separators
)


@pytest.fixture(scope="module")
def logged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A run with images logged by key and step (out of order), a plain image and lookalikes;
    returns the run's artifact folder and its ``images/`` listing as MLflow gives it."""
    from mlflow.tracking import MlflowClient

    folder = tmp_path_factory.mktemp("step-images")
    client = MlflowClient(tracking_uri=f"sqlite:///{folder / 'mlflow.db'}")
    experiment = client.create_experiment("images", (folder / "artifacts").as_uri())
    run_id = client.create_run(experiment).info.run_id
    rng = np.random.default_rng(0)
    for step in (2, 0, 10, 1):
        image = rng.integers(0, 255, (200, 300, 3), dtype=np.uint8)
        client.log_image(run_id, image, key="sample", step=step)
    for step in range(3):
        client.log_image(run_id, np.zeros((8, 8, 3), np.uint8), key="eval/confusion", step=step)
    client.log_image(run_id, np.zeros((8, 8, 3), np.uint8), artifact_file="images/sample.png")
    artifacts = Path(client.get_run(run_id).info.artifact_uri.removeprefix("file://"))
    for name in LOOKALIKES:
        (artifacts / "images" / name).write_bytes(b"not an image")
    client.set_terminated(run_id)
    listing = [info.path for info in client.list_artifacts(run_id, "images")]
    return artifacts, listing


def test_mlflow_writes_a_full_size_png_and_a_compressed_webp_per_logged_image(logged):
    artifacts, listing = logged
    groups = step_images(listing)
    assert list(groups) == ["eval/confusion", "sample"]
    sample = groups["sample"]
    assert [image.step for image in sample] == [0, 1, 2, 10]
    assert [image.step for image in groups["eval/confusion"]] == [0, 1, 2]
    for image in sample:
        assert image.full_path is not None and image.full_path.startswith("images/sample+step+")
        assert image.full_path.endswith(".png")
        assert image.compressed_path == image.full_path[: -len(".png")] + "+compressed.webp"
        assert image.path == image.full_path
        assert image.timestamp > 1_600_000_000_000  # milliseconds
    assert groups["eval/confusion"][0].full_path.startswith("images/eval~confusion+step+0+")

    from PIL import Image

    with Image.open(artifacts / sample[0].full_path) as full:
        assert full.size == (300, 200)
    with Image.open(artifacts / sample[0].compressed_path) as small:
        assert max(small.size) <= 256 and small.size != (300, 200)


def test_full_size_paths_are_the_logged_pngs_only(logged):
    _, listing = logged
    full = full_size_paths(listing)
    assert len(full) == 7
    assert all(path.endswith(".png") and "+compressed" not in path for path in full)
    assert "images/sample.png" not in full


def test_files_that_merely_look_like_step_images_are_not(logged):
    _, listing = logged
    images = step_images(listing)
    counted = {image.full_path for group in images.values() for image in group}
    counted |= {image.compressed_path for group in images.values() for image in group}
    strangers = {"images/sample.png"} | {f"images/{name}" for name in LOOKALIKES}
    assert set(listing) - counted == strangers
    assert not any(is_step_image(name) for name in strangers)
    assert not is_step_image(f"images/+step+1+timestamp+1+{UUID}.png")  # no key


def test_older_mlflow_names_with_percent_and_hash_are_read():
    parsed = parse_step_image_name(f"images/train#grid%step%5%timestamp%1700000000123%{UUID}.png")
    assert parsed is not None
    assert (parsed.key, parsed.step, parsed.timestamp, parsed.compressed) == (
        "train/grid",
        5,
        1700000000123,
        False,
    )
    old_small = f"train#grid%step%5%timestamp%1700000000123%{UUID}%compressed.webp"
    assert parse_step_image_name(old_small).compressed


def test_a_step_with_only_the_compressed_copy_shows_that_copy():
    name = f"images/k+step+3+timestamp+1700000000000+{UUID}+compressed.webp"
    (image,) = step_images([name])["k"]
    assert image.full_path is None and image.path == name


def test_folder_images_in_natural_order_and_their_neighbours():
    entries = [
        ArtifactEntry("plots/img10.png", False, 1),
        ArtifactEntry("plots/IMG2.jpg", False, 1),
        ArtifactEntry("plots/img1.webp", False, 1),
        ArtifactEntry("plots/diagram.svg", False, 1),
        ArtifactEntry("plots/notes.txt", False, 1),
        ArtifactEntry("plots/more.png", True),
    ]
    images = folder_images("plots", entries)
    assert images == ["plots/diagram.svg", "plots/img1.webp", "plots/IMG2.jpg", "plots/img10.png"]
    assert folder_images("plots", entries, svg=False)[0] == "plots/img1.webp"
    bare = [ArtifactEntry("b.png", False), ArtifactEntry("a.png", False)]  # bare names
    assert folder_images("plots", bare) == ["plots/a.png", "plots/b.png"]
    assert neighbours(images, "plots/IMG2.jpg") == ("plots/img1.webp", "plots/img10.png")
    assert neighbours(images, "plots/diagram.svg") == (None, "plots/img1.webp")
    assert neighbours(images, "plots/img10.png") == ("plots/IMG2.jpg", None)
    assert neighbours(images, "plots/notes.txt") == (None, None)


def test_svg_references_to_other_files_are_removed():
    svg = (
        b'<svg xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<image xlink:href="/etc/secret.png"/><image href=\'https://example.com/x.png\'/>'
        b'<use xlink:href="#dot"/><image href="data:image/png;base64,AAAA"/></svg>'
    )
    cleaned = drop_svg_references(svg)
    assert b"/etc/secret.png" not in cleaned and b"example.com" not in cleaned
    assert b'xlink:href="#dot"' in cleaned
    assert b'href="data:image/png;base64,AAAA"' in cleaned


def test_hex_dump_shows_offset_hex_and_ascii_columns():
    data = b"\x89PNG\r\n\x1a\n" + b"Hello, MLflow!\x00\xff" + b"abc"
    lines = hex_dump(data).splitlines()
    assert lines == [
        "00000000  89 50 4e 47 0d 0a 1a 0a  48 65 6c 6c 6f 2c 20 4d  |.PNG....Hello, M|",
        "00000010  4c 66 6c 6f 77 21 00 ff  61 62 63                 |Lflow!..abc|",
    ]
    assert lines[1].index("|") == lines[0].index("|")
    assert hex_dump(b"") == ""
    assert hex_dump(b"A", offset=4096).startswith("00001000  41 ")


def test_read_head_reads_only_the_start_and_reports_the_size(tmp_path):
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * 100)
    head, size = read_head(path, 64)
    assert head == bytes(range(64)) and size == 25_600
    with pytest.raises(NotFound):
        read_head(tmp_path / "gone.bin")
