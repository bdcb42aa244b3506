"""Recognise a RevMan source by its content and read it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from metareview.revman.csv_export import read_revman5_csv
from metareview.revman.model import Review, RevManError
from metareview.revman.package import read_package
from metareview.revman.rm5 import read_rm5


def read_source(source: str | Path) -> Review:
    """A ``.rm5`` file, a RevMan 5 CSV export, or a RevMan Web data package (zip or folder)."""
    path = Path(source)
    display = str(source)
    if not path.exists():
        raise RevManError(display, "no such file or folder")
    if path.is_dir() or zipfile.is_zipfile(path):
        return read_package(path, display)
    head = path.read_bytes()[:512].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"<"):
        return read_rm5(path, display)
    if path.suffix.lower() == ".rm5":
        raise RevManError(display, "a .rm5 file must be XML (it does not start with '<')")
    return read_revman5_csv(path, display)
