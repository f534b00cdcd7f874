"""grokkit.export: the long table behind every figure, its CSV/JSON writers, `python -m grokkit export` and the
book's download links -- checked against a real shipped record (results/), value for value."""
import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grokkit import export
from grokkit.events import run_label as label
from grokkit.records import Run, list_records, load

REPO = Path(__file__).resolve().parent.parent
RECORD = next(p for p in list_records(REPO / "results") if p.name.startswith("d4_w400_n5000_a8_wd0.05_s0-"))


@pytest.fixture(scope="module")
def run():
    return load(RECORD)


def rebuild(table):
    """From long rows (dicts of strings or JSON values) back to the record's arrays: {quantity: (steps, values)}."""
    out = {}
    for r in table:
        steps, vals = out.setdefault(r["quantity"], ({}, {}))
        steps[r["step"]] = None
        layer = r["layer"]
        vals.setdefault(r["step"], []).append((layer, r["value"]))
    arrays = {}
    for q, (steps, vals) in out.items():
        s = np.array([int(x) for x in steps])
        rowsv = [[v for _, v in sorted(vals[k], key=lambda t: (t[0] is None, int(t[0] or 0)))] for k in steps]
        arrays[q] = (s, np.array([[float(v) for v in row] for row in rowsv]))
    return arrays


def check_same(arrays, run):
    h = run.history
    assert set(arrays) == {k for k in h if not k.endswith("step") and k not in export.IN_RECORD_ONLY}
    for q, (steps, vals) in arrays.items():
        np.testing.assert_array_equal(steps, h[export.QUANTITIES[q][0]], err_msg=q)
        want = h[q] if h[q].ndim == 2 else h[q][:, None]
        assert vals.shape == want.shape, q
        assert np.array_equal(vals, want.astype(np.float64), equal_nan=True), q  # exact: shortest round-trip floats


def test_csv_round_trip_of_a_shipped_record(run, tmp_path):
    path = export.write([run], tmp_path / "run.csv", "csv")
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames) == export.COLUMNS
        table = list(reader)
    c = run.config
    name = label(run)  # the book's name of the run, e.g. "d=4, N=5000, γ=0.05"
    assert "4" in name and "5000" in name.replace(",", "") and "0.05" in name
    assert {(r["label"], r["run"], r["depth"], r["n_train"], r["weight_decay"], r["seed"], r["dtype"])
            for r in table} == {(name, RECORD.stem, "4", "5000", "0.05", "0", "float32")}
    assert {r["layer"] for r in table if r["quantity"] == "rank"} == {str(j) for j in range(1, c.depth + 1)}
    assert {r["layer"] for r in table if r["quantity"] == "test_acc"} == {""}
    for r in table:
        r["layer"] = r["layer"] or None
    check_same(rebuild(table), run)
    n_scalar = sum(len(v) for k, v in run.history.items() if v.ndim == 1 and not k.endswith("step"))
    n_layer = sum(v.size for v in run.history.values() if v.ndim == 2)
    assert len(table) == n_scalar + n_layer


def test_json_round_trip_and_non_finite_values(run, tmp_path):
    doc = json.loads(export.write([run], tmp_path / "run.json", "json").read_text(encoding="utf-8"))
    assert doc["columns"] == list(export.COLUMNS) and set(doc["quantities"]) == set(export.QUANTITIES)
    table = [dict(zip(doc["columns"], r)) for r in doc["rows"]]
    assert {type(r["layer"]) for r in table} == {int, type(None)}
    check_same(rebuild(table), run)
    # a diverged run's NaN/inf: JSON has no NaN, so null; CSV keeps nan
    nan_at_3 = np.where(np.arange(len(run.history["step"])) == 3, np.nan, run.history["test_acc"])
    hist = dict(run.history, test_acc=nan_at_3)
    bad = Run(config=run.config, history=hist, meta=run.meta)
    q = export.COLUMNS.index("quantity")
    row = [r for r in json.loads(export.to_json([bad]))["rows"] if r[q] == "test_acc"][3]
    assert row[-1] is None
    assert math.isnan([r for r in export.rows([bad]) if r[q] == "test_acc"][3][-1])
    assert "test_acc,,nan" in export.to_csv([bad])


def test_quantities_filter_and_errors(run):
    got = export.rows([run], quantities=["test_acc", "rank"])
    assert {r[export.COLUMNS.index("quantity")] for r in got} == {"test_acc", "rank"}
    assert len(got) == len(run.history["test_acc"]) + run.history["rank"].size
    with pytest.raises(ValueError, match=r"quantities: unknown \['test_accuracy'\]"):
        export.rows([run], quantities=["test_accuracy"])
    with pytest.raises(ValueError, match="format: must be one of"):
        export.write([run], "x.txt", "txt")
    broken = Run(config=run.config, history=dict(run.history, rank=run.history["rank"][:-1]), meta=run.meta)
    with pytest.raises(ValueError, match="history 'rank'"):
        export.rows([broken])


def test_figure_download_writes_the_csv_and_links_it(run, tmp_path):
    link = export.figure_download([run], "fig2-depth", quantities=["test_acc"], static=tmp_path / "_static")
    path = tmp_path / "_static" / "data" / "fig2-depth.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ",".join(export.COLUMNS) and len(lines) - 1 == len(run.history["test_acc"]) == link.n_rows
    # chapters are book/<chapter>.html; book/_static is copied to _static/ beside book/
    assert link.href == "../_static/data/fig2-depth.csv"
    html = link._repr_html_()
    assert 'href="../_static/data/fig2-depth.csv"' in html and "download data (CSV)" in html
    assert f"1 run, {link.n_rows:,} rows" in html
    for slug in ("Fig 2", "../x", "", "fig2.csv"):
        with pytest.raises(ValueError, match="slug: must be"):
            export.figure_download([run], slug, static=tmp_path)
    with pytest.raises(ValueError, match="runs: must be one or more"):
        export.figure_download([], "empty", static=tmp_path)


def test_stand_in_is_labelled(run):
    stand = Run(config=run.config.replace(width=32, n_train=400), history=run.history,
                meta=dict(run.meta, stand_in=True, stands_for=run.config.name, stands_for_config=run.config.identity()))
    name, rid, depth, n_train = export.rows([stand], ["test_acc"])[0][:4]
    assert name == label(run) + export.STAND_IN_LABEL and n_train == 400  # its own config in the columns
    assert rid == f"{stand.config.name}-{stand.config.id}" != RECORD.stem  # its own record, not the one it stands for


def test_the_run_column_tells_a_pilot_from_its_full_scale_run():
    """The 10,000-step pilot and the full-scale run of d = 12, N = 5000, γ = 0.01, seed 0: the pilot's label says
    it is shorter, and the `run` column (the record's file name) tells every shipped record apart."""
    pilot = load(REPO / "results" / "d12_w400_n5000_a8_wd0.01_s0_t10000-bf39eb7ccc.npz")
    full = load(REPO / "results" / "d12_w400_n5000_a8_wd0.01_s0-2ac5723cc6.npz")
    assert (pilot.config.steps, full.config.steps) == (10_000, 100_000)
    rows = export.rows([pilot, full], ["test_acc"])
    col = export.COLUMNS.index("run")
    assert {r[0] for r in rows} == {label(full), label(pilot)} and label(pilot) == label(full) + ", 10,000 steps"
    assert {r[col] for r in rows} == {"d12_w400_n5000_a8_wd0.01_s0_t10000-bf39eb7ccc",
                                      "d12_w400_n5000_a8_wd0.01_s0-2ac5723cc6"}
    stems = [p.stem for p in list_records(REPO / "results")]
    assert len(set(stems)) == len(stems)


def test_export_cli(run, tmp_path):
    res = tmp_path / "results"
    res.mkdir()
    shutil.copy(RECORD, res / RECORD.name)
    (res / "d9_broken-0000000000.npz").write_bytes(b"not a record")
    cmd = [sys.executable, "-m", "grokkit", "export", "--results", str(res), "--format", "csv",
           "--out", str(tmp_path / "out")]
    p = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr  # one corrupt record: skipped, named, non-zero exit
    assert "d9_broken-0000000000.npz" in p.stderr and "export: 1 record(s)" in p.stdout
    assert sorted(f.name for f in (tmp_path / "out").iterdir()) == [RECORD.stem + ".csv"]
    with open(tmp_path / "out" / (RECORD.stem + ".csv"), newline="", encoding="utf-8") as f:
        first = next(csv.DictReader(f))
    assert first["quantity"] == "train_loss" and float(first["value"]) == run.history["train_loss"][0]
    p = subprocess.run([sys.executable, "-m", "grokkit", "export", "--results", str(tmp_path / "nope")], cwd=REPO,
                       capture_output=True, text=True, timeout=60)
    err = p.stderr.strip()  # the one results-folder error (records.results_folder): one line, the absolute path
    assert p.returncode == 2 and "\n" not in err and f"{tmp_path / 'nope'} does not exist" in err


def test_a_record_with_kept_spectra_exports_their_scale_but_not_the_spectra(tmp_path):
    import grokkit

    fresh = grokkit.train(grokkit.RunConfig(depth=3, width=16, n_train=200, steps=40, probe_epochs=1, device="cpu"),
                          progress=False)
    assert fresh.history["spectrum"].shape == (len(fresh.history["rank_step"]), 3, 16)
    path = export.write([fresh], tmp_path / "fresh.csv", "csv")
    with open(path, newline="", encoding="utf-8") as f:
        arrays = rebuild(list(csv.DictReader(f)))
    check_same(arrays, fresh)  # every quantity but the spectra, value for value
    assert "spectrum_max" in arrays and "spectrum" not in arrays
