"""The ``metareview`` console command (installed by ``make setup`` as ``.venv/bin/metareview``).

``metareview import-revman SOURCE --out DIR`` reads a RevMan file (``.rm5``, RevMan 5 CSV
export, RevMan Web data package as zip or folder) and writes a review folder that
``snakemake --snakefile <repo>/Snakefile --directory DIR`` runs as it is.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from metareview.revman.model import RevManError


def import_revman(source: str, out: str, force: bool = False) -> int:
    from metareview.revman.read import read_source
    from metareview.revman.write import write_review

    target = Path(out)
    if (target / "data" / "raw").exists() and not force:
        print(f"{out}: already holds data/raw/; use --force to overwrite", file=sys.stderr)
        return 2
    try:
        review = read_source(source)
    except RevManError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: {source}: {err.strerror or err}", file=sys.stderr)
        return 1
    log = write_review(review, target)
    n = sum(1 for a in review.analyses if a.rows)
    print(f"{source}: {len(review.analyses)} analyses ({n} with studies) -> {out}")
    for number, item, reason in log:
        print(f"  not imported: analysis {number or '-'}: {item}: {reason}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="metareview", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    rev = commands.add_parser(
        "import-revman", help="RevMan file (.rm5, CSV export, data package) -> review folder"
    )
    rev.add_argument("source", help=".rm5 file, RevMan 5 CSV export, or data package (zip/folder)")
    rev.add_argument("--out", required=True, help="review folder to write")
    rev.add_argument("--force", action="store_true", help="overwrite an existing data/raw/")
    args = parser.parse_args(argv)
    if args.command == "import-revman":
        return import_revman(args.source, args.out, args.force)
    return 2  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main())
