"""End-to-end tests of ``kompetensprognos forecast`` and ``backtest`` on tiny CSV files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kompetensprognos.cli import main


def _write_panel(path: Path) -> Path:
    rng = np.random.default_rng(0)
    lines = ["unique_id,ds,y"]
    for i in range(12):
        y = np.maximum(0, np.round(15 + np.cumsum(rng.normal(0.2, 2, 11))))
        lines += [f"{i:04d},{2014 + t},{int(v)}" for t, v in enumerate(y)]
    lines += [f"0000zero,{2014 + t},0" for t in range(11)]
    lines += [f"tiny,{2014 + t},{v}" for t, v in enumerate([0, 1, 0, 0, 2, 1, 0, 0, 1, 0, 0])]
    lines += ["0114,2022,1", "0114,2023,2", "0114,2024,4"]  # 3-point series
    path.write_text("\n".join(lines) + "\n")
    return path


def test_forecast_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write_panel(tmp_path / "panel.csv")
    out = tmp_path / "fc.csv"
    rc = main(["forecast", "--input", str(src), "--horizon", "4", "--output", str(out)])
    assert rc == 0
    fc = pd.read_csv(out, dtype={"unique_id": str})
    assert list(fc.columns) == ["unique_id", "ds", "forecast", "lo80", "hi80", "lo95", "hi95"]
    assert {"0114", "0000", "0000zero", "tiny"} <= set(fc["unique_id"])
    assert len(fc) == 15 * 4
    assert (fc.select_dtypes("number").drop(columns="ds") >= 0).all().all()
    assert fc.loc[fc["unique_id"] == "0114", "ds"].tolist() == [2025, 2026, 2027, 2028]
    assert not list(tmp_path.glob(".*.tmp")), "no temporary files left behind"
    err = capsys.readouterr().err
    assert "too short" in err and "0114" in err


def test_forecast_levels_and_method(tmp_path: Path) -> None:
    src = _write_panel(tmp_path / "panel.csv")
    out = tmp_path / "fc.csv"
    rc = main(
        [
            "forecast",
            "-i",
            str(src),
            "--horizon",
            "2",
            "-o",
            str(out),
            "--level",
            "50",
            "90",
            "--method",
            "mean(naive,drift)",
            "--quiet",
        ]
    )
    assert rc == 0
    fc = pd.read_csv(out)
    assert list(fc.columns)[3:] == ["lo50", "hi50", "lo90", "hi90"]
    assert ((fc["hi90"] - fc["lo90"]) >= (fc["hi50"] - fc["lo50"]) - 1e-9).all()


def test_forecast_bad_input_lists_all_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(
        "unique_id,ds,y\na,2014,1\na,2015,n/a\na,2016,2\n"
        "b,2014,1\nb,2014,1\nb,2015,2\nc,2014,1\nc,2016,1\nc,2017,2\nd,2014,5\n"
    )
    out = tmp_path / "fc.csv"
    rc = main(["forecast", "-i", str(src), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2
    assert "Traceback" not in err
    assert "'n/a'" in err and "b/2014" in err and "missing 2015" in err and "'d'" in err
    assert not out.exists(), "no output when the input is invalid"


def test_forecast_unknown_method(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write_panel(tmp_path / "panel.csv")
    rc = main(["forecast", "-i", str(src), "-o", str(tmp_path / "x.csv"), "-m", "prophet"])
    assert rc == 2 and "unknown forecasting method" in capsys.readouterr().err


def test_backtest_end_to_end(tmp_path: Path) -> None:
    src = _write_panel(tmp_path / "panel.csv")
    out = tmp_path / "bt"
    rc = main(
        [
            "backtest",
            "-i",
            str(src),
            "--horizon",
            "3",
            "-o",
            str(out),
            "--origins",
            "2",
            "--method",
            "ets",
            "global",
            "--region",
            "14",
            "-q",
        ]
    )
    assert rc == 0
    summary = pd.read_csv(out / "summary.csv")
    assert set(summary["model"]) == {"ets", "global", "naive", "drift"}
    assert sorted(summary["horizon"].unique()) == [1, 2, 3]
    table = pd.read_csv(out / "backtest.csv", dtype={"region": str})
    assert list(table.columns) == [
        "region",
        "model",
        "horizon",
        "mase",
        "smape",
        "direction_accuracy",
        "coverage80",
        "coverage95",
    ]
    detail = pd.read_csv(out / "detail.csv", dtype={"unique_id": str})
    assert len(detail) > 0
    assert "0114" not in set(detail["unique_id"]), "3-point series are too short to backtest"
    assert (out / "overall.csv").is_file()


def test_help_mentions_columns(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["forecast", "--help"])
    text = capsys.readouterr().out
    assert "unique_id" in text and "--level" in text and "--method" in text


def _write_keyed(path: Path) -> Path:
    """Region × SSYK 4 panel without unique_id: zeros, leading-zero codes, a 3-point series."""
    rng = np.random.default_rng(2)
    lines = ["region,ssyk,ds,y"]
    for region in ["1480", "1401"]:
        for ssyk in ["2512", "2611", "0110"]:
            y = np.maximum(0, np.round(30 + np.cumsum(rng.normal(0.5, 2, 11))))
            if ssyk == "0110" and region == "1401":
                y = np.zeros(11)
            lines += [f"{region},{ssyk},{2014 + t},{int(v)}" for t, v in enumerate(y)]
    lines += ["1480,2513,2022,3", "1480,2513,2023,5", "1480,2513,2024,6"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_forecast_keys_all_levels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write_keyed(tmp_path / "keyed.csv")
    out = tmp_path / "fc.csv"
    argv = ["forecast", "-i", str(src), "--keys", "region,ssyk", "--ssyk", "ssyk", "-o", str(out)]
    rc = main([*argv, "--horizon", "2", "--method", "drift", "--calibration-origins", "2"])
    assert rc == 0
    fc = pd.read_csv(out, dtype={"region": str, "ssyk": str})
    assert list(fc.columns) == ["region", "ssyk", "ds", "forecast", "lo80", "hi80", "lo95", "hi95"]
    assert len(fc) == 7 * 2 and {"0110", "2513"} <= set(fc["ssyk"])
    rc = main(
        [*argv, "--horizon", "2", "--method", "drift", "--all-levels", "--break", "2023", "-q"]
    )
    assert rc == 0
    fc = pd.read_csv(out, dtype={"region": str, "ssyk": str})
    assert {"total", "region", "ssyk1", "region/ssyk4"} <= set(fc["level"])
    total = fc.loc[fc["level"] == "total"].set_index("ds")["forecast"]
    bottom = fc.loc[fc["level"] == "region/ssyk4"].groupby("ds")["forecast"].sum()
    assert np.allclose(total, bottom)
    factors = pd.read_csv(tmp_path / "fc_break_factors.csv", dtype={"ssyk": str})
    assert set(factors["break_year"]) == {2023} and len(factors) == 4


def test_forecast_keys_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = _write_keyed(tmp_path / "keyed.csv")
    out = tmp_path / "fc.csv"
    rc = main(["forecast", "-i", str(src), "--keys", "region,occupation", "-o", str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "occupation" in err and "keyed.csv" in err
    rc = main(["forecast", "-i", str(src), "--ssyk", "ssyk", "-o", str(out)])
    assert rc == 2 and "--keys" in capsys.readouterr().err
    text = src.read_text().replace("1480,2611,2016,", "1480,26,2016,")
    src.write_text(text)
    rc = main(
        ["forecast", "-i", str(src), "--keys", "region,ssyk", "--ssyk", "ssyk", "-o", str(out)]
    )
    assert rc == 2
    err = capsys.readouterr().err
    assert "different levels" in err and "'26'" in err and "line" in err
    assert not out.exists()


def test_backtest_keys(tmp_path: Path) -> None:
    src = _write_keyed(tmp_path / "keyed.csv")
    out = tmp_path / "bt"
    argv = ["backtest", "-i", str(src), "--keys", "region,ssyk", "--ssyk", "ssyk", "-o", str(out)]
    rc = main(
        [
            *argv,
            "--horizon",
            "2",
            "--origins",
            "2",
            "-m",
            "share",
            "--calibration-origins",
            "1",
            "-q",
        ]
    )
    assert rc == 0
    summary = pd.read_csv(out / "summary.csv")
    assert {"model", "level", "horizon", "mase", "coverage80"} <= set(summary.columns)
    assert set(summary["model"]) == {"share", "naive", "drift"}
    detail = pd.read_csv(out / "detail.csv")
    assert sorted(detail["origin"].unique()) == [2021, 2022]


def test_keys_break_is_reported_and_backtested(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--break 2023` writes and prints its factors; the keyed backtest accepts it too."""
    src = _write_keyed(tmp_path / "keyed.csv")
    text = src.read_text().splitlines()
    # every value from 2023 on is 20 % higher: a level shift, not growth
    lines = [text[0]] + [
        ",".join(
            [
                *r.split(",")[:3],
                str(int(r.split(",")[3]) * (1.2 if int(r.split(",")[2]) >= 2023 else 1)),
            ]
        )
        for r in text[1:]
    ]
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "fc.csv"
    argv = ["-i", str(src), "--keys", "region,ssyk", "--ssyk", "ssyk", "--break", "2023"]
    rc = main(["forecast", *argv, "-o", str(out), "--horizon", "2", "--method", "naive"])
    assert rc == 0
    err = capsys.readouterr().err
    assert "break 2023: history before it scaled by factors" in err
    factors = pd.read_csv(tmp_path / "fc_break_factors.csv", dtype={"ssyk": str})
    assert factors["factor"].between(1.1, 1.3).all()
    bt = tmp_path / "bt"
    rc = main(
        ["backtest", *argv, "-o", str(bt), "--horizon", "1", "--origins", "1", "-m", "naive", "-q"]
    )
    assert rc == 0
    detail = pd.read_csv(bt / "detail.csv")
    assert sorted(detail["origin"].unique()) == [2023]


def test_documented_keyed_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """docs/forecasting.md's `--keys` example on examples/regions_ssyk.csv (faster method)."""
    src = Path(__file__).resolve().parents[1] / "examples" / "regions_ssyk.csv"
    out = tmp_path / "forecasts.csv"
    argv = ["forecast", "--input", str(src), "--keys", "region,ssyk", "--ssyk", "ssyk"]
    argv += ["--break", "2023", "--horizon", "6", "--all-levels", "--output", str(out)]
    assert main([*argv, "--method", "drift"]) == 0
    err = capsys.readouterr().err
    assert "64 series in the hierarchy, 12 bottom" in err and "break 2023" in err
    fc = pd.read_csv(out, dtype={"region": str, "ssyk": str})
    assert len(fc) == 64 * 6 and "0110" in set(fc["ssyk"])
    empty = fc[(fc["region"] == "1401") & (fc["ssyk"] == "0110")]
    assert (empty["forecast"] == 0).all()
    factors = pd.read_csv(tmp_path / "forecasts_break_factors.csv", dtype={"ssyk": str})
    assert factors["factor"].between(1.0, 1.2).all()
