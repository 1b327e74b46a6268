"""Vendored front-end files match their record in docs/vendored.md."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENDORED_DOC = ROOT / "docs" / "vendored.md"


def vendored_rows() -> list[dict]:
    """The rows of the markdown table: file, package, version, SHA-256."""
    lines = [line.strip() for line in VENDORED_DOC.read_text(encoding="utf-8").splitlines()
             if line.strip().startswith("|")]
    header = [cell.strip().lower() for cell in lines[0].strip("|").split("|")]
    assert header == ["file", "package", "version", "sha-256"], header
    assert set(lines[1].replace("|", "").replace(" ", "")) <= {"-", ":"}
    rows = []
    for line in lines[2:]:
        cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
        rows.append(dict(zip(["file", "package", "version", "sha256"], cells)))
    return rows


def test_the_table_lists_htmx():
    files = [row["file"] for row in vendored_rows()]
    assert "portal/common/static/htmx.min.js" in files


@pytest.mark.parametrize("row", vendored_rows(), ids=lambda row: row["file"])
def test_vendored_file_matches_its_recorded_hash_and_version(row):
    path = ROOT / row["file"]
    assert path.is_file(), row["file"]
    data = path.read_bytes()
    assert re.fullmatch(r"[0-9a-f]{64}", row["sha256"]), row["sha256"]
    assert hashlib.sha256(data).hexdigest() == row["sha256"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", row["version"]), row["version"]
    if "htmx" in row["file"]:
        versions = set(re.findall(rb'version:\s*"(\d+\.\d+\.\d+)"', data))
        assert versions == {row["version"].encode()}, versions


def test_every_vendored_looking_static_file_is_recorded():
    """A minified file in the static folder is someone else's code: it must have a row."""
    static = ROOT / "portal" / "common" / "static"
    recorded = {row["file"] for row in vendored_rows()}
    for path in static.glob("*.min.*"):
        assert str(path.relative_to(ROOT)) in recorded, path.name
