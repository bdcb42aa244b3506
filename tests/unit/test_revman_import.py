"""The RevMan importer on the real files in tests/data/revman/ (see SOURCES.md) and on
malformed inputs, which are refused with a message naming the file and what is wrong."""

import csv
import math
import re
import shutil
from pathlib import Path

import pytest

from metareview.cli import main as cli_main
from metareview.revman.model import RevManError
from metareview.revman.read import read_source
from metareview.revman.write import write_review

DATA = Path(__file__).resolve().parents[1] / "data" / "revman"
SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
SOURCES = [
    "Fleiss1993.rm5",
    "Fleiss1993_CR.csv",
    "Fleiss1993.zip",
    "Benzodiazepines_versus_pregabalin_for_GAD.rm5",
    "PRPData-22-11.csv",
    "synthetic_revman_web",
]


def read_table(path: Path) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("name", SOURCES)
def test_every_file_imports_into_the_contract(name, tmp_path):
    review = read_source(DATA / name)
    write_review(review, tmp_path)
    raw = tmp_path / "data" / "raw"
    studies = read_table(raw / "studies.csv")
    ids = [s["study_id"] for s in studies]
    assert ids and len(ids) == len(set(ids)) and all(SLUG.match(i) for i in ids)
    assert all(SLUG.match(p.stem) for p in (raw / "outcomes").glob("*.csv"))
    settings = read_table(raw / "analyses.csv")
    assert settings and all(s["source_analysis"] for s in settings)
    for path in (raw / "outcomes").glob("*.csv"):
        for row in read_table(path):
            assert SLUG.match(row["outcome"]) and row["study_id"] in ids
    assert (tmp_path / "config.yaml").read_text().count("conventions: revman") == 1


def test_rm5_reads_methods_labels_and_stored_results():
    review = read_source(DATA / "Benzodiazepines_versus_pregabalin_for_GAD.rm5")
    first = review.analyses[0]
    assert (first.number, first.method, first.measure, first.model) == (
        "1.1",
        "MH",
        "RR",
        "random",
    )
    assert first.experimental_label == "Benzodiazepines"
    stored = first.results[0].values
    assert stored["tau2"] == pytest.approx(0.019392961162680272)
    assert stored["q_df"] == 5
    # Feltner 2003 and Rickels 2005 are multi-arm: entered 2 and 3 times in analysis 1.1.
    assert sum(r.study.startswith("Rickels") for r in first.rows) == 3


def test_empty_and_not_computed_outcomes_are_listed_not_dropped(tmp_path):
    log = write_review(
        read_source(DATA / "Benzodiazepines_versus_pregabalin_for_GAD.rm5"), tmp_path
    )
    empty = [number for number, _, why in log if "no studies" in why]
    assert "1.4" in empty and len(empty) == 11
    written = read_table(tmp_path / "data" / "raw" / "revman_import_log.csv")
    assert len(written) == len(log)


def test_csv_without_numbers_columns_finds_subgroups():
    review = read_source(DATA / "PRPData-22-11.csv")
    pain = review.analyses[0]
    assert pain.name.startswith("Pain relief") and not pain.totals
    assert [r.subgroup for r in pain.results] == ["6 months"]
    withdrawals = next(a for a in review.analyses if a.name == "Withdrawals due to AEs")
    assert withdrawals.totals and [r.subgroup for r in withdrawals.results] == ["", "Total"]


def test_subgroups_become_outcomes_with_a_subgroup_column(tmp_path):
    write_review(read_source(DATA / "PRPData-22-11.csv"), tmp_path)
    settings = read_table(tmp_path / "data" / "raw" / "analyses.csv")
    numbers = {s["source_analysis"] for s in settings}
    assert {"1.1.1", "1.6", "1.6.1"} <= numbers and "1.1" not in numbers  # 1.1: no totals
    rows = read_table(tmp_path / "data/raw/outcomes/prp-or-autologous-blood-versus-placebo.csv")
    assert {r["subgroup"] for r in rows} >= {"6 months", "Total"}


def test_package_reads_newer_layout_settings_and_rob(tmp_path):
    review = read_source(DATA / "synthetic_revman_web")
    md, giv, rr = review.analyses
    assert (md.tau2_method, md.ci_method, md.model) == ("REML", "hksj", "random")
    assert (giv.data_type, giv.measure, giv.ci_method) == ("generic", "RR", "z")
    assert (rr.method, rr.model) == ("MH", "common")
    assert giv.rows[0].giv_estimate == pytest.approx(math.log(0.80))
    assert review.studies["Beta 2005"].rob["d1"] == "some_concerns"
    write_review(review, tmp_path)
    assert len(read_table(tmp_path / "data" / "raw" / "risk_of_bias.csv")) == 5


def test_old_package_results_not_computed_are_empty():
    review = read_source(DATA / "Fleiss1993.zip")
    smd = review.analyses[1]
    assert smd.measure == "SMD" and all(math.isnan(v) for v in smd.results[0].values.values())


# --- malformed inputs -----------------------------------------------------------------------


def test_truncated_xml_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / "broken.rm5"
    bad.write_bytes((DATA / "Fleiss1993.rm5").read_bytes()[:5000])
    with pytest.raises(RevManError, match=r"broken\.rm5: not well-formed XML.*truncated"):
        read_source(bad)


def test_a_csv_that_is_not_a_revman_export_is_refused(tmp_path):
    bad = tmp_path / "table.csv"
    bad.write_text("study,year,effect\nA,2001,0.3\n", encoding="utf-8")
    with pytest.raises(RevManError, match=r"table\.csv: not a RevMan 5 .*'Data Type'"):
        read_source(bad)


def test_unknown_measure_is_refused(tmp_path):
    text = (DATA / "Fleiss1993.rm5").read_text(encoding="iso-8859-1")
    bad = tmp_path / "odd.rm5"
    bad.write_text(text.replace('EFFECT_MEASURE="OR"', 'EFFECT_MEASURE="XYZ"'), "iso-8859-1")
    with pytest.raises(RevManError, match=r"odd\.rm5: analysis 1\.1: effect measure 'XYZ'"):
        read_source(bad)


def test_a_zip_without_analysis_data_is_refused(tmp_path):
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "readme.txt").write_text("nothing here")
    shutil.make_archive(str(tmp_path / "pkg"), "zip", folder)
    with pytest.raises(RevManError, match=r"pkg\.zip: no .*overall-estimates-and-settings"):
        read_source(tmp_path / "pkg.zip")


def test_cli_reports_errors_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "review"
    assert cli_main(["import-revman", str(DATA / "Fleiss1993.rm5"), "--out", str(out)]) == 0
    assert (out / "data" / "raw" / "reference_results.csv").is_file()
    assert cli_main(["import-revman", str(DATA / "Fleiss1993.rm5"), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    missing = ["import-revman", str(tmp_path / "missing.rm5"), "--out", str(tmp_path / "x")]
    assert cli_main(missing) == 1
    assert "missing.rm5: no such file" in capsys.readouterr().err
