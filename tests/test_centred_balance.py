"""The centred balance: openings for shrinking occupations, centring, status ⇔ p_shortage,
parameter draws, anchoring on today's status, scoring, the leak check and the Swedish texts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kompetensprognos.balance import (
    STATUSES,
    BalanceParams,
    _churn_rate,
    _draw_crosswalk,
    centred_balance,
    todays_ratio,
)
from kompetensprognos.balance_calls import score_calls, truncate, truth_status
from kompetensprognos.dataset import Dataset
from kompetensprognos.recruitment import average_path, openings_rule

PAST = (2016, 2020)
YEARS = np.arange(2016, 2027)


def _openings(employed: dict[str, list[float]], separations: float = 5.0) -> pd.DataFrame:
    rows = []
    for code, path in employed.items():
        for i, y in enumerate(YEARS):
            rows.append(
                {
                    "ssyk": code,
                    "year": int(y),
                    "employed": path[i + 1],
                    "employment_change": path[i + 1] - path[i],
                    "separations": separations,
                    "employed_lo80": np.nan if y <= PAST[1] else path[i + 1] * 0.95,
                    "employed_hi80": np.nan if y <= PAST[1] else path[i + 1] * 1.05,
                }
            )
    df = pd.DataFrame(rows)
    df["openings"] = openings_rule(df["employment_change"], df["separations"])
    return df


def _channels(
    n_s: int, codes: list[str], per_year: dict[str, list[float]]
) -> dict[str, np.ndarray]:
    arr = np.zeros((n_s, len(YEARS), len(codes)))
    for j, c in enumerate(codes):
        arr[:, :, j] = np.asarray(per_year[c], float)[None, :]
    zero = np.zeros_like(arr)
    return {"graduates": arr, "further_study_leavers": zero, "in_movers": zero, "re_entrants": zero}


@pytest.fixture(scope="module")
def toy() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three occupations: newcomers fall, hold and rise against steady openings."""
    flat = [100.0 + 2 * i for i in range(len(YEARS) + 1)]  # +2 a year, 5 exits: 7 openings
    op = _openings({"222": flat, "532": flat, "251": flat})
    n = len(YEARS)
    down = [7.0] * 5 + [4.0] * (n - 5)
    same = [7.0] * n
    up = [7.0] * 5 + [11.0] * (n - 5)
    ch = _channels(400, ["222", "532", "251"], {"222": down, "532": same, "251": up})
    params = BalanceParams(changer_rate=0.0, residual_shrinkage=0.0, min_need=1.0)
    return centred_balance(
        op, ch, YEARS, ["222", "532", "251"], start=2021, end=2026, past=PAST, params=params
    )


def test_openings_of_a_shrinking_occupation_are_exits_beyond_the_decline() -> None:
    path = [100.0, 97.0, 94.0, 91.0]  # −3 a year, 5 exits a year: 2 openings
    op = _openings({"911": path + [88.0] * 8}, separations=5.0)
    assert op.loc[op["year"] == 2016, "openings"].iloc[0] == pytest.approx(2.0)
    op2 = _openings({"911": [100.0, 90.0] + [90.0] * 10}, separations=5.0)
    assert op2.loc[op2["year"] == 2016, "openings"].iloc[0] == 0.0  # decline > exits: none


def test_one_openings_rule_year_by_year_on_the_window_line() -> None:
    """Need = Σ max(ΔE + S, 0) per year on the window's straight line: a noisy fall and rise
    count as the window's average change, not as a rise that the max would keep."""
    e = np.array([[100.0], [90.0], [110.0], [100.0]])  # 2019..2022: −10, +20, −10
    line = average_path(e, np.arange(2019, 2023), [(2020, 2022)])
    change = np.diff(line, axis=0)
    assert np.allclose(change, 0.0)
    assert openings_rule(change, np.full_like(change, 5.0)).sum() == pytest.approx(15.0)
    raw = openings_rule(np.diff(e, axis=0), np.full((3, 1), 5.0)).sum()
    assert raw == pytest.approx(25.0)  # the raw yearly max would count the noise as need
    shrinking = openings_rule(np.array([-8.0, -8.0]), np.array([5.0, 5.0]))
    assert shrinking.sum() == 0.0  # a decline beyond the exits opens nothing


def test_indicator_is_centred_on_the_recent_past(toy: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    bal, _ = toy
    occ = bal[bal["ssyk_level"] == 3].set_index("ssyk")
    assert np.allclose(occ["past_ratio"], 1.0, atol=0.02)
    assert occ.loc["222", "status"] == "brist"
    assert occ.loc["532", "status"] == "balans"
    assert occ.loc["251", "status"] == "överskott"


def test_status_and_p_shortage_come_from_the_same_paths(
    toy: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    bal, _ = toy
    assessed = bal[bal["status"].isin(STATUSES)]
    assert len(assessed) >= 3
    assert ((assessed["status"] == "brist") == (assessed["p_shortage"] >= 0.5)).all()
    assert ((assessed["status"] == "överskott") == (assessed["p_surplus"] >= 0.5)).all()


def test_other_channels_close_the_past_and_are_reported(
    toy: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    bal, sup = toy
    assert set(sup["channel"]) >= {"graduates", "occupation_changers", "other_channels"}
    past = sup[sup["year"].between(*PAST)].groupby("ssyk")
    closure = (
        past["newcomers"].sum()
        / sup[sup["year"].between(*PAST)]
        .drop_duplicates(["ssyk", "year"])
        .groupby("ssyk")["openings"]
        .sum()
    )
    assert np.allclose(closure, 1.0, atol=0.02)
    total = bal[bal["ssyk"] == "total"].iloc[0]
    assert total["newcomers_past"] == pytest.approx(total["openings_past"], rel=0.02)


def test_anchoring_on_todays_shortage_keeps_it_unless_supply_catches_up() -> None:
    flat = [100.0 + 2 * i for i in range(len(YEARS) + 1)]
    op = _openings({"222": flat})
    ch = _channels(200, ["222"], {"222": [7.0] * len(YEARS)})
    params = BalanceParams(changer_rate=0.0, residual_shrinkage=0.0, min_need=1.0)
    kw = {"start": 2021, "end": 2026, "past": PAST, "params": params}
    plain, _ = centred_balance(op, ch, YEARS, ["222"], **kw)
    today = pd.Series({"222": "brist"})
    anchored, _ = centred_balance(op, ch, YEARS, ["222"], today=today, **kw)
    assert plain.set_index("ssyk").loc["222", "status"] == "balans"
    assert anchored.set_index("ssyk").loc["222", "status"] == "brist"


def test_crosswalk_draws_are_dirichlet_around_the_shares() -> None:
    mat = np.array([[0.7, 0.3, 0.0], [0.2, 0.2, 0.6]])
    rng = np.random.default_rng(1)
    d = _draw_crosswalk(mat, 4000, 200.0, rng)
    assert np.allclose(d.sum(axis=2), 1.0)
    assert (d[:, 0, 2] == 0).all()  # no mass where the crosswalk has none
    assert np.allclose(d.mean(axis=0), mat, atol=0.01)
    loose = _draw_crosswalk(mat, 4000, 20.0, rng)
    assert loose[:, 0, 0].std() > 2 * d[:, 0, 0].std()


def test_wider_demand_forecast_widens_the_call() -> None:
    """Draws that hit past and outlook alike (exit rates, crosswalk) cancel in the centred
    ratio; the demand forecast's uncertainty does not."""
    flat = [100.0 + 2 * i for i in range(len(YEARS) + 1)]
    op = _openings({"222": flat})
    loose = op.assign(
        employed_lo80=op["employed"] - 4 * (op["employed"] - op["employed_lo80"]),
        employed_hi80=op["employed"] + 4 * (op["employed_hi80"] - op["employed"]),
    )
    ch = _channels(300, ["222"], {"222": [7.0] * len(YEARS)})
    kw = {"start": 2021, "end": 2026, "past": PAST, "params": BalanceParams(min_need=1.0)}
    tight, _ = centred_balance(op, ch, YEARS, ["222"], **kw)
    wide, _ = centred_balance(loose, ch, YEARS, ["222"], **kw)

    def width(b: pd.DataFrame) -> float:
        row = b.set_index("ssyk").loc["222"]
        return float(row["balance_ratio_hi80"] - row["balance_ratio_lo80"])

    assert width(wide) > 1.5 * width(tight)


def test_scores_and_truth() -> None:
    truth = pd.DataFrame(
        {
            "region": "r",
            "ssyk": ["1", "1", "2", "2"],
            "year": [2016, 2020, 2016, 2020],
            "openings": [10.0, 10, 10, 10],
            "newcomers": [10.0, 5, 10, 20],
        }
    )
    ts = truth_status(truth, (2016, 2016), (2020, 2020)).set_index("ssyk")
    assert ts["truth_status"].to_dict() == {"1": "brist", "2": "överskott"}
    calls = pd.DataFrame(
        {
            "region": "r", "origin": 2018, "ssyk": ["1", "2"],
            "status": ["brist", "balans"], "p_shortage": [0.9, 0.1],
            "truth_status": ["brist", "överskott"], "carry_status": ["balans", "balans"],
        }
    )  # fmt: skip
    s = score_calls(calls).set_index(["region", "method"])
    assert s.loc[("r", "centred"), "balanced_accuracy"] == pytest.approx(0.5)
    assert s.loc[("r", "centred"), "brier"] == pytest.approx((0.01 + 0.01) / 2)
    assert s.loc[("r", "carry_forward"), "brier"] == pytest.approx(0.5)


def test_backtest_origin_sees_no_later_year(demo_dataset: Dataset) -> None:
    """Fails if a table of the truncated dataset keeps an observation after the origin."""
    origin = 2018
    ds = truncate(demo_dataset, origin)
    for name, table in ds.tables().items():
        if name == "population":
            later = table[table["year"] > origin]
            assert (later["kind"] == "projection").all()
            real = demo_dataset.population.set_index(["region", "sex", "age", "year"])
            shifted = later.set_index(["region", "sex", "age", "year"])["population"]
            same = np.isclose(shifted, real["population"].reindex(shifted.index))
            assert same.mean() < 0.5  # a cohort shift, not the later observations
        elif "year" in table.columns:
            assert table["year"].max() <= origin, name
    assert ds.imbalance_truth is None


def test_swedish_texts_and_channel_chart(toy: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from kompetensprognos.narrative import balance_outlook_text, missing_channels_text
    from kompetensprognos.plots import newcomer_channels_bars

    bal, _ = toy
    bal = bal.assign(region="r", period_start=2021, period_end=2026)
    text = balance_outlook_text(bal)
    assert "bristen väntas öka jämfört med 2016–2020" in text
    assert "Av 3 bedömda yrken får 1 brist, 1 balans och 1 överskott" in text
    assert "De flesta nytillskotten kommer från gymnasieexaminerade" in text
    assert "Båda sidor räknas brutto" in text
    assert "flöden per utbildningsgrupp" in missing_channels_text(["education_flows"])
    fig = newcomer_channels_bars(bal, top=3)
    legend = fig.axes[0].get_legend() or fig.legends[0]  # the legend sits under the figure
    labels = [t.get_text() for t in legend.get_texts()]
    assert "Gymnasieexaminerade" in labels and "Lediga jobb (nya + ersättning)" in labels
    # the graduates-only balance (before the lead wires the new one) degrades quietly
    old = bal.drop(columns=[c for c in bal.columns if c.startswith(("past_", "newcomers_"))])
    assert balance_outlook_text(old) == ""
    assert newcomer_channels_bars(old).axes[0].texts[0].get_text().startswith("Nytillskott")


def test_one_convention_gross_separations_close_the_regions_past() -> None:
    """Gross with gross: measured newcomers (10 a year) exceed the net openings (2 growth + 5
    net exits); the churn the net exits miss is added to the separations, so at the region's
    total the past's openings equal its newcomers without any 'other channels'. The net
    convention (``gross_separations=False``) leaves the gap to the residual instead."""
    flat = [100.0 + 2 * i for i in range(len(YEARS) + 1)]
    op = _openings({"222": flat, "532": flat})
    ch = _channels(200, ["222", "532"], {"222": [10.0] * len(YEARS), "532": [10.0] * len(YEARS)})
    kw = {"start": 2021, "end": 2026, "past": PAST}
    gross, gsup = centred_balance(
        op, ch, YEARS, ["222", "532"], params=BalanceParams(changer_rate=0.0, min_need=1.0), **kw
    )
    net, nsup = centred_balance(
        op, ch, YEARS, ["222", "532"], **kw,
        params=BalanceParams(changer_rate=0.0, min_need=1.0, gross_separations=False),
    )  # fmt: skip
    g_tot = gross.set_index("ssyk").loc["total"]
    n_tot = net.set_index("ssyk").loc["total"]
    past_years = len(range(PAST[0], PAST[1] + 1))
    assert g_tot["openings_past"] == pytest.approx(2 * 10.0 * past_years, rel=0.01)
    assert n_tot["openings_past"] == pytest.approx(2 * 7.0 * past_years, rel=0.01)
    g_other = gsup[(gsup["channel"] == "other_channels") & gsup["year"].between(*PAST)]
    n_other = nsup[(nsup["channel"] == "other_channels") & nsup["year"].between(*PAST)]
    assert abs(g_other["newcomers"].sum()) < 1.0
    assert n_other["newcomers"].sum() < -0.2 * 2 * 10.0 * past_years
    # churn per unit employment: (10 − 2 − 5) / ~105 a year per occupation
    m = np.full((1, 1, 5), 10.0)
    rate = _churn_rate(m, np.full_like(m, 2.0), np.full_like(m, 5.0), np.full_like(m, 100.0),
                       np.ones(5, bool))  # fmt: skip
    assert rate.item() == pytest.approx(0.03)


def test_status_and_probability_agree_under_gross_separations_and_anchoring() -> None:
    """brist ⇔ p_shortage ≥ 0.5 and överskott ⇔ p_surplus ≥ 0.5 on every row and level, also
    with growth that differs by occupation, churn, an anchor on today's status, today's ratio
    and the region's centring (twelve occupations)."""
    rng = np.random.default_rng(3)
    codes = ["222", "223", "532", "533", "911", "912", "311", "312", "411", "412", "711", "712"]
    paths = {c: list(np.cumsum(np.r_[100.0, rng.normal(2, 3, len(YEARS))])) for c in codes}
    op = _openings(paths)
    ch = _channels(300, codes, {c: list(rng.uniform(5, 12, len(YEARS))) for c in codes})
    today = pd.Series({"222": "brist", "532": "överskott"})
    ratio = pd.Series(rng.uniform(0.8, 1.2, len(codes)), index=codes)
    bal, _ = centred_balance(
        op, ch, YEARS, codes, start=2021, end=2026, past=PAST,
        params=BalanceParams(min_need=1.0), today=today, today_ratio=ratio,
    )  # fmt: skip
    assert bal["outlook_shift"].iloc[0] != 1.0  # the centring applied
    a = bal[bal["status"].isin(STATUSES)]
    assert len(a) == len(bal)
    assert ((a["status"] == "brist") == (a["p_shortage"] >= 0.5)).all()
    assert ((a["status"] == "överskott") == (a["p_surplus"] >= 0.5)).all()


def test_todays_ratio_is_carried_forward_by_the_models_relative_growth() -> None:
    """SCB's rule: the outlook starts from today's state (a ratio) and moves by the models'
    relative growth; the status and p_shortage still come from the same paths; weight 0 (or no
    ratio) leaves the model alone."""
    flat = [100.0 + 2 * i for i in range(len(YEARS) + 1)]
    op = _openings({"222": flat})
    ch = _channels(200, ["222"], {"222": [7.0] * len(YEARS)})
    params = BalanceParams(changer_rate=0.0, residual_shrinkage=0.0, min_need=1.0)
    kw = {"start": 2021, "end": 2026, "past": PAST}
    plain, _ = centred_balance(op, ch, YEARS, ["222"], params=params, **kw)
    today = pd.Series({"222": 0.8, "total": 1.3})
    carried, _ = centred_balance(op, ch, YEARS, ["222"], params=params, today_ratio=today, **kw)
    off, _ = centred_balance(
        op, ch, YEARS, ["222"], params=params.model_copy(update={"today_weight": 0.0}),
        today_ratio=today, **kw,
    )  # fmt: skip
    p, c, o = (b.set_index("ssyk").loc["222"] for b in (plain, carried, off))
    assert p["status"] == "balans" and c["status"] == "brist" and c["p_shortage"] >= 0.5
    assert c["balance_ratio"] == pytest.approx(0.8 * p["balance_ratio"], rel=1e-6)
    assert c["model_ratio"] == pytest.approx(p["balance_ratio"], rel=1e-6)
    assert o["balance_ratio"] == pytest.approx(p["balance_ratio"], rel=1e-6)
    total = carried.set_index("ssyk").loc["total"]
    assert total["today_ratio"] == pytest.approx(1.3) and total["status"] == "överskott"


def test_outlook_is_read_against_the_regions_median_occupation() -> None:
    """A shift that moves every occupation alike (here: newcomers +20 % everywhere) decides no
    status once the region has enough occupations; one occupation that falls behind the rest is
    still called. Below ten assessed occupations the reading is left as it is."""
    codes = [f"2{i:02d}" for i in range(12)]
    flat = [100.0 + 2 * i for i in range(len(YEARS) + 1)]
    op = _openings(dict.fromkeys(codes, flat))
    up = [7.0] * 5 + [8.4] * (len(YEARS) - 5)
    behind = [7.0] * 5 + [6.0] * (len(YEARS) - 5)
    per_year = {c: (behind if c == codes[0] else up) for c in codes}
    params = BalanceParams(changer_rate=0.0, residual_shrinkage=0.0, min_need=1.0)
    kw = {"start": 2021, "end": 2026, "past": PAST}
    centred, _ = centred_balance(
        op, _channels(200, codes, per_year), YEARS, codes, params=params, **kw
    )
    raw, _ = centred_balance(
        op, _channels(200, codes, per_year), YEARS, codes,
        params=params.model_copy(update={"centre_outlook": False}), **kw,
    )  # fmt: skip
    c3 = centred[centred["ssyk_level"] == 3].set_index("ssyk")
    r3 = raw[raw["ssyk_level"] == 3].set_index("ssyk")
    assert (r3.loc[codes[1:], "status"] == "överskott").all()
    assert (c3.loc[codes[1:], "status"] == "balans").all()
    assert c3.loc[codes[0], "status"] == "brist"
    assert c3["balance_ratio"].median() == pytest.approx(1.0, abs=0.01)
    assert c3["outlook_shift"].iloc[0] == pytest.approx(1.2, rel=0.02)
    few, _ = centred_balance(
        op, _channels(200, codes[:5], per_year), YEARS, codes[:5],
        params=params, **kw,
    )  # fmt: skip
    assert (few["outlook_shift"] == 1.0).all()


def test_todays_state_reads_no_year_after_the_past() -> None:
    """Fails if today's state (the call backtest's and the default on synthetic data) looks at
    a year after the origin: changing every later year changes nothing."""
    rng = np.random.default_rng(0)
    years = np.arange(2015, 2025)
    t = pd.DataFrame(
        [(r, c, y, rng.uniform(50, 100), rng.uniform(50, 100))
         for r in ("a", "b") for c in ("222", "223", "511") for y in years],
        columns=["region", "ssyk", "year", "openings", "newcomers"],
    )  # fmt: skip
    later = t.assign(newcomers=np.where(t["year"] > 2019, t["newcomers"] * 3, t["newcomers"]))
    a, b = todays_ratio(t, "a", (2015, 2019)), todays_ratio(later, "a", (2015, 2019))
    pd.testing.assert_series_equal(a, b)
    assert set(a.index) == {"222", "223", "511", "22", "51", "2", "5", "total"}
    sel = t[(t["region"] == "a") & (t["ssyk"] == "511")]
    last2 = sel[sel["year"].between(2018, 2019)]
    past = sel[sel["year"].between(2015, 2019)]
    expected = (last2["newcomers"].sum() / last2["openings"].sum()) / (
        past["newcomers"].sum() / past["openings"].sum()
    )
    assert a["511"] == pytest.approx(expected)
