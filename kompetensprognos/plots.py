"""Figures for the regional outlook report, drawn for readers who are not statisticians.

Every function takes one of the per-region output tables (see :mod:`kompetensprognos.report`)
and returns a :class:`matplotlib.figure.Figure`. Conventions, chosen for competence councils
reading a printed or HTML report:

* Swedish labels, occupation **names** (shortened by
  :func:`kompetensprognos.narrative.occupation_label`), years as whole numbers and Swedish
  thousands separators ("12 300").
* Large fonts and a white grid (seaborn's ``whitegrid`` look, written out as rc settings);
  styling is applied inside each call with a context manager, so the caller's matplotlib settings are left alone.
* Observed values in dark grey, forecasts in blue with the 80 % interval darker than the 95 %
  interval, and a dotted vertical line where the forecast starts.
* Employment axes start at zero by default, so a 2 % change does not look like a doubling.

Nothing here calls ``plt.show()`` or closes figures; pass ``ax=`` to draw into an existing axes.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from kompetensprognos.classifications import UNKNOWN_SSYK
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.narrative import (
    NBSP,
    fmt_float,
    fmt_int,
    fmt_prob,
    occupation_label,
    past_window,
)

__all__ = [
    "COLORS",
    "backtest_chart",
    "balance_chart",
    "balance_heatmap",
    "education_output_chart",
    "employment_today",
    "fan_chart",
    "newcomer_channels_bars",
    "recruitment_need_bars",
    "total_fan_chart",
]

# Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
COLORS: dict[str, str] = {
    "observed": "#333333",
    "forecast": "#0072B2",
    "expansion": "#0072B2",
    "replacement": "#E69F00",
    "brist": "#D55E00",
    "balans": "#8C8C8C",
    "överskott": "#56B4E9",  # sky blue: grey and bluish green merge with deuteranopia
    "other": "#BBBBBB",
}
_MODEL_STYLE = {  # label, colour, line width
    "kompetensprognos": ("Vår modell", "#0072B2", 3.5),
    "naive": ("Naiv", "#555555", 2.0),
    "drift": ("Trend (drift)", "#E69F00", 2.0),
    "constant_share": ("Konstant andel", "#CC79A7", 2.0),
}
_TYPE_NAMES = {
    "gymnasium": "Gymnasieskolan",
    "yh": "Yrkeshögskolan",
    "higher": "Högskola och universitet",
}
_STATUS_NAMES = {"brist": "Brist", "balans": "Balans", "överskott": "Överskott"}
_DASH = "\u2013"
_BAND_ALPHA = {95: 0.18, 80: 0.35}
_BREAK_COLOR = "#AA3377"

_thousands = FuncFormatter(lambda x, _pos: fmt_int(x))
_years = FuncFormatter(lambda x, _pos: f"{int(round(x))}")


#: seaborn's ``whitegrid`` style with ``plotting_context("notebook", font_scale=1.35)``, written
#: out: importing seaborn for its styling alone cost 1-2 s per report kernel (it imports scipy.stats)
_RC: dict[str, object] = {
    # axes_style("whitegrid", {"axes.edgecolor": "#BBBBBB"})
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": "#BBBBBB",
    "axes.labelcolor": ".15",
    "axes.axisbelow": True,
    "axes.grid": True,
    "axes.spines.left": True,
    "axes.spines.bottom": True,
    "axes.spines.right": True,
    "axes.spines.top": True,
    "grid.color": ".8",
    "grid.linestyle": "-",
    "text.color": ".15",
    "xtick.color": ".15",
    "ytick.color": ".15",
    "xtick.direction": "out",
    "ytick.direction": "out",
    "xtick.top": False,
    "ytick.right": False,
    "xtick.bottom": False,
    "ytick.left": False,
    "font.family": ["sans-serif"],
    "font.sans-serif": [
        "Arial",
        "DejaVu Sans",
        "Liberation Sans",
        "Bitstream Vera Sans",
        "sans-serif",
    ],
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    # plotting_context("notebook", font_scale=1.35)
    "axes.linewidth": 1.25,
    "grid.linewidth": 1,
    "lines.linewidth": 1.5,
    "lines.markersize": 6,
    "patch.linewidth": 1,
    "xtick.major.width": 1.25,
    "ytick.major.width": 1.25,
    "xtick.minor.width": 1,
    "ytick.minor.width": 1,
    "xtick.major.size": 6,
    "ytick.major.size": 6,
    "xtick.minor.size": 4,
    "ytick.minor.size": 4,
    "font.size": 16.2,
    "axes.labelsize": 16.2,
    "xtick.labelsize": 14.85,
    "ytick.labelsize": 14.85,
    "legend.fontsize": 14.85,
    "legend.title_fontsize": 16.2,
    # ours
    "axes.titleweight": "bold",
    "axes.titlesize": 15,
    "figure.dpi": 100,
    # a fixed title height: no chart has tick labels on top, and matplotlib's automatic title
    # placement measures every top tick of every axes at each draw (0.7 s for the dot chart)
    "axes.titley": 1.0,
}


@contextmanager
def _style() -> Iterator[None]:
    """The report's styling for one figure, without touching the caller's global settings."""
    with plt.rc_context(_RC):
        yield


def _figure(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.get_figure(), ax  # type: ignore[return-value]
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _grid_inches(
    size: tuple[float, float],
    nrows: int,
    ncols: int,
    *,
    left: float,
    right: float,
    top: float,
    bottom: float,
    wspace: float,
    hspace: float,
) -> dict[str, float]:
    """``gridspec_kw`` for a fixed grid whose margins and gaps are given in inches."""
    width, height = size
    col = max(width - left - right - (ncols - 1) * wspace, 0.1) / ncols
    row = max(height - top - bottom - (nrows - 1) * hspace, 0.1) / nrows
    return {
        "left": left / width,
        "right": 1 - right / width,
        "top": 1 - top / height,
        "bottom": bottom / height,
        "wspace": wspace / col,
        "hspace": hspace / row,
    }


def _require(df: pd.DataFrame, columns: Sequence[str], table: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KompetensprognosError(
            f"table {table!r} lacks column(s) {', '.join(missing)}; "
            f"pass the {table}.csv table of one region"
        )


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width)) or text


def _occupation_tick(code: object, width: int = 34, lines: int = 2) -> str:
    """An occupation name on at most ``lines`` lines of about ``width`` characters."""
    limit = width * lines
    while True:
        name = occupation_label(str(code), width=limit)
        # keep "m.fl." with the word before it (textwrap does not break at a non-breaking space)
        name = name.replace(" m.fl.", f"{NBSP}m.fl.").replace(" m.m.", f"{NBSP}m.m.")
        wrapped = _wrap(name, width)
        if wrapped.count("\n") < lines or limit <= width:
            return wrapped
        limit -= 4


def _region_of(df: pd.DataFrame) -> str | None:
    if "region" not in df.columns or df["region"].nunique() != 1:
        return None
    from kompetensprognos.regions import region_name

    rid = str(df["region"].iloc[0])
    try:
        return region_name(rid)
    except Exception:  # an ad-hoc region id: show it as it is
        return rid


def _last_observed(df: pd.DataFrame) -> int:
    obs = df[df["kind"] == "observed"]
    if obs.empty:
        raise KompetensprognosError("employment_forecast has no observed rows (kind == 'observed')")
    return int(obs["year"].max())


# --------------------------------------------------------------------------- employment
def employment_today(
    employment_forecast: pd.DataFrame,
    top: int = 15,
    *,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """The largest occupations (SSYK 3) in the last observed year, as horizontal bars.

    Parameters
    ----------
    employment_forecast : pandas.DataFrame
        The region's ``employment_forecast`` table.
    top : int, default 15
        Number of occupations.
    ax : matplotlib.axes.Axes, optional
        Draw here instead of a new figure.
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = employment_today(ctx.table("employment_forecast"))  # doctest: +SKIP
    """
    _require(
        employment_forecast,
        ["ssyk", "ssyk_level", "year", "employed", "kind"],
        "employment_forecast",
    )
    ef = employment_forecast[employment_forecast["ssyk_level"] == 3]
    year = _last_observed(ef)
    rows = ef[(ef["kind"] == "observed") & (ef["year"] == year)].nlargest(top, "employed")
    labels = [_occupation_tick(c) for c in rows["ssyk"]]
    with _style():
        fig, ax = _figure(ax, figsize or (11, 0.6 * len(rows) + 1.8))
        ax.barh(labels[::-1], rows["employed"].to_numpy()[::-1], color=COLORS["forecast"])
        for y, v in enumerate(rows["employed"].to_numpy()[::-1]):
            ax.annotate(
                fmt_int(v),
                (v, y),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=12,
            )
        ax.xaxis.set_major_formatter(_thousands)
        ax.set_xlim(0, rows["employed"].max() * 1.15 if len(rows) else 1)
        ax.set_xlabel(f"Antal sysselsatta {year}")
        ax.set_ylabel("")
        ax.grid(axis="y", visible=False)
        region = _region_of(ef)
        ax.set_title(
            f"De {len(rows)} största yrkena" + (f" i {region}" if region else "") + f", {year}",
            loc="left",
        )
    return fig


def _draw_fan(
    ax: Axes,
    series: pd.DataFrame,
    *,
    from_zero: bool = True,
    bands: Sequence[int] = (95, 80),
    breaks: Sequence[int] = (),
) -> int:
    """Observed line, forecast line and interval bands for one series; returns the last observed year."""
    s = series.sort_values("year")
    obs = s[s["kind"] == "observed"]
    fc = s[s["kind"] == "forecast"]
    last = int(obs["year"].max()) if len(obs) else int(fc["year"].min()) - 1
    if len(obs) and len(fc):
        # start the forecast line and bands at the last observed point so the two lines join
        anchor = obs[obs["year"] == last].iloc[[0]].copy()
        for b in bands:
            anchor[f"lo{b}"] = anchor["employed"] if "employed" in anchor else np.nan
            anchor[f"hi{b}"] = anchor[f"lo{b}"]
        fc = pd.concat([anchor, fc], ignore_index=True)
    value = "employed"
    for b in sorted(bands, reverse=True):  # wide band first, narrow band on top
        alpha = _BAND_ALPHA.get(b, 0.3)
        if f"lo{b}" in fc and fc[f"lo{b}"].notna().any():
            ax.fill_between(
                fc["year"], fc[f"lo{b}"], fc[f"hi{b}"], color=COLORS["forecast"], alpha=alpha, lw=0
            )
    ax.plot(obs["year"], obs[value], color=COLORS["observed"], lw=2.5, marker="o", ms=4)
    ax.plot(fc["year"], fc[value], color=COLORS["forecast"], lw=2.5, ls="--")
    if len(obs) and len(s["kind"].unique()) > 1:
        ax.axvline(last, color="#777777", ls=":", lw=1.5)
    for year in breaks:
        if len(obs) and obs["year"].min() < year <= last:
            # the break lies between the last year on the old basis and the first on the new
            ax.axvline(year - 0.5, color=_BREAK_COLOR, ls="-.", lw=1.5)
    ax.yaxis.set_major_formatter(_thousands)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.xaxis.set_major_formatter(_years)
    if from_zero:
        ax.set_ylim(bottom=0)
    ax.set_xlabel("")
    return last


def _fan_legend(bands: Sequence[int] = (80, 95), breaks: bool = False) -> list[object]:
    handles: list[object] = [
        Line2D([], [], color=COLORS["observed"], lw=2.5, marker="o", ms=4, label="Statistik"),
        Line2D([], [], color=COLORS["forecast"], lw=2.5, ls="--", label="Prognos"),
    ]
    # where bands overlap, the reader sees the two alphas combined
    shown = {b: _BAND_ALPHA.get(b, 0.3) for b in bands}
    for b in bands:
        for wider in bands:
            if wider > b:
                shown[b] = 1 - (1 - shown[b]) * (1 - _BAND_ALPHA.get(wider, 0.3))
    for b in bands:
        handles.append(
            Patch(
                color=COLORS["forecast"],
                alpha=shown[b],
                label=f"{b}{NBSP}% osäkerhetsintervall",
            )
        )
    if breaks:
        handles.append(
            Line2D(
                [], [], color=_BREAK_COLOR, ls="-.", lw=1.5, label="Ändrad statistik (seriebrott)"
            )
        )
    return handles


def fan_chart(
    employment_forecast: pd.DataFrame,
    ssyk_level: int = 1,
    codes: Sequence[str] | None = None,
    *,
    ncols: int = 3,
    from_zero: bool = True,
    breaks: Iterable[int] = (),
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Small multiples of employment per occupation group: statistics, forecast and intervals.

    One panel per group, ordered by size in the last observed year, each with its own y axis
    (groups differ a lot in size). The forecast is drawn dashed with its 80 % (darker) and 95 %
    (lighter) interval; a dotted line marks the last observed year.

    Parameters
    ----------
    employment_forecast : pandas.DataFrame
        The region's ``employment_forecast`` table.
    ssyk_level : {1, 2, 3}, default 1
        Level of the groups.
    codes : sequence of str, optional
        Only these SSYK codes (at ``ssyk_level``), in this order.
    ncols : int, default 3
        Panels per row.
    from_zero : bool, default True
        Start every y axis at zero.
    breaks : iterable of int, optional
        First years of known series breaks in employment (e.g.
        ``[b.year for b in manifest.breaks if b.table == "employment"]``), marked with a
        dash-dotted line so a jump in the statistics is not read as real growth.
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = fan_chart(ctx.table("employment_forecast"), ssyk_level=2, codes=["22", "53"])  # doctest: +SKIP
    """
    _require(
        employment_forecast,
        ["ssyk", "ssyk_level", "year", "employed", "kind"],
        "employment_forecast",
    )
    breaks = [int(b) for b in breaks]
    ef = employment_forecast[employment_forecast["ssyk_level"] == ssyk_level]
    if codes is not None:
        codes = [str(c) for c in codes]
        missing = sorted(set(codes) - set(ef["ssyk"].astype(str)))
        if missing:
            raise KompetensprognosError(
                f"SSYK code(s) {', '.join(missing)} not in employment_forecast at level {ssyk_level}"
            )
        order = codes
    else:
        last = _last_observed(ef)
        size = ef[(ef["kind"] == "observed") & (ef["year"] == last)].set_index("ssyk")["employed"]
        order = list(size.sort_values(ascending=False).index.astype(str))
        order += sorted(set(ef["ssyk"].astype(str)) - set(order))
    if not order:
        raise KompetensprognosError(f"employment_forecast has no rows at SSYK level {ssyk_level}")
    ncols = max(1, min(ncols, len(order)))
    nrows = math.ceil(len(order) / ncols)
    n_legend_rows = math.ceil(len(_fan_legend(breaks=bool(breaks))) / (3 if breaks else 4))
    with _style():
        size = figsize or (5.2 * ncols, 3.6 * nrows + 1.2)
        # a fixed grid (in inches, as constrained layout placed it for the demo regions) instead
        # of constrained layout, which measured every tick label of every panel twice per draw
        # (about half of this figure's drawing time): room for two-line panel titles, y tick
        # labels up to "100 000" and the legend's rows
        fig, axes = plt.subplots(
            nrows,
            ncols,
            figsize=size,
            squeeze=False,
            gridspec_kw=_grid_inches(
                size, nrows, ncols, left=1.1, right=0.12, top=0.85, bottom=0.45 + 0.3 * n_legend_rows,
                wspace=0.8, hspace=0.85,
            ),
        )  # fmt: skip
        for ax, code in zip(axes.flat, order, strict=False):
            _draw_fan(ax, ef[ef["ssyk"].astype(str) == code], from_zero=from_zero, breaks=breaks)
            ax.set_title(_wrap(occupation_label(code, width=60), 30), fontsize=13, loc="left")
            ax.tick_params(labelsize=11)
        for ax in axes.flat[len(order) :]:
            ax.set_visible(False)
        for ax in axes[:, 0]:
            ax.set_ylabel("Sysselsatta")
        fig.legend(
            handles=_fan_legend(breaks=bool(breaks)),
            loc="lower center",
            bbox_to_anchor=(0.5, 0.04 / size[1]),
            ncols=3 if breaks else 4,
            frameon=False,
            fontsize=12,
        )
        region = _region_of(ef)
        fig.suptitle(
            "Sysselsatta per yrkesgrupp"
            + (f" i {region}" if region else "")
            + ": statistik och prognos",
            fontsize=17,
            fontweight="bold",
            y=1 - 0.04 / size[1],
            va="top",
        )
    return fig


def total_fan_chart(
    employment_forecast: pd.DataFrame,
    *,
    ax: Axes | None = None,
    from_zero: bool = False,
    breaks: Iterable[int] = (),
    figsize: tuple[float, float] = (11, 5.5),
) -> Figure:
    """The region's total employment: statistics, forecast and 80 % / 95 % intervals.

    The y axis does not start at zero by default: the total moves a few percent, and the
    interval is what the reader should see. Pass ``from_zero=True`` to show the scale.

    Parameters
    ----------
    employment_forecast : pandas.DataFrame
        The region's ``employment_forecast`` table (the ``ssyk == "total"`` rows are used).
    ax : matplotlib.axes.Axes, optional
    from_zero : bool, default False
    breaks : iterable of int, optional
        First years of known series breaks, marked as in :func:`fan_chart`.
    figsize : (float, float), default (11, 5.5)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = total_fan_chart(ctx.table("employment_forecast"))  # doctest: +SKIP
    """
    _require(employment_forecast, ["ssyk", "year", "employed", "kind"], "employment_forecast")
    breaks = [int(b) for b in breaks]
    ef = employment_forecast[employment_forecast["ssyk"].astype(str) == "total"]
    if ef.empty:
        raise KompetensprognosError("employment_forecast has no total row (ssyk == 'total')")
    with _style():
        fig, ax = _figure(ax, figsize)
        last = _draw_fan(ax, ef, from_zero=from_zero, breaks=breaks)
        ax.set_ylabel("Antal sysselsatta")
        ax.legend(
            handles=_fan_legend(breaks=bool(breaks)), loc="upper left", frameon=True, fontsize=12
        )
        region = _region_of(ef)
        ax.set_title(
            "Sysselsatta totalt"
            + (f" i {region}" if region else "")
            + f" (statistik till {last}, sedan prognos)",
            loc="left",
        )
    return fig


# --------------------------------------------------------------------------- recruitment need
def recruitment_need_bars(
    recruitment_need: pd.DataFrame,
    top: int = 15,
    ssyk_level: int = 3,
    *,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """The occupations with the largest recruitment need, split into replacement and expansion.

    Stacked horizontal bars: *Ersättningsbehov* (replacing those who leave, mostly retirement)
    first, then *Expansionsbehov* (growth; zero when the occupation shrinks), so the bar's length
    is the recruitment need. In a shrinking occupation the decline absorbs part of the leavers
    (openings are ``max(change + separations, 0)`` per year), so its replacement bar is the need,
    not every leaver. The black whisker is the 80 % interval of the total.

    Parameters
    ----------
    recruitment_need : pandas.DataFrame
        The region's ``recruitment_need`` table.
    top : int, default 15
        Number of occupations, largest need first.
    ssyk_level : {1, 2, 3}, default 3
    ax : matplotlib.axes.Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = recruitment_need_bars(ctx.table("recruitment_need"), top=10)  # doctest: +SKIP
    """
    cols = ["ssyk", "ssyk_level", "expansion", "replacement", "recruitment_need"]
    _require(recruitment_need, cols, "recruitment_need")
    rn = recruitment_need[recruitment_need["ssyk_level"] == ssyk_level]
    rows = rn.nlargest(top, "recruitment_need").iloc[::-1]
    labels = [_occupation_tick(c) for c in rows["ssyk"]]
    total = rows["recruitment_need"].to_numpy(float)
    # the need counts yearly openings (max(change + separations, 0)): in a shrinking occupation
    # the decline absorbs part of the leavers, so the bars split the need itself, not the leavers
    exp = np.minimum(rows["expansion"].clip(lower=0).to_numpy(float), total)
    rep = total - exp
    with _style():
        fig, ax = _figure(ax, figsize or (12, 0.6 * len(rows) + 2.2))
        y = np.arange(len(rows))
        ax.barh(y, rep, color=COLORS["replacement"], label="Ersättningsbehov")
        ax.barh(y, exp, left=rep, color=COLORS["expansion"], label="Expansionsbehov")
        right = total
        if {"recruitment_need_lo80", "recruitment_need_hi80"} <= set(rows.columns):
            lo = rows["recruitment_need_lo80"].to_numpy(float)
            hi = rows["recruitment_need_hi80"].to_numpy(float)
            err = np.vstack([np.clip(total - lo, 0, None), np.clip(hi - total, 0, None)])
            ax.errorbar(
                total, y, xerr=err, fmt="none", ecolor="black", elinewidth=1.5, capsize=4,
                label=f"80{NBSP}% osäkerhetsintervall",
            )  # fmt: skip
            right = np.fmax(total, np.nan_to_num(hi))
        for yi, (r, t) in enumerate(zip(right, total, strict=True)):
            ax.annotate(
                fmt_int(t),
                (r, yi),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize=12,
            )
        ax.set_yticks(y, labels)
        ax.xaxis.set_major_formatter(_thousands)
        ax.set_xlim(0, (np.nanmax(right) if len(right) else 1) * 1.18)
        ax.grid(axis="y", visible=False)
        period = ""
        if {"period_start", "period_end"} <= set(rows.columns) and len(rows):
            period = f" {int(rows['period_start'].iloc[0])}{_DASH}{int(rows['period_end'].iloc[0])}"
        ax.set_xlabel(f"Antal personer att rekrytera{period}")
        handles, names = ax.get_legend_handles_labels()
        ax.legend(handles, names, loc="lower right", fontsize=12, frameon=True)
        region = _region_of(rn)
        ax.set_title(
            "Störst rekryteringsbehov" + (f" i {region}" if region else "") + period, loc="left"
        )
    return fig


# --------------------------------------------------------------------------- education
def education_output_chart(
    education_output: pd.DataFrame,
    *,
    from_zero: bool = True,
    figsize: tuple[float, float] = (16, 5.2),
) -> Figure:
    """Graduates per type of education over time: statistics, forecast and 80 % interval.

    One panel per type (Gymnasieskolan, Yrkeshögskolan, Högskola och universitet), each with its
    own scale since the types differ in size. The forecast interval of a type is the sum of its
    educations' bounds: a cautious (wide) interval that assumes the educations move together,
    which is close to true when a shared population cohort drives them.

    Parameters
    ----------
    education_output : pandas.DataFrame
        The region's ``education_output`` table.
    from_zero : bool, default True
    figsize : (float, float), default (16, 5.2)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = education_output_chart(ctx.table("education_output"))  # doctest: +SKIP
    """
    cols = ["type", "year", "graduates", "kind"]
    _require(education_output, cols, "education_output")
    eo = education_output.copy()
    for c in ("graduates_lo80", "graduates_hi80"):
        if c not in eo:
            eo[c] = np.nan
    agg = (
        eo.groupby(["type", "kind", "year"], as_index=False)[
            ["graduates", "graduates_lo80", "graduates_hi80"]
        ]
        .sum(min_count=1)
        .rename(
            columns={"graduates": "employed", "graduates_lo80": "lo80", "graduates_hi80": "hi80"}
        )
    )
    types = [t for t in _TYPE_NAMES if t in set(agg["type"])] + sorted(
        set(agg["type"]) - set(_TYPE_NAMES)
    )
    if not types:
        raise KompetensprognosError("education_output has no rows")
    with _style():
        # a fixed grid in inches, as in fan_chart (constrained layout doubled the drawing time)
        fig, axes = plt.subplots(
            1,
            len(types),
            figsize=figsize,
            squeeze=False,
            gridspec_kw=_grid_inches(
                figsize, 1, len(types), left=1.2, right=0.12, top=0.62, bottom=0.8,
                wspace=0.85, hspace=0.0,
            ),
        )  # fmt: skip
        for ax, t in zip(axes.flat, types, strict=True):
            _draw_fan(ax, agg[agg["type"] == t], from_zero=from_zero, bands=(80,))
            ax.set_title(_TYPE_NAMES.get(t, t), loc="left")
        axes[0, 0].set_ylabel("Antal examinerade per år")
        fig.legend(
            handles=_fan_legend((80,)),
            loc="lower center",
            bbox_to_anchor=(0.5, 0.04 / figsize[1]),
            ncols=3,
            frameon=False,
            fontsize=12,
        )
        region = _region_of(education_output)
        fig.suptitle(
            "Examinerade per utbildningsform" + (f" i {region}" if region else ""),
            fontsize=17,
            fontweight="bold",
            y=1 - 0.04 / figsize[1],
            va="top",
        )
    return fig


# --------------------------------------------------------------------------- balance
def balance_heatmap(
    balance: pd.DataFrame,
    ssyk_level: int = 2,
    *,
    ax: Axes | None = None,
    figsize: tuple[float, float] | None = None,
) -> Figure:
    """Supply against need per occupation group, as a sorted dot chart (not a colour grid).

    Each row is an occupation group; the dot shows new entrants as a percentage of the
    recruitment need (*balance_ratio* × 100) on a logarithmic axis, so 50 % and 200 % lie equally
    far from the 100 % line where supply equals need. Dots are coloured by status (brist /
    balans / överskott, grey when there is too little data) and the right margin states the
    status and the probability of shortage in words. Rows run from the largest shortage at the
    top to the largest surplus at the bottom.

    For a centred balance (a table with ``past_start``/``past_end``) *balance_ratio* is the
    outlook's newcomers-to-openings ratio against the recent past's, relative to the region's
    typical occupation: the title and axis say so (100 % = as in the recent past), and the axis
    runs from 50 % to 200 %.

    Why not a heat map: a one-column grid asks the reader to decode a colour scale into a number,
    whereas a position on a labelled axis with a "behov = nytillskott" line is read at a glance,
    and the status text keeps the classification explicit. Ratios beyond 10 % / 1 000 % are
    drawn at the edge (shown as "◀" / "▶").

    Parameters
    ----------
    balance : pandas.DataFrame
        The region's ``balance`` table.
    ssyk_level : int, default 2
        Level to show (from the ``ssyk_level`` column, or the code length when it is absent).
        When the table has no rows at this level, the nearest level it has is shown.
    ax : matplotlib.axes.Axes, optional
    figsize : (float, float), optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = balance_heatmap(ctx.table("balance"), ssyk_level=2)  # doctest: +SKIP
    """
    _require(balance, ["ssyk", "balance_ratio", "status"], "balance")
    bal = balance[balance["ssyk"].astype(str) != "total"]
    codes = bal["ssyk"].astype(str)
    if "ssyk_level" in bal.columns:
        levels = bal["ssyk_level"]
    else:  # infer from the code; "0002" (unknown occupation) belongs to every level
        levels = codes.str.len().where(codes != UNKNOWN_SSYK, ssyk_level)
    available = sorted(int(v) for v in levels.dropna().unique())
    if not available:
        raise KompetensprognosError("balance has no occupation rows to show")
    if ssyk_level not in available:
        # a report should still get a chart: show the nearest level the table has
        ssyk_level = min(available, key=lambda v: (abs(v - ssyk_level), v))
    bal = bal[levels == ssyk_level]
    bal = bal.assign(plot_ratio=bal["balance_ratio"].astype(float)).sort_values(
        "plot_ratio", na_position="last", kind="stable"
    )
    # a centred balance's ratio is read against the recent past and moves less than newcomers ÷
    # need (the graduates-only method): a narrower axis
    past = past_window(balance)
    lo_lim, hi_lim = (0.5, 2.0) if past else (0.1, 10.0)
    with _style():
        fig, ax = _figure(ax, figsize or (13, 0.6 * len(bal) + 2.2))
        y = np.arange(len(bal))[::-1]
        ax.axvline(1.0, color="#333333", lw=1.5)
        ax.axvspan(lo_lim, 1.0, color=COLORS["brist"], alpha=0.05, lw=0)
        for yi, row in zip(y, bal.itertuples(), strict=True):
            status = str(row.status)
            color = COLORS.get(status, COLORS["other"])
            r = float(row.plot_ratio)
            ax.axhline(yi, color="#EEEEEE", lw=1, zorder=0)
            if not math.isnan(r):
                shown = min(max(r, lo_lim), hi_lim)
                marker = "o" if shown == r else ("<" if r < lo_lim else ">")
                ax.plot([1.0, shown], [yi, yi], color=color, lw=2, alpha=0.6)
                ax.plot(shown, yi, marker=marker, ms=11, color=color, mec="white", zorder=3)
            text = _STATUS_NAMES.get(status, status[:1].upper() + status[1:])
            p = getattr(row, "p_shortage", float("nan"))
            if p is not None and not (isinstance(p, float) and math.isnan(p)):
                text += f" · risk för brist {fmt_prob(float(p))}"
            ax.annotate(
                text, (1.0, yi), xycoords=("axes fraction", "data"), xytext=(10, 0),
                textcoords="offset points", va="center", fontsize=12, color=color if status in COLORS else "#555555",
            )  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlim(lo_lim, hi_lim)
        ticks = [0.5, 0.67, 0.8, 1, 1.25, 1.5, 2] if past else [0.1, 0.25, 0.5, 1, 2, 4, 10]
        ax.set_xticks(ticks, [f"{fmt_float(100 * t, 0)}{NBSP}%" for t in ticks])
        ax.minorticks_off()
        ax.set_yticks(y, [_occupation_tick(c) for c in bal["ssyk"]])
        ax.set_ylim(-0.7, len(bal) - 0.3)
        ax.grid(axis="y", visible=False)
        xlabel = (
            f"Nytillskott per ledigt jobb i procent av läget {past}\n"
            "(100 % = som då, relativt regionens typiska yrke)"
            if past
            else "Nytillskott av nyutbildade i procent av rekryteringsbehovet (100 % = balans)"
        )
        ax.set_xlabel(xlabel.replace(" %", f"{NBSP}%"))
        ax.text(
            lo_lim * 1.05, len(bal) - 0.4, "◀ brist", color=COLORS["brist"], fontsize=12, va="top"
        )
        ax.text(
            hi_lim * 0.95,
            len(bal) - 0.4,
            "överskott ▶",
            color=COLORS["överskott"],
            fontsize=12,
            va="top",
            ha="right",
        )
        region = _region_of(balance)
        period = ""
        if {"period_start", "period_end"} <= set(bal.columns):
            period = f" {int(bal['period_start'].iloc[0])}{_DASH}{int(bal['period_end'].iloc[0])}"
        if past:  # "Nytillskott mot lediga jobb i Skaraborg 2023–2030, jämfört med 2016–2022"
            where = f" i {region}" if region else ""
            title = f"Nytillskott mot lediga jobb{where}{period}, jämfört med {past}"
        else:
            title = "Räcker de nyutbildade?" + (f" {region}" if region else "") + period
        ax.set_title(title, loc="left")
    return fig


balance_chart = balance_heatmap
"""Alias of :func:`balance_heatmap` under the name of what it draws."""


# --------------------------------------------------------------------------- backtest
def backtest_chart(
    backtest: pd.DataFrame,
    *,
    ax: Axes | None = None,
    figsize: tuple[float, float] = (10, 5.5),
) -> Figure:
    """Forecast error (MASE, lower is better) by horizon: our model against simple baselines.

    MASE is averaged over the rows of each model and horizon (occupations, levels). Our model is
    the thick blue line; the baselines are *Naiv* (last value carried forward), *Trend (drift)*
    and *Konstant andel* (the occupation keeps its share of total employment).

    Parameters
    ----------
    backtest : pandas.DataFrame
        The region's ``backtest`` table.
    ax : matplotlib.axes.Axes, optional
    figsize : (float, float), default (10, 5.5)

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = backtest_chart(ctx.table("backtest"))  # doctest: +SKIP
    """
    _require(backtest, ["model", "horizon", "mase"], "backtest")
    mase = backtest.groupby(["model", "horizon"], as_index=False)["mase"].mean()
    models = [m for m in _MODEL_STYLE if m in set(mase["model"])]
    models += sorted(set(mase["model"]) - set(models))
    with _style():
        fig, ax = _figure(ax, figsize)
        for m in models:
            label, color, lw = _MODEL_STYLE.get(m, (m, COLORS["other"], 2.0))
            d = mase[mase["model"] == m].sort_values("horizon")
            ax.plot(d["horizon"], d["mase"], color=color, lw=lw, marker="o", ms=7 if lw > 2 else 5, label=label,
                    zorder=3 if m == "kompetensprognos" else 2)  # fmt: skip
        ax.set_xlabel("Antal år framåt som prognosen gäller")
        ax.set_ylabel("Prognosfel (MASE) – lägre är bättre")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda x, _p: fmt_float(x, 1)))
        ax.set_ylim(bottom=0)
        ax.legend(title="Prognosmetod", fontsize=12, title_fontsize=12, loc="upper left")
        region = _region_of(backtest)
        ax.set_title(
            "Hur träffsäker har modellen varit?" + (f" ({region})" if region else ""), loc="left"
        )
    return fig


def newcomer_channels_bars(
    balance: pd.DataFrame, top: int = 10, ssyk_level: int = 3, ax: Axes | None = None
) -> Figure:
    """Where newcomers come from: stacked bars by channel for the occupations with the most
    openings in the outlook period, with the openings marked.

    Parameters
    ----------
    balance : pandas.DataFrame
        The region's centred ``balance`` table (``newcomers_<channel>`` columns).
    top : int, default 10
    ssyk_level : int, default 3
    ax : matplotlib.axes.Axes, optional

    Examples
    --------
    >>> fig = newcomer_channels_bars(ctx.table("balance"))  # doctest: +SKIP
    """
    from kompetensprognos.labels import CHANNEL_LABELS

    chans = [c for c in CHANNEL_LABELS if f"newcomers_{c}" in balance.columns]
    if not chans:  # the graduates-only balance has no channels: say so instead of failing
        with _style():
            fig, ax = _figure(ax, (11, 2))
            ax.axis("off")
            ax.text(0.5, 0.5, "Nytillskott per väg saknas i underlaget", ha="center", va="center")
        return fig
    _require(balance, ["ssyk", "ssyk_level", "recruitment_need", *[f"newcomers_{c}" for c in chans]], "balance")  # fmt: skip
    rows = balance[balance["ssyk_level"] == ssyk_level].nlargest(top, "recruitment_need")
    rows = rows.iloc[::-1]
    palette = ["#0072B2", "#56B4E9", "#E69F00", "#CC79A7", "#009E73", "#BBBBBB"]
    with _style():
        fig, ax = _figure(ax, (11, 0.6 * len(rows) + 2.5))
        y = np.arange(len(rows))
        left_pos = np.zeros(len(rows))
        left_neg = np.zeros(len(rows))
        for c, color in zip(chans, palette, strict=False):
            v = rows[f"newcomers_{c}"].to_numpy(float)
            pos = np.where(v > 0, v, 0.0)
            neg = np.where(v < 0, v, 0.0)
            ax.barh(y, pos, left=left_pos, color=color, label=CHANNEL_LABELS[c])
            if (neg < 0).any():
                ax.barh(y, neg, left=left_neg, color=color, hatch="//", alpha=0.6)
            left_pos += pos
            left_neg += neg
        ax.scatter(rows["recruitment_need"], y, marker="|", s=400, color="#000000", zorder=3,
                   label="Lediga jobb (nya + ersättning)")  # fmt: skip
        ax.set_yticks(y, [_occupation_tick(c) for c in rows["ssyk"]])
        ax.axvline(0, color="#333333", lw=1)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_int(v)))
        # the axis label on two lines and the legend centred under the whole figure: on one line
        # below the axes both were wider than the figure (the report's PNG has no tight crop)
        ax.set_xlabel("Personer under perioden\n(negativ: del av inflödet som inte hamnar i yrket)")
        handles, names = ax.get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncols=2, frameon=False, fontsize=11)
        ax.set_title("Varifrån nytillskotten kommer")
    return fig
