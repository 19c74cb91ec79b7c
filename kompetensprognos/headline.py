"""The headline numbers of one region's outlook: one rule for the index page, the summary and sweeps.

:func:`headline` reads a region's output tables and returns the numbers that are quoted on top of
everything: employment in the last observed year and at the end of the period, the total
recruitment need over the period (split into expansion and replacement, with its 80 % interval),
and how many occupations are in each balance status at the finest SSYK level of the balance table.
The summary text (:func:`kompetensprognos.narrative.summary`), the landing page and scenario sweeps
all take their figures from here, so the same number is the same everywhere.

Examples
--------
>>> import pandas as pd
>>> need = pd.DataFrame({"ssyk": ["total", "222"], "ssyk_level": [0, 3],
...     "period_start": 2023, "period_end": 2030, "expansion": [100.0, 10.0],
...     "replacement": [250.4, 20.0], "recruitment_need": [350.4, 30.0]})
>>> h = headline({"recruitment_need": need}, period=(2023, 2030))
>>> h.recruitment_need, h.expansion, h.replacement
(350, 100, 250)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from kompetensprognos.labels import STATUS_ORDER

__all__ = ["STATUS_ORDER", "Headline", "finest_level", "headline", "period_rows"]


@dataclass(frozen=True)
class Headline:
    """The headline numbers of one region (``None`` where a table was not produced).

    Attributes
    ----------
    last_year, employed_last : int | None
        Last observed year and total employment that year.
    end_year, employed_end, employed_end_lo80, employed_end_hi80 : int | float | None
        Forecast total employment at the end of the period, with its 80 % interval.
    recruitment_need, expansion, replacement : int | None
        Totals over the period, rounded to whole people.
    recruitment_need_lo80, recruitment_need_hi80 : float | None
        The need's 80 % interval.
    period_start, period_end : int | None
        The outlook period the figures are for.
    new_entrants : int | None
        Newcomers over the period (the ``total`` row of ``balance``), rounded.
    status_counts : dict[str, int]
        Occupations per status at the finest SSYK level (every status, assessed or not).
    assessed : int
        Occupations at that level (all statuses).
    ssyk_level : int | None
        The level counted.
    top_shortage : list[tuple[str, float]]
        Up to five ``(ssyk, p_shortage)`` with the highest probability of shortage.
    """

    last_year: int | None = None
    employed_last: float | None = None
    end_year: int | None = None
    employed_end: float | None = None
    employed_end_lo80: float | None = None
    employed_end_hi80: float | None = None
    recruitment_need: int | None = None
    expansion: int | None = None
    replacement: int | None = None
    recruitment_need_lo80: float | None = None
    recruitment_need_hi80: float | None = None
    period_start: int | None = None
    period_end: int | None = None
    new_entrants: int | None = None
    status_counts: dict[str, int] = field(default_factory=dict)
    assessed: int = 0
    ssyk_level: int | None = None
    top_shortage: list[tuple[str, float]] = field(default_factory=list)

    @property
    def brist(self) -> int | None:
        """Occupations in shortage (``None`` without a balance table)."""
        return self.status_counts.get("brist") if self.status_counts else None

    def as_dict(self) -> dict[str, Any]:
        """Plain values (JSON-ready) with ``brist`` added."""
        out = asdict(self) | {"brist": self.brist}
        out["top_shortage"] = [list(t) for t in self.top_shortage]  # as it reads back from JSON
        return out


def period_rows(need: pd.DataFrame, period: tuple[int, int]) -> pd.DataFrame:
    """The rows of a recruitment-need table for ``period`` (all rows when it has no period columns)."""
    if {"period_start", "period_end"} <= set(need.columns):
        hit = need[(need["period_start"] == period[0]) & (need["period_end"] == period[1])]
        if len(hit):
            return hit
    return need


def finest_level(balance: pd.DataFrame) -> pd.DataFrame:
    """Rows of a balance table at its finest SSYK level, without the total row."""
    bal = balance[balance["ssyk"].astype(str) != "total"]
    if "ssyk_level" in bal.columns and bal["ssyk_level"].notna().any():
        bal = bal[bal["ssyk_level"] == bal["ssyk_level"].max()]
    return bal


def _opt(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _rounded(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else round(float(value))


def _period_of(tables: Mapping[str, pd.DataFrame]) -> tuple[int, int] | None:
    need = tables.get("recruitment_need")
    if need is not None and {"period_start", "period_end", "ssyk"} <= set(need.columns):
        tot = need[need["ssyk"].astype(str) == "total"]
        if len(tot):
            return int(tot["period_start"].iloc[0]), int(tot["period_end"].iloc[0])
    ef = tables.get("employment_forecast")
    if ef is not None and "kind" in ef.columns and (ef["kind"] == "forecast").any():
        fc = ef[ef["kind"] == "forecast"]
        return int(fc["year"].min()), int(fc["year"].max())
    return None


def headline(tables: Mapping[str, pd.DataFrame], period: tuple[int, int] | None = None) -> Headline:
    """The headline numbers of one region from its output tables.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The region's tables (``employment_forecast``, ``recruitment_need``, ``balance``; any may
        be missing).
    period : (int, int), optional
        Outlook period, inclusive; by default the period of the ``recruitment_need`` table (or
        the forecast years).

    Returns
    -------
    Headline
    """
    values: dict[str, Any] = {}
    period = period or _period_of(tables)
    if period is None:
        return Headline()
    values |= {"period_start": period[0], "period_end": period[1]}
    ef = tables.get("employment_forecast")
    if ef is not None and len(ef):
        tot = ef[ef["ssyk"].astype(str) == "total"]
        obs = tot[tot["kind"] == "observed"] if "kind" in tot else tot.iloc[0:0]
        if len(obs):
            last = obs.loc[obs["year"].idxmax()]
            values |= {"last_year": int(last["year"]), "employed_last": float(last["employed"])}
        fc = tot[(tot.get("kind") == "forecast") & (tot["year"] == period[1])]
        if len(fc):
            row = fc.iloc[0]
            values |= {
                "end_year": period[1],
                "employed_end": float(row["employed"]),
                "employed_end_lo80": _opt(row.get("lo80")),
                "employed_end_hi80": _opt(row.get("hi80")),
            }
    need = tables.get("recruitment_need")
    if need is not None and len(need):
        tot = period_rows(need, period)
        tot = tot[tot["ssyk"].astype(str) == "total"]
        if len(tot):
            row = tot.iloc[0]
            values |= {
                "recruitment_need": _rounded(row.get("recruitment_need")),
                "expansion": _rounded(row.get("expansion")),
                "replacement": _rounded(row.get("replacement")),
                "recruitment_need_lo80": _opt(row.get("recruitment_need_lo80")),
                "recruitment_need_hi80": _opt(row.get("recruitment_need_hi80")),
            }
    bal = tables.get("balance")
    if bal is not None and len(bal) and "status" in bal.columns:
        tot = bal[bal["ssyk"].astype(str) == "total"]
        if len(tot) and "new_entrants" in tot.columns:
            values["new_entrants"] = _rounded(tot["new_entrants"].iloc[0])
        fine = finest_level(bal)
        counts = fine["status"].value_counts()
        status_counts = {s: int(counts.get(s, 0)) for s in STATUS_ORDER}
        status_counts |= {str(s): int(n) for s, n in counts.items() if s not in STATUS_ORDER}
        values |= {
            "status_counts": status_counts,
            "assessed": len(fine),
            "ssyk_level": int(fine["ssyk_level"].max())
            if "ssyk_level" in fine and fine["ssyk_level"].notna().any()
            else None,
        }
        if "p_shortage" in fine.columns:
            sort_by = [c for c in ("p_shortage", "balance_ratio") if c in fine.columns]
            top = fine.dropna(subset=["p_shortage"]).sort_values(
                sort_by, ascending=[False, True][: len(sort_by)], kind="stable"
            )
            top = top[top["p_shortage"] > 0].head(5)
            values["top_shortage"] = [
                (str(r.ssyk), float(r.p_shortage)) for r in top.itertuples(index=False)
            ]
    return Headline(**values)
