"""Code digests and figure manifests of the per-condition workflow (metareview.jobs)."""

import os
import shutil
from pathlib import Path

from metareview.jobs import (
    PACKAGE,
    read_figure_manifest,
    source_digests,
    stale_figure_manifests,
    write_figure_manifest,
)


def test_a_change_in_one_part_changes_only_its_digest(tmp_path):
    package = tmp_path / "metareview"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = source_digests(package)
    assert before == source_digests(package)
    forest = package / "plots" / "forest.py"
    forest.write_text(forest.read_text() + "\n# edited\n")
    after = source_digests(package)
    assert after["plots"] != before["plots"]
    assert after["core"] == before["core"] and after["report"] == before["report"]
    (package / "gather.py").write_text((package / "gather.py").read_text() + "\n")
    assert source_digests(package)["core"] != before["core"]


def test_manifest_round_trip_and_stale_marking(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    figures = [Path("results/figures/a.svg"), Path("results/figures/b.svg")]
    figures[0].parent.mkdir(parents=True)
    for i, f in enumerate(figures):
        f.write_text(f"<svg>{i}</svg>")
    manifest = Path("figures.sha256")
    write_figure_manifest(manifest, figures)
    assert [p for _, p in read_figure_manifest(manifest)] == [str(f) for f in figures]
    assert stale_figure_manifests([manifest, Path("missing.sha256")]) == []
    assert manifest.stat().st_mtime > 0

    figures[1].write_text("<svg>edited by hand</svg>")
    os.utime(figures[1], (manifest.stat().st_mtime + 5,) * 2)
    assert stale_figure_manifests([manifest]) == [str(manifest)]
    assert manifest.stat().st_mtime == 0

    write_figure_manifest(manifest, figures)
    figures[0].unlink()
    assert stale_figure_manifests([manifest]) == [str(manifest)]
