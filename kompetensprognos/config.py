"""Settings of every model step: light classes the notebook and the CLI can import cheaply.

``Params`` (:mod:`kompetensprognos.params`) embeds :class:`DemandConfig`, :class:`SupplyParams`
and :class:`BalanceParams`. They live here, apart from the model code, so that reading a
region's parameters does not import statsforecast, statsmodels or scipy; the model modules
re-export them under their old names.

Examples
--------
>>> DemandConfig().reconciliation
'mint_wls_struct'
>>> SupplyParams().entry.yh
0.9
>>> BalanceParams().shortage_below
0.9
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from kompetensprognos import classifications, regions
from kompetensprognos.classifications import is_ssyk

__all__ = [
    "DEFAULT_RETENTION",
    "BalanceParams",
    "DemandConfig",
    "EntryShares",
    "Geography",
    "PastChangeNoise",
    "Reconciliation",
    "RetentionShares",
    "ScenarioAdjustment",
    "SupplyParams",
    "education_groups_of",
]

#: Kinds of education in the education tables (``schemas`` uses this tuple).
EDUCATION_TYPES: tuple[str, ...] = ("gymnasium", "yh", "higher")

Reconciliation = Literal["mint_wls_struct", "mint_ols", "bottom_up", "none"]
Geography = Literal["vg", "sweden"]
PastChangeNoise = Literal["poisson", "overdispersed", "persistence", "total"]


class ScenarioAdjustment(BaseModel):
    """Jobs added (or removed, negative) in one municipality and occupation from a year on.

    Examples
    --------
    >>> ScenarioAdjustment(municipality="1499", ssyk="821", year=2027, jobs=400,
    ...                    description="battery plant").jobs
    400.0
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    municipality: str = Field(description="municipality code, quoted in YAML: '1499'")
    ssyk: str = Field(description="SSYK code at the level of the employment table, e.g. '821'")
    year: int = Field(description="first year with the change; it persists afterwards")
    jobs: float
    ramp_years: int = Field(default=1, ge=1, description="years over which the change phases in")
    description: str = ""

    @field_validator("municipality")
    @classmethod
    def _municipality(cls, v: str) -> str:
        if not regions.is_municipality(v):
            raise ValueError(f"{v!r} is not a municipality code — quote codes in YAML, e.g. '1499'")
        return v

    @field_validator("ssyk")
    @classmethod
    def _ssyk(cls, v: str) -> str:
        if not is_ssyk(v):
            raise ValueError(f"{v!r} is not an SSYK 2012 code — quote codes in YAML, e.g. '821'")
        return v


class DemandConfig(BaseModel):
    """Settings of the demand model; the defaults are the backtest-chosen ones."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: str = Field(
        default="mean(theta,drift)",
        description="forecasting method (see docs/forecasting.md), or 'select' / "
        "'select_by_level' (chosen by rolling origins inside the data); the default was chosen "
        "by benchmarks/demand_choice.py on origins 2017-2019",
    )
    reconciliation: Reconciliation = "mint_wls_struct"
    adjust_breaks: bool = True
    end_year: int = 2030
    levels: tuple[float, ...] = (80, 95)
    calibration_origins: int = Field(default=4, ge=0)
    scenarios: tuple[ScenarioAdjustment, ...] = ()
    geography: Geography = Field(
        default="vg",
        description="region hierarchy: 'vg' (subregions and county 14) or 'sweden' (all "
        "counties and the national total '00', plus the VG regions when present)",
    )
    chunk_size: int | None = Field(
        default=None,
        ge=1,
        description="forecast the panel in chunks of this many series (bounds memory; with an "
        "executor, in parallel); None: one chunk. Calibration is pooled over all chunks",
    )


Share = Annotated[float, Field(ge=0.0, le=1.0)]
#: Default share staying in the region per region and education group (assumptions, see
#: docs/supply.md). Larger areas keep more of their graduates; university towns lose many
#: higher-education graduates to Göteborg, Stockholm and abroad.
DEFAULT_RETENTION: dict[str, dict[str, float]] = {
    "goteborgsregionen": {"gymnasium_vocational": 0.85, "gymnasium_preparatory": 0.75,
                          "yh": 0.85, "higher": 0.65},
    "fyrbodal": {"gymnasium_vocational": 0.80, "gymnasium_preparatory": 0.60,
                 "yh": 0.80, "higher": 0.45},
    "sjuharad": {"gymnasium_vocational": 0.80, "gymnasium_preparatory": 0.60,
                 "yh": 0.80, "higher": 0.45},
    "skaraborg": {"gymnasium_vocational": 0.80, "gymnasium_preparatory": 0.60,
                  "yh": 0.80, "higher": 0.45},
    "vastra-gotaland": {"gymnasium_vocational": 0.92, "gymnasium_preparatory": 0.85,
                        "yh": 0.92, "higher": 0.70},
    "delregionerna": {"gymnasium_vocational": 0.92, "gymnasium_preparatory": 0.85,
                      "yh": 0.92, "higher": 0.70},
}  # fmt: skip
_GROUPS = ("gymnasium_vocational", "gymnasium_preparatory", "yh", "higher")


class EntryShares(BaseModel):
    """Share of graduates entering the labour market (rather than studying further).

    Defaults: vocational upper-secondary programmes 0.80 (most start working), preparatory
    programmes 0.30 (most go on to higher education), YH 0.90 (job-oriented, high employment a
    year after), higher education 0.85.

    Examples
    --------
    >>> EntryShares(yh=0.8).yh
    0.8
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    gymnasium_vocational: Share = 0.80
    gymnasium_preparatory: Share = 0.30
    yh: Share = 0.90
    higher: Share = 0.85


class RetentionShares(BaseModel):
    """Share of entrants who stay in the region; ``None`` means the region's default from
    :data:`DEFAULT_RETENTION` (higher education: 0.65 in Göteborgsregionen, 0.45 in the other
    subregions, 0.70 for the county).

    Examples
    --------
    >>> RetentionShares(higher=0.5).higher
    0.5
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    gymnasium_vocational: Share | None = None
    gymnasium_preparatory: Share | None = None
    yh: Share | None = None
    higher: Share | None = None


def _check_education_keys(value: dict[str, float]) -> dict[str, float]:
    programmes = set(classifications.programmes()["code"])
    fields = set(classifications.sun_fields()["code"])
    for key, share in value.items():
        kind, _, code = key.partition("/")
        if kind not in EDUCATION_TYPES or not code:
            raise ValueError(
                f"key {key!r} must be 'type/education' with type one of "
                f"{', '.join(EDUCATION_TYPES)}, e.g. 'gymnasium/VO' or 'yh/48'"
            )
        valid = programmes if kind == "gymnasium" else fields
        if code not in valid:
            raise ValueError(
                f"key {key!r}: {code!r} is not a known "
                f"{'programme code' if kind == 'gymnasium' else 'SUN 2020 field'}"
            )
        if not 0.0 <= float(share) <= 1.0:
            raise ValueError(f"key {key!r}: share {share} must lie between 0 and 1")
    return value


class SupplyParams(BaseModel):
    """Entry and retention parameters of the supply step (embedded as ``supply:`` in ``Params``).

    Parameters
    ----------
    entry : EntryShares
        Share entering work, per education group.
    retention : RetentionShares
        Share staying in the region, per education group (``None``: region default).
    entry_by_education, retention_by_education : dict[str, float]
        Overrides for single educations, keyed ``"type/code"`` (``"gymnasium/VO"``,
        ``"yh/48"``, ``"higher/72"``); they win over the group values.

    Examples
    --------
    >>> p = SupplyParams.model_validate({"entry": {"yh": 0.8},
    ...                                  "retention_by_education": {"higher/72": 0.9}})
    >>> p.entry.yh, p.retention_by_education["higher/72"]
    (0.8, 0.9)
    >>> SupplyParams.model_validate({"entry": {"vh": 0.8}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for SupplyParams
    ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    entry: EntryShares = Field(default_factory=EntryShares)
    retention: RetentionShares = Field(default_factory=RetentionShares)
    entry_by_education: dict[str, float] = Field(default_factory=dict)
    retention_by_education: dict[str, float] = Field(default_factory=dict)

    @field_validator("entry_by_education", "retention_by_education")
    @classmethod
    def _valid_keys(cls, value: dict[str, float]) -> dict[str, float]:
        return _check_education_keys(value)

    def rates(self, region: str, educations: pd.DataFrame) -> pd.DataFrame:
        """Entry and retention per education for one region.

        Parameters
        ----------
        region : str
            Region id (one of :data:`kompetensprognos.regions.ALL_REGION_IDS`).
        educations : pandas.DataFrame
            ``type, education`` rows.

        Returns
        -------
        pandas.DataFrame
            ``type, education, group, entry, retention``.

        Examples
        --------
        >>> e = pd.DataFrame({"type": ["gymnasium", "higher"], "education": ["VO", "72"]})
        >>> SupplyParams().rates("fyrbodal", e)[["entry", "retention"]].to_numpy().tolist()
        [[0.8, 0.8], [0.85, 0.45]]
        """
        regions.get_region(region)
        out = educations[["type", "education"]].drop_duplicates().reset_index(drop=True)
        out["group"] = education_groups_of(out)
        defaults = DEFAULT_RETENTION.get(region, DEFAULT_RETENTION["vastra-gotaland"])
        ret = {g: getattr(self.retention, g) for g in _GROUPS}
        ret = {g: (defaults[g] if v is None else v) for g, v in ret.items()}
        key = out["type"] + "/" + out["education"]
        out["entry"] = out["group"].map(lambda g: getattr(self.entry, g)).astype(float)
        out["retention"] = out["group"].map(ret).astype(float)
        out["entry"] = key.map(self.entry_by_education).fillna(out["entry"]).astype(float)
        out["retention"] = key.map(self.retention_by_education).fillna(out["retention"])
        out["retention"] = out["retention"].astype(float)
        return out


def education_groups_of(educations: pd.DataFrame) -> pd.Series:
    """Parameter group of each education: ``gymnasium_vocational``, ``gymnasium_preparatory``,
    ``yh`` or ``higher`` (programme kind from :func:`classifications.programmes`).

    Examples
    --------
    >>> education_groups_of(pd.DataFrame({"type": ["gymnasium", "gymnasium", "yh"],
    ...                                   "education": ["VO", "NA", "48"]})).tolist()
    ['gymnasium_vocational', 'gymnasium_preparatory', 'yh']
    """
    kind = classifications.programmes().set_index("code")["kind"]
    gym = educations["type"] == "gymnasium"
    prep = educations["education"].map(kind).eq("högskoleförberedande")
    group = np.where(
        gym, np.where(prep, "gymnasium_preparatory", "gymnasium_vocational"), educations["type"]
    )
    return pd.Series(group, index=educations.index, name="group")


class BalanceParams(BaseModel):
    """Thresholds of the balance classification (embedded as ``balance:`` in ``Params``).

    Parameters
    ----------
    shortage_below : float, default 0.9
        ``brist`` when new entrants cover less than this share of the recruitment need.
    surplus_above : float, default 1.1
        ``överskott`` when they exceed the need by more than this factor; ``balans`` between.
        The ±10 % band is about the size of the 80 % interval of a typical occupation's need
        over eight years, so a smaller band would classify noise.
    min_need : float, default 10
        Occupations (and education groups) needing fewer people than this over the whole period
        get ``för litet underlag`` and no p_shortage: a ratio of two numbers below ten says little.
    af_region : str, default "14"
        County whose yrkesbarometer rows are compared with every region (all report regions lie
        in Västra Götaland, county 14; Kungsbacka, in Halland, is ignored).
    residual_shrinkage : float, optional
        Centred balance: weight ``n / (n + k)`` of an occupation's own "other channels" share
        (``n`` its measured newcomers); default ``None`` = empirical Bayes (``docs/balance.md``).
    gross_separations : bool, default True
        Centred balance: separations = net cohort exits + the recent past's churn, gross like
        the newcomer channels; False gives the net convention.
    centre_outlook : bool, default True
        Centred balance: read each occupation's outlook against the region's median occupation
        (the point ``balance_ratio`` divided by its median over the assessed SSYK 3 occupations,
        when there are at least ten), so a shift that moves every occupation alike — the demand
        forecast's damped growth — does not decide the statuses (``docs/balance.md``).
    today_weight : float, default 1.0
        Centred balance: exponent of today's state where a ratio of it is known (the synthetic
        truth's last two years against the recent past, as a yrkesbarometer would know it):
        ``balance_ratio`` = today's ratio ** ``today_weight`` × the model's relative growth, as
        SCB carries today's situation forward; 0 ignores it.
    shrink_past_change : bool, default True
        Centred balance: the recent past's average employment change per occupation is shrunk
        empirical-Bayes toward the region's growth rate (register noise in its end years,
        :func:`kompetensprognos.recruitment.shrunk_change`), as the outlook's forecast is
        smooth; False takes the observed change as it is.
    past_change_noise : {"poisson", "overdispersed", "persistence", "total"}, default "poisson"
        How that shrinkage estimates the transient part of an occupation's change
        (:func:`kompetensprognos.recruitment.shrunk_change`): counting noise of the end years
        (``"poisson"``), Poisson times the window's pooled year-to-year overdispersion
        (``"overdispersed"``), the persistent spread from the covariance of the window's two
        halves (``"persistence"``), or every occupation at the region's rate (``"total"``).

    Examples
    --------
    >>> BalanceParams(shortage_below=0.8).surplus_above
    1.1
    >>> BalanceParams.model_validate({"shortage": 0.8})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pydantic_core._pydantic_core.ValidationError: 1 validation error for BalanceParams
    ...
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    shortage_below: float = Field(default=0.9, gt=0.0)
    surplus_above: float = Field(default=1.1, gt=0.0)
    min_need: float = Field(default=10.0, ge=0.0)
    af_region: str = Field(default=regions.VG_COUNTY, pattern=r"^\d{2}$")
    past_start: int = Field(default=2016, ge=1990, le=2100)
    past_end: int = Field(default=2022, ge=1990, le=2100)
    changer_rate: float = Field(default=0.02, ge=0.0, le=0.5)
    residual_shrinkage: float | None = Field(default=None, ge=0.0)
    crosswalk_concentration: float = Field(default=200.0, gt=0.0)
    exit_rate_sd: float = Field(default=0.1, ge=0.0)
    gross_separations: bool = True
    centre_outlook: bool = True
    today_weight: float = Field(default=1.0, ge=0.0, le=5.0)
    shrink_past_change: bool = True
    past_change_noise: PastChangeNoise = "poisson"

    @model_validator(mode="after")
    def _ordered(self) -> BalanceParams:
        if self.shortage_below > self.surplus_above:
            raise ValueError(
                f"shortage_below {self.shortage_below} is above surplus_above "
                f"{self.surplus_above}; the shortage threshold must be the lower one"
            )
        return self


class GraduateConfig(BaseModel):
    """Settings of the graduate projection (:class:`kompetensprognos.education.GraduateModel`).

    Parameters
    ----------
    end_year : int, default 2030
        Last forecast year; must lie after the last observed year of ``education_output``.
    n_sims : int, default 1000
        Simulated paths per series.
    seed : int, default 0
        Random seed of the paths.
    method : str, default "mean(ets,dotheta)"
        Engine method for YH and higher-education series
        (:func:`kompetensprognos.models.parse_method`).
    cohort : bool or "auto", default "auto"
        Drive YH/higher by the 19–34 cohort (rate × cohort); ``"auto"`` chooses per type by
        rolling-origin MASE.
    gymnasium_model : {"auto", "starters", "ratio"}, default "auto"
        Upper-secondary cohort model; ``"auto"`` chooses by rolling-origin MASE.
    n_cal : int, optional
        Earlier origins used for interval calibration (default: the horizon).
    damping : float, default 0.5
        Yearly damping of the share and completion trends beyond the last data year.

    Examples
    --------
    >>> GraduateConfig(end_year=2028, n_sims=200).gymnasium_model
    'auto'
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    end_year: int = Field(default=2030, ge=2000, le=2100)
    n_sims: int = Field(default=1000, ge=1)
    seed: int = 0
    method: str = "mean(ets,dotheta)"
    cohort: bool | Literal["auto"] = "auto"
    gymnasium_model: Literal["auto", "starters", "ratio"] = "auto"
    n_cal: int | None = Field(default=None, ge=1)
    damping: float = Field(default=0.5, ge=0.0, le=1.0)


__all__ += ["GraduateConfig"]
