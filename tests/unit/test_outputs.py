"""Output CSVs: text cells cannot start spreadsheet formulas; numbers keep full precision."""

import pandas as pd
import pytest

from metareview.outputs import neutralize_formula, write_csv


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd", "'+cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("-0.5 favours ketamine", "'-0.5 favours ketamine"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("-1+1", "'-1+1"),
        ("-2", "-2"),
        ("+1.5e3", "+1.5e3"),
        ("\tx", "'\tx"),
        ("'=x", "''=x"),
        ("Sigtermans 2009", "Sigtermans 2009"),
    ],
)
def test_formula_cells_are_neutralized(cell, expected):
    assert neutralize_formula(cell) == expected


def test_write_csv_keeps_numbers_and_full_precision(tmp_path):
    frame = pd.DataFrame({"label": ["=1+1", "ok"], "yi": [-0.1234567890123456789, 1e-300]})
    write_csv(frame, tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text()
    assert "'=1+1" in text and "-0.12345678901234568" in text and "1e-300" in text
    assert "\r" not in text
    back = pd.read_csv(tmp_path / "t.csv")
    assert back["yi"].tolist() == frame["yi"].tolist()


def test_write_csv_is_atomic_with_ordinary_permissions(tmp_path, monkeypatch):
    import os
    import stat

    from metareview import outputs

    path = tmp_path / "t.csv"
    write_csv(pd.DataFrame({"a": [1]}), path)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o666 & ~outputs._UMASK
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_csv(pd.DataFrame({"a": [2]}), path)
    assert path.read_text() == "a\n1\n", "the old file must survive a failed write"
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"], "no temporary file left"
