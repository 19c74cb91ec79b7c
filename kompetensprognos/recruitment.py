"""Recruitment need = expansion demand (if positive) + replacement demand, with intervals.

For an outlook period ``start..end`` (default 2023–2030) and each occupation of a region:

* **expansion** = employment in ``end`` − employment in ``start − 1``, both on the latest data
  basis (so the 2023 register change is not counted as growth); it may be negative;
* **replacement** = exits of incumbents during the period (cohort method,
  :mod:`kompetensprognos.replacement`), following the forecast employment path;
* **recruitment need** = ``max(expansion, 0) + replacement``.

Intervals (80 %) come from simulation: employment in ``end`` is drawn from a normal distribution
matching the calibrated 80 % forecast interval (truncated at zero), replacement from
:func:`kompetensprognos.replacement.simulate_replacement`; the two are drawn independently.
:func:`simulate_need` returns the draws themselves, for the probability of shortage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from kompetensprognos.dataset import Dataset
from kompetensprognos.demand import DemandResult
from kompetensprognos.errors import KompetensprognosError

__all__ = ["NEED_COLUMNS", "recruitment_need", "simulate_need"]

NEED_COLUMNS = [
    "region", "ssyk", "ssyk_level", "period_start", "period_end", "expansion", "replacement",
    "recruitment_need", "recruitment_need_lo80", "recruitment_need_hi80",
]  # fmt: skip
_Z80 = float(norm.ppf(0.9))


def _ancestors(codes: pd.Series, level: int) -> pd.Series:
    return pd.Series("total", index=codes.index) if level == 0 else codes.str[:level]


def _up_levels(rep3: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Sum SSYK 3 replacement to SSYK 2, 1 and the total (coherent by construction)."""
    frames = [
        rep3.assign(ssyk=_ancestors(rep3["ssyk"], level)).groupby(keys)["replacement"].sum()
        for level in (3, 2, 1, 0)
    ]
    return pd.concat(frames)


def _period_ends(
    result: DemandResult, region: str, start: int, end: int
) -> tuple[pd.Series, pd.DataFrame]:
    """Employment (latest basis) in the year before the period, and the rows of its last year."""
    path = result.employment_path(region)
    base = path[path["year"] == start - 1].set_index("ssyk")["employed"]
    return base, path[path["year"] == end].set_index("ssyk")


def _totals(result: DemandResult, region: str) -> pd.DataFrame:
    path = result.employment_path(region, level=3)
    return path[["region", "ssyk", "year", "employed"]]


def simulate_need(
    result: DemandResult,
    dataset: Dataset,
    region: str,
    start: int = 2023,
    end: int = 2030,
    n_sims: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Simulated expansion, replacement and recruitment need per occupation (all SSYK levels).

    Parameters
    ----------
    result : DemandResult
        Fitted demand model (:meth:`kompetensprognos.demand.DemandModel.fit`).
    dataset : Dataset
        The dataset the model was fitted on (for the age structure).
    region : str
        Region id, e.g. ``"skaraborg"``.
    start, end : int
        Outlook period, inclusive.
    n_sims : int, default 1000
        Number of draws.
    seed : int, default 0
        Random seed.

    Returns
    -------
    pandas.DataFrame
        ``region, ssyk, ssyk_level, sim, expansion, replacement, recruitment_need``.
    """
    from kompetensprognos.replacement import simulate_replacement

    if start > end:
        raise KompetensprognosError(f"outlook period start {start} is after its end {end}")
    if end > result.config.end_year:
        raise KompetensprognosError(
            f"outlook period ends {end} but the demand forecast ends {result.config.end_year}; "
            "raise the demand model's end_year"
        )
    base, fin = _period_ends(result, region, start, end)
    levels = fin["ssyk_level"]
    rng = np.random.default_rng(seed)
    mean = fin["employed"].to_numpy(float)
    if "lo80" in fin and fin["lo80"].notna().any():
        sd = ((fin["hi80"] - fin["lo80"]).to_numpy(float) / (2 * _Z80)).clip(min=0)
        sd = np.nan_to_num(sd)
    else:  # the period ends in an observed year: no forecast uncertainty
        sd = np.zeros_like(mean)
    draws = np.maximum(mean[:, None] + sd[:, None] * rng.standard_normal((len(mean), n_sims)), 0.0)
    expansion = draws - base.reindex(fin.index).fillna(0.0).to_numpy(float)[:, None]

    rep3 = simulate_replacement(
        dataset, region, start, end, n_sims=n_sims, seed=seed + 1, totals=_totals(result, region)
    )
    rep3 = rep3[rep3["ssyk"].isin(set(levels.index[levels == 3]))]  # occupations in the demand data
    rep = (
        _up_levels(rep3, ["ssyk", "sim"])
        .unstack("sim")
        .reindex(index=fin.index, columns=range(n_sims))
        .fillna(0.0)
    )
    out = pd.DataFrame(
        {
            "region": region,
            "ssyk": np.repeat(fin.index.to_numpy(), n_sims),
            "ssyk_level": np.repeat(levels.reindex(fin.index).to_numpy(), n_sims),
            "sim": np.tile(np.arange(n_sims), len(fin)),
            "expansion": expansion.reshape(-1),
            "replacement": rep.to_numpy(float).reshape(-1),
        }
    )
    out["recruitment_need"] = out["expansion"].clip(lower=0) + out["replacement"]
    return out


def recruitment_need(
    result: DemandResult,
    dataset: Dataset,
    region: str,
    start: int = 2023,
    end: int = 2030,
    n_sims: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """The ``recruitment_need.csv`` table for one region and outlook period.

    Parameters
    ----------
    result, dataset, region, start, end, n_sims, seed
        As in :func:`simulate_need`.

    Returns
    -------
    pandas.DataFrame
        :data:`NEED_COLUMNS`: point values (expansion from the reconciled forecast, replacement
        from the cohort model) and the 10th/90th percentiles of the simulated need.

    Examples
    --------
    >>> from kompetensprognos.demand import DemandModel
    >>> from kompetensprognos.dataset import load_dataset
    >>> ds = load_dataset("demo")  # doctest: +SKIP
    >>> need = recruitment_need(DemandModel().fit(ds), ds, "skaraborg")  # doctest: +SKIP
    """
    from kompetensprognos.replacement import replacement_demand

    sims = simulate_need(result, dataset, region, start, end, n_sims, seed)
    base, fin = _period_ends(result, region, start, end)
    rep = replacement_demand(dataset, region, start, end, totals=_totals(result, region))
    rep = rep[(rep["ssyk_level"] == 3) & rep["ssyk"].isin(set(fin.index[fin["ssyk_level"] == 3]))]
    rep = _up_levels(rep, ["ssyk"]).to_frame("replacement")
    q = sims.groupby("ssyk")["recruitment_need"].quantile([0.1, 0.9]).unstack()
    out = pd.DataFrame({"ssyk": fin.index, "ssyk_level": fin["ssyk_level"].to_numpy()})
    out["region"] = region
    out["period_start"], out["period_end"] = start, end
    out["expansion"] = (fin["employed"] - base.reindex(fin.index).fillna(0.0)).to_numpy()
    out["replacement"] = rep["replacement"].reindex(fin.index).fillna(0.0).to_numpy()
    out["recruitment_need"] = out["expansion"].clip(lower=0) + out["replacement"]
    out["recruitment_need_lo80"] = np.minimum(
        q[0.1].reindex(fin.index).to_numpy(), out["recruitment_need"]
    )
    out["recruitment_need_hi80"] = np.maximum(
        q[0.9].reindex(fin.index).to_numpy(), out["recruitment_need"]
    )
    return (
        out[NEED_COLUMNS].sort_values(["ssyk_level", "ssyk"], kind="stable").reset_index(drop=True)
    )
