"""Per-condition tables and the combined tables of the data contract.

The workflow computes effect sizes, pooling and sensitivity analyses one condition at a time
(``data/processed/conditions/<condition>/`` and ``results/conditions/<condition>/``); small
gather rules then write ``data/processed/effect_sizes.csv``, ``results/pooled.csv`` and the
sensitivity tables. Every analysis lies within one condition and every combined table is
sorted with ``condition`` first, so the combined table is the per-condition tables stacked in
condition order. :func:`combine` stacks them so that the file written is byte-identical to
the one written from a single whole-review computation: columns are re-typed over all rows
together (an integer column that is empty in another condition becomes float, as it would in
one table), and floats are read back exactly (the shortest repr that
:func:`~metareview.outputs.write_csv` writes round-trips; pinned by
``tests/unit/test_gather.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from metareview.outputs import write_csv


def read_table(path: str | Path) -> pd.DataFrame:
    """A per-condition table as written by :func:`metareview.outputs.write_csv`, read with
    the workflow's typed reader (:func:`metareview.io.read_table`).

    Floats come back bit for bit; ids and slugs stay text (``007``, ``na``); only empty
    cells are missing.
    """
    from metareview.io import read_table as typed

    return typed(path, written_by_us=True)


def combine(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Stack per-condition tables (in the order given) as one whole-review table.

    The header of the first frame is kept; values are re-typed over all rows, as a table
    built from the same rows in one go would be.
    """
    frames = list(frames)
    if not frames:
        return pd.DataFrame()
    columns = list(frames[0].columns)
    rows = [row for frame in frames for row in frame.to_dict("records")]
    return pd.DataFrame(rows, columns=columns)


def combine_files(paths: Iterable[str | Path], out: str | Path) -> pd.DataFrame:
    """Read per-condition CSVs, stack them with :func:`combine` and write ``out``."""
    table = combine(read_table(p) for p in paths)
    write_csv(table, out)
    return table
