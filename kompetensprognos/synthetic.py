"""The synthetic demo dataset: deterministic, seeded, realistic in shape, and labelled as synthetic.

Everything a report shows from this dataset is *syntetiska demonstrationsdata*. The generator is a
small stock–flow simulation, not a sample of real people:

* **Population** per municipality, single year of age and sex: a cohort-component model (ageing,
  Gompertz mortality, fertility, age-profiled net migration) from 2008, observed 2014–2024 and
  projected 2025–2035 (without noise).
* **Employment** per municipality × SSYK 3 × age band: each occupation's workforce is followed
  through ten age bands (16-24 … 65-69) with ageing, age-specific exits (retirement peaks at
  60-69) and entries of young workers, so replacement demand can be estimated from how cohorts
  shrink. Sizes, growth, sex and age profiles are calibrated to SCB's national statistics
  (``data/demo_calibration.csv``, derived by ``tools/calibrate_demo.py``), with subregional
  occupation mixes (industry in Skaraborg/Fyrbodal/Sjuhärad, services and IT in Göteborg).
* **Observation**: counts are Poisson draws (many small and zero cells), the 2020 source switch
  (RAMS → BAS) shifts each occupation's level slightly, and from 2023 the register covers ages
  16-69 plus imputed occupations, which lifts employment by about 8–9 % with no real change.
* **Education output** per subregion (upper-secondary programmes from the 16-year-olds, YH and
  higher education by SUN 2020 field) and an education → occupation **crosswalk**.

See ``docs/demo-data.md`` for the assumptions. The public entry point is :func:`generate_demo`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import numpy as np
import pandas as pd

from kompetensprognos import regions
from kompetensprognos.datamodel import Dataset, Manifest, SeriesBreak
from kompetensprognos.schemas import AGE_BANDS, EDUCATION_AGE_BANDS, FLOW_COLUMNS

__all__ = ["DEFAULT_SEED", "DemoConfig", "generate_demo"]

DEFAULT_SEED = 20241231
FIRST_YEAR, LAST_OBSERVED, LAST_PROJECTED = 2014, 2024, 2035
_SIM_START = 2008  # population burn-in so that gymnasium starters exist three years before 2014


class DemoConfig:
    """Settings of the demo generator (all have working defaults).

    Parameters
    ----------
    seed : int
        Random seed; the same seed gives the same dataset, byte for byte.
    county_employment_2022 : float
        Target of observed employees 16–64 in county 14 in 2022 (≈ 0.8 M, SCB).
    break_2020 : float
        Standard deviation of the per-occupation level shift at the RAMS → BAS switch.
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        county_employment_2022: float = 800_000,
        break_2020: float = 0.02,
    ) -> None:
        self.seed = seed
        self.county_employment_2022 = county_employment_2022
        self.break_2020 = break_2020


# --- package tables ----------------------------------------------------------------------------


def _read_csv(name: str) -> pd.DataFrame:
    with resources.files("kompetensprognos.data").joinpath(name).open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype={"code": str, "ssyk": str})


@cache
def _calibration() -> pd.DataFrame:
    return _read_csv("demo_calibration.csv")


@cache
def _municipalities() -> pd.DataFrame:
    sizes = _read_csv("demo_municipalities.csv")
    vg = regions.municipalities("vg")[["code", "name", "subregion"]]
    return (
        vg.merge(sizes, on="code", how="left", validate="1:1")
        .sort_values("code")
        .reset_index(drop=True)
    )


# --- population --------------------------------------------------------------------------------

_AGES = np.arange(101)


def _mortality() -> np.ndarray:
    """Yearly death probability by age (Gompertz, Swedish-like: e0 ≈ 82)."""
    q = 0.00004 * np.exp(0.0955 * _AGES)
    q[0] = 0.0025
    return np.minimum(q, 0.6)


def _migration_profile() -> np.ndarray:
    """Age profile of net in-migration (young adults, and their children)."""
    prof = np.exp(-0.5 * ((_AGES - 25) / 5.0) ** 2) + 0.25 * np.exp(-0.5 * ((_AGES - 3) / 3.0) ** 2)
    return prof / prof.sum()


def _population(rng: np.random.Generator, muni: pd.DataFrame) -> np.ndarray:
    """Population [year, municipality, sex, age] for _SIM_START..LAST_PROJECTED (31 Dec)."""
    n_m = len(muni)
    years = np.arange(_SIM_START, LAST_PROJECTED + 1)
    q = _mortality()
    surv = np.cumprod(np.r_[1.0, 1 - q[:-1]])
    is_gr = (muni["subregion"] == "goteborgsregionen").to_numpy()
    # older age structure outside the Göteborg region, younger inside
    tilt = np.where(is_gr, -0.004, 0.006)[:, None]
    base = surv[None, :] * np.exp(tilt * (_AGES[None, :] - 40))
    base[:, 19:30] *= np.where(is_gr, 1.25, 0.85)[:, None]  # students and young workers
    base = base / base.sum(axis=1, keepdims=True)
    start = muni["population_2014"].to_numpy(float) * 0.965  # 2008 level, ~0.6 %/yr growth to 2014
    pop = np.zeros((len(years), n_m, 2, 101))
    pop[0, :, 0] = start[:, None] * base * 0.505  # men
    pop[0, :, 1] = start[:, None] * base * 0.495
    net_rate = np.where(is_gr, 0.0075, 0.0030) + rng.normal(0, 0.0015, n_m)
    mig = _migration_profile()
    fert_age = np.exp(-0.5 * ((_AGES - 31) / 5.5) ** 2)
    fert_age /= fert_age.sum()
    tfr = 1.75
    for i in range(1, len(years)):
        prev = pop[i - 1]
        cur = np.zeros_like(prev)
        cur[:, :, 1:] = prev[:, :, :-1] * (1 - q[None, None, :-1])
        cur[:, :, 100] += prev[:, :, 100] * (1 - q[100])
        births = (prev[:, 1, :] * fert_age[None, :]).sum(axis=1) * tfr
        if i == 1:  # match the first simulated births to the base pyramid's youngest cohort
            birth_level = pop[0, :, :, 0].sum(axis=1) / np.maximum(births, 1.0)
        births = births * birth_level
        cur[:, 0, 0] = births * 0.513
        cur[:, 1, 0] = births * 0.487
        total = prev.sum(axis=(1, 2))
        shock = rng.normal(0, 0.002, n_m) if years[i] <= LAST_OBSERVED else 0.0
        migrants = total * (net_rate + shock)
        cur += migrants[:, None, None] * 0.5 * mig[None, None, :]
        pop[i] = np.maximum(cur, 0)
    return np.round(pop)


# --- employment --------------------------------------------------------------------------------

#: Yearly exit rate by age band (besides ageing out of 65-69), before occupation multipliers.
_EXIT = np.array([0.07, 0.045, 0.03, 0.025, 0.022, 0.022, 0.025, 0.035, 0.11, 0.32])
#: Yearly share of a band that moves up to the next band (1 / band width in years).
_AGEING = np.array([1 / 9] + [1 / 5] * 9)
#: Where new entrants start, by age band.
_ENTRY = np.array([0.42, 0.27, 0.13, 0.07, 0.045, 0.03, 0.02, 0.01, 0.005, 0.0])
#: Observed/true ratio from 2023 by band: model-imputed occupations (and 65-69 becomes visible).
_IMPUTED_2023 = np.array([1.14, 1.01, 1.01, 1.01, 1.01, 1.02, 1.03, 1.05, 1.07, 1.0])

#: Subregional occupation-mix multipliers by SSYK prefix (longest prefix wins).
_MIX: dict[str, dict[str, float]] = {
    "goteborgsregionen": {
        "2": 1.25,
        "25": 1.8,
        "21": 1.5,
        "24": 1.4,
        "1": 1.1,
        "6": 0.35,
        "8": 0.8,
        "7": 0.85,
    },
    "fyrbodal": {"2": 0.8, "25": 0.5, "6": 1.8, "8": 1.3, "7": 1.25, "53": 1.15, "81": 1.5},
    "sjuharad": {"2": 0.85, "25": 0.6, "6": 1.4, "8": 1.3, "81": 1.4, "52": 1.2, "43": 1.3},
    "skaraborg": {
        "2": 0.75,
        "25": 0.55,
        "6": 2.3,
        "8": 1.45,
        "7": 1.3,
        "82": 1.8,
        "72": 1.4,
        "01": 3.0,
    },
}
_GROWTH_SHIFT = {
    "goteborgsregionen": 0.004,
    "fyrbodal": -0.004,
    "sjuharad": -0.002,
    "skaraborg": -0.003,
}
#: Municipality jobs per inhabitant, relative (commuting centres attract workers).
_CENTRES = {
    "1480": 1.3,
    "1481": 1.3,
    "1490": 1.2,
    "1496": 1.15,
    "1488": 1.15,
    "1485": 1.1,
    "1494": 1.05,
}


def _mix_factor(ssyk: pd.Series, subregion: str) -> np.ndarray:
    table = _MIX[subregion]
    out = np.ones(len(ssyk))
    for i, code in enumerate(ssyk):
        for k in (3, 2, 1):
            if code[:k] in table:
                out[i] = table[code[:k]]
                break
    return out


def _employment(
    rng: np.random.Generator, muni: pd.DataFrame, pop: np.ndarray, cfg: DemoConfig
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """True and observed employment [year, municipality, occupation, band] for 2014–2024.

    Returns the observed counts (integers, Poisson), the per-cell women share and the truth:
    ``employed`` [year, m, o] and ``exits`` [year, m, o] (separations during the year, incl.
    ageing out and shrinkage), in the units of the observed counts.
    """
    cal = _calibration()
    n_m, n_o, n_b = len(muni), len(cal), len(AGE_BANDS)
    years = np.arange(FIRST_YEAR, LAST_OBSERVED + 1)
    sub = muni["subregion"].to_numpy()

    # sizes in 2014: jobs per municipality × occupation mix × lognormal cell noise
    pop14 = pop[FIRST_YEAR - _SIM_START].sum(axis=(1, 2))
    centre = np.array(
        [
            _CENTRES.get(c, 0.72 if s == "goteborgsregionen" else 0.95)
            for c, s in zip(muni["code"], sub, strict=True)
        ]
    )
    jobs = pop14 * centre
    mix = np.vstack([_mix_factor(cal["ssyk"], s) for s in sub])  # [m, o]
    share = cal["size_share"].to_numpy()[None, :] * mix * rng.lognormal(0, 0.45, (n_m, n_o))
    share /= share.sum(axis=1, keepdims=True)
    total0 = jobs[:, None] * share  # [m, o], rescaled below

    # age profile per occupation (9 calibrated bands + a 65-69 tail), older outside Göteborg
    prof = cal[[f"age_{b.replace('-', '_')}" for b in AGE_BANDS[:-1]]].to_numpy()
    prof = np.c_[prof, prof[:, -1] * 0.3]
    age_tilt = (
        np.where(sub == "goteborgsregionen", 0.95, 1.06)[:, None, None]
        ** np.arange(n_b)[None, None, :]
    )
    stock = total0[:, :, None] * prof[None, :, :] * age_tilt
    stock *= (total0 / stock.sum(axis=2))[:, :, None]

    growth = (
        cal["growth"].to_numpy()[None, :] * 0.8
        + np.array([_GROWTH_SHIFT[s] for s in sub])[:, None]
        + rng.normal(0, 0.008, (n_m, n_o))
    )
    exit_mult = rng.lognormal(0, 0.15, n_o)[None, :, None]
    true = np.zeros((len(years), n_m, n_o, n_b))
    exits = np.zeros((len(years), n_m, n_o))
    true[0] = stock
    target = stock.sum(axis=2)
    for i in range(1, len(years)):
        prev = true[i - 1]
        stay = prev * (1 - _AGEING) * (1 - np.minimum(_EXIT * exit_mult, 0.9))
        moved = prev * _AGEING * (1 - np.minimum(_EXIT * exit_mult, 0.9))
        cur = stay.copy()
        cur[:, :, 1:] += moved[:, :, :-1]
        exits[i] = prev.sum(axis=2) - cur.sum(axis=2)
        year_shock = rng.normal(0, 0.012, n_o)[None, :]  # occupation-wide cycles
        target = target * (1 + growth + year_shock + rng.normal(0, 0.01, (n_m, n_o)))
        gap = target - cur.sum(axis=2)
        cur += np.maximum(gap, 0)[:, :, None] * _ENTRY[None, None, :]
        shrink = np.where(gap < 0, target / np.maximum(cur.sum(axis=2), 1e-9), 1.0)
        true[i] = cur * shrink[:, :, None]
        exits[i] += cur.sum(axis=2) - true[i].sum(axis=2)

    # observation: register coverage, source switch, 2023 age range and imputation
    coverage = np.ones((len(years), n_o, n_b))
    coverage[:, :, -1] = np.where(years >= 2023, 1.0, 0.0)[:, None]
    shift_2020 = np.exp(rng.normal(-0.008, cfg.break_2020, n_o))
    coverage[years >= 2020] *= shift_2020[None, :, None]
    coverage[years >= 2023] *= _IMPUTED_2023[None, None, :]
    expected = true * coverage[:, None, :, :]
    i22 = 2022 - FIRST_YEAR
    county = (muni["code"].str[:2] == regions.VG_COUNTY).to_numpy()
    scale = cfg.county_employment_2022 / expected[i22, county].sum()
    observed = rng.poisson(expected * scale).astype(float)
    women = np.clip(
        cal["women_share"].to_numpy()[None, :] + rng.normal(0, 0.04, (n_m, n_o)), 0.01, 0.99
    )
    truth = {"employed": true.sum(axis=3) * scale, "exits": exits * scale}
    return observed, women, truth


# --- education ---------------------------------------------------------------------------------

#: National programme: (share of starters, completion within 3 years, yearly drift of the share)
_PROGRAMMES: dict[str, tuple[float, float, float]] = {
    "SA": (0.17, 0.74, 0.002), "EK": (0.14, 0.80, 0.004), "NA": (0.13, 0.83, 0.001),
    "TE": (0.10, 0.75, 0.006), "ES": (0.06, 0.72, -0.01), "HU": (0.01, 0.74, 0.0),
    "BA": (0.05, 0.70, 0.01), "BF": (0.03, 0.61, -0.02), "EE": (0.05, 0.72, 0.01),
    "FT": (0.04, 0.62, -0.005), "HA": (0.03, 0.60, -0.02), "HT": (0.015, 0.64, -0.02),
    "IN": (0.02, 0.70, 0.0), "NB": (0.025, 0.68, -0.005), "RL": (0.02, 0.62, -0.01),
    "VF": (0.015, 0.68, 0.005), "VO": (0.04, 0.66, -0.015), "HV": (0.01, 0.62, -0.01),
}  # fmt: skip
#: YH and higher education: SUN 2020 field → (graduates per 10,000 inhabitants, yearly growth)
_YH = {"48": (2.6, 0.06), "52": (2.4, 0.04), "54": (0.8, 0.02), "58": (1.6, 0.05), "34": (3.0, 0.03),
       "72": (1.4, 0.05), "76": (1.2, 0.03), "62": (0.6, 0.01), "84": (1.0, 0.03), "81": (0.5, 0.0)}  # fmt: skip
_HIGHER = {"14": (8.0, 0.02), "21": (2.0, 0.0), "22": (2.2, -0.01), "31": (5.0, 0.0), "32": (1.0, -0.01),
           "34": (7.0, 0.01), "38": (1.8, 0.0), "42": (1.5, 0.0), "44": (1.2, -0.01), "48": (3.0, 0.03),
           "52": (6.0, 0.02), "58": (2.0, 0.02), "72": (9.0, 0.02), "76": (4.0, 0.01)}  # fmt: skip
#: Relative size of higher education per subregion (universities: GU/Chalmers, Borås, Skövde, Väst)
_UNIVERSITY = {"goteborgsregionen": 2.2, "sjuharad": 0.9, "skaraborg": 0.6, "fyrbodal": 0.55}


def _education(rng: np.random.Generator, muni: pd.DataFrame, pop: np.ndarray) -> pd.DataFrame:
    years = np.arange(FIRST_YEAR, LAST_OBSERVED + 1)
    rows = []
    for sub in regions.SUBREGION_IDS:
        idx = (muni["subregion"] == sub).to_numpy()
        age16 = pop[:, idx][..., 16].sum(axis=(1, 2))  # by simulation year
        inhabitants = pop[:, idx].sum(axis=(1, 2, 3))
        for code, (share, completion, drift) in _PROGRAMMES.items():
            local = share * np.exp(rng.normal(0, 0.12)) * 0.86  # 14 % go to introduction programmes
            comp = np.clip(completion + rng.normal(0, 0.03), 0.3, 0.95)
            for y in years:
                s_start = y - 3 - _SIM_START  # graduates in spring y started in autumn y-3
                starters_y = age16[y - _SIM_START] * 0.98 * local * (1 + drift) ** (y - FIRST_YEAR)
                cohort = age16[s_start] * 0.98 * local * (1 + drift) ** (y - 3 - FIRST_YEAR)
                grads = rng.binomial(max(int(round(cohort)), 0), comp)
                rows.append(
                    (sub, code, "gymnasium", y, float(grads), float(rng.poisson(starters_y)))
                )
        for kind, table, scale in (("yh", _YH, 1.0), ("higher", _HIGHER, _UNIVERSITY[sub])):
            for field, (rate, g) in table.items():
                level = rate * scale * np.exp(rng.normal(0, 0.15))
                for y in years:
                    mean = inhabitants[y - _SIM_START] / 1e4 * level * (1 + g) ** (y - FIRST_YEAR)
                    rows.append((sub, field, kind, y, float(rng.poisson(mean)), np.nan))
    out = pd.DataFrame(
        rows, columns=["region", "education", "type", "year", "graduates", "starters"]
    )
    return out


#: Education → occupations (SSYK 3) with relative weights, before a seeded Dirichlet perturbation.
_CROSSWALK: dict[tuple[str, str], dict[str, float]] = {
    ("gymnasium", "BA"): {"711": 5, "712": 3, "713": 2, "931": 2, "834": 1, "522": 1},
    ("gymnasium", "BF"): {"531": 5, "534": 3, "342": 1, "522": 2, "941": 1},
    ("gymnasium", "EE"): {"741": 6, "742": 2, "311": 1, "818": 1},
    ("gymnasium", "FT"): {"723": 4, "833": 3, "834": 2, "432": 1},
    ("gymnasium", "HA"): {"522": 5, "523": 2, "422": 2, "432": 1, "411": 1},
    ("gymnasium", "HT"): {"422": 3, "513": 3, "511": 2, "522": 2, "941": 1},
    ("gymnasium", "HV"): {"514": 5, "731": 2, "753": 1, "522": 2},
    ("gymnasium", "IN"): {"721": 4, "723": 2, "821": 3, "818": 2, "932": 1},
    ("gymnasium", "NB"): {"612": 4, "613": 3, "621": 2, "611": 2, "834": 1},
    ("gymnasium", "RL"): {"512": 4, "941": 3, "513": 2, "761": 2},
    ("gymnasium", "VF"): {"712": 5, "515": 3, "741": 1, "723": 1},
    ("gymnasium", "VO"): {"532": 5, "533": 2, "534": 3, "535": 1},
    ("gymnasium", "EK"): {"522": 3, "411": 2, "422": 2, "331": 1, "941": 1},
    ("gymnasium", "ES"): {"522": 3, "941": 2, "343": 1, "513": 1},
    ("gymnasium", "HU"): {"522": 3, "941": 2, "531": 1},
    ("gymnasium", "NA"): {"522": 2, "941": 2, "532": 1, "311": 1},
    ("gymnasium", "SA"): {"522": 3, "941": 2, "531": 2, "534": 1},
    ("gymnasium", "TE"): {"311": 2, "351": 2, "522": 2, "821": 1},
    ("yh", "48"): {"251": 5, "351": 4, "352": 1},
    ("yh", "52"): {"311": 5, "312": 2, "214": 1, "723": 1},
    ("yh", "54"): {"311": 3, "312": 2, "818": 2, "821": 1},
    ("yh", "58"): {"312": 4, "311": 2, "216": 1, "711": 1},
    ("yh", "34"): {"331": 4, "332": 3, "333": 2, "334": 2},
    ("yh", "72"): {"321": 2, "532": 3, "533": 2, "325": 1},
    ("yh", "76"): {"534": 3, "341": 3, "531": 1},
    ("yh", "62"): {"612": 2, "611": 2, "621": 2, "138": 1},
    ("yh", "84"): {"833": 4, "432": 2, "315": 1, "831": 1},
    ("yh", "81"): {"514": 3, "511": 2, "171": 1, "172": 1},
    ("higher", "14"): {"234": 4, "233": 4, "232": 1, "235": 1, "231": 1},
    ("higher", "21"): {"217": 3, "265": 2, "264": 2, "343": 2},
    ("higher", "22"): {"262": 2, "264": 2, "235": 2, "242": 2, "233": 1},
    ("higher", "31"): {"242": 4, "224": 2, "266": 2, "335": 1},
    ("higher", "32"): {"264": 4, "243": 3, "333": 1},
    ("higher", "34"): {"241": 4, "242": 3, "243": 2, "331": 2, "121": 1},
    ("higher", "38"): {"261": 6, "242": 2, "335": 1},
    ("higher", "42"): {"213": 3, "218": 2, "311": 1, "231": 1},
    ("higher", "44"): {"211": 4, "213": 2, "311": 2, "231": 1},
    ("higher", "46"): {"212": 3, "251": 2, "231": 1},
    ("higher", "48"): {"251": 7, "214": 1, "351": 1},
    ("higher", "52"): {"214": 6, "251": 2, "311": 1, "134": 1},
    ("higher", "58"): {"214": 3, "216": 3, "312": 1},
    ("higher", "72"): {"222": 4, "221": 2, "223": 1, "226": 1, "227": 2, "228": 1},
    ("higher", "76"): {"266": 5, "341": 2, "242": 1},
}


def _crosswalk(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for (kind, edu), weights in _CROSSWALK.items():
        codes = list(weights)
        shares = rng.dirichlet(np.array([weights[c] for c in codes], dtype=float) * 20)
        shares = np.round(shares, 6)
        shares[-1] = round(1.0 - shares[:-1].sum(), 6)
        rows += [(kind, edu, c, float(s)) for c, s in zip(codes, shares, strict=True)]
    return pd.DataFrame(rows, columns=["type", "education", "ssyk", "share"])


# --- education groups: one stock–flow truth (population, flows, labour status, newcomers) -----

#: Ages (inclusive) of each band of :data:`EDUCATION_AGE_BANDS`.
_EDU_BAND_AGES: tuple[tuple[int, int], ...] = (
    (16, 19), (20, 24), (25, 34), (35, 44), (45, 54), (55, 64), (65, 74),
)  # fmt: skip
_EDU_WIDTH = np.array([hi - lo + 1 for lo, hi in _EDU_BAND_AGES], dtype=float)
#: Share of each band by level (compulsory only, upper secondary, YH, higher) at the start.
_LEVEL_SHARES = np.array(
    [[0.85, 0.15, 0.0, 0.0], [0.12, 0.78, 0.03, 0.07], [0.08, 0.42, 0.08, 0.42],
     [0.09, 0.42, 0.08, 0.41], [0.11, 0.48, 0.07, 0.34], [0.15, 0.50, 0.05, 0.30],
     [0.25, 0.45, 0.03, 0.27]]
)  # fmt: skip
#: Yearly out-migration rate by band, and its multiplier by level (the higher educated move more).
_OUT_RATE = np.array([0.03, 0.10, 0.07, 0.035, 0.02, 0.015, 0.012])
_LEVEL_MOBILITY = np.array([0.8, 1.0, 1.0, 1.35])
#: Labour-force participation by band and level multiplier; unemployment rate by level.
_PARTICIPATION = np.array([0.35, 0.74, 0.89, 0.92, 0.91, 0.84, 0.17])
_LEVEL_PARTICIPATION = np.array([0.85, 1.0, 1.04, 1.04])
_UNEMPLOYMENT = np.array([0.16, 0.06, 0.04, 0.035])
_BAND_UNEMPLOYMENT = np.array([2.2, 1.6, 1.0, 0.9, 0.85, 0.9, 0.8])
_CYCLE = {2020: 1.3, 2021: 1.2, 2022: 1.05}
_SUB_UNEMPLOYMENT = {"fyrbodal": 1.2, "goteborgsregionen": 0.95, "sjuharad": 1.05, "skaraborg": 1.0}
#: Where graduates live the year after: share staying in the school's subregion, moving to
#: Göteborgsregionen; the rest leave the area (documented defaults of the supply model too).
_STAY = {"gymnasium": 0.88, "yh": 0.82, "higher": 0.55}
_TO_GR = {"gymnasium": 0.05, "yh": 0.08, "higher": 0.20}
_WOMEN_GRADUATES = {"gymnasium": 0.5, "yh": 0.55, "higher": 0.62}
#: Age band of graduates, per type.
_GRAD_BANDS = {
    "gymnasium": np.array([1.0, 0, 0, 0, 0, 0, 0]),
    "yh": np.array([0, 0.4, 0.6, 0, 0, 0, 0]),
    "higher": np.array([0, 0.35, 0.65, 0, 0, 0, 0]),
}
#: True share of graduates who enter work in the year after (the rest study on or stay outside).
_ENTRY_TRUE = {"vocational": 0.78, "preparatory": 0.28, "yh": 0.9, "higher": 0.83}
#: True yearly re-entry into work: share of the unemployed and of those outside (25–64).
_REENTRY_UNEMPLOYED, _REENTRY_OUTSIDE = 0.25, 0.02
_PREPARATORY = ("EK", "ES", "HU", "NA", "SA", "TE")


def _edu_groups() -> list[tuple[str, str]]:
    return (
        [("forgymnasial", "0")]
        + [("gymnasium", p) for p in _PROGRAMMES]
        + [("yh", f) for f in _YH]
        + [("higher", f) for f in _HIGHER]
    )


_LEVEL_OF = {"forgymnasial": 0, "gymnasium": 1, "yh": 2, "higher": 3}


class _StockFlow:
    """The simulated education-group stock and its flows, with long-table views."""

    def __init__(self, muni: pd.DataFrame, years: np.ndarray, groups: list[tuple[str, str]]):
        self.muni, self.years, self.groups = muni, years, groups
        shape = (len(years), len(muni), 2, len(_EDU_BAND_AGES), len(groups))
        self.stock = np.zeros(shape)
        self.flows = {f: np.zeros((len(years), len(muni), 2, len(groups))) for f in FLOW_COLUMNS}
        self.employed = np.zeros(shape)
        self.unemployed = np.zeros(shape)
        self.graduate_destinations = pd.DataFrame()

    def _long(
        self, arr: np.ndarray, names: list[str], value: str, years: np.ndarray
    ) -> pd.DataFrame:
        dims = {
            "year": years,
            "region": self.muni["code"].to_numpy(),
            "sex": np.array(["men", "women"]),
            "age": np.array(EDUCATION_AGE_BANDS),
            "group": np.arange(len(self.groups)),
        }
        idx = pd.MultiIndex.from_product([dims[n] for n in names], names=names)
        df = pd.DataFrame({value: np.round(arr).reshape(-1)}, index=idx).reset_index()
        df["type"] = np.array([g[0] for g in self.groups], dtype=object)[df["group"]]
        df["education"] = np.array([g[1] for g in self.groups], dtype=object)[df["group"]]
        return df.drop(columns="group")

    def population_education(self) -> pd.DataFrame:
        df = self._long(
            self.stock, ["year", "region", "sex", "age", "group"], "population", self.years
        )
        return df[["region", "year", "sex", "age", "type", "education", "population"]]

    def education_flows(self) -> pd.DataFrame:
        keep = slice(1, None)  # flows into the first published year are not observed
        names = ["year", "region", "sex", "group"]
        # published counts are whole numbers: movers absorb the rounding, so the published
        # stocks change by exactly the sum of the published flows
        stock = np.round(self.stock).sum(axis=3)  # [t, m, s, g]
        fl = {f: np.round(v) for f, v in self.flows.items()}
        other = (
            fl["age_entries"] - fl["age_exits"] - fl["deaths"] + fl["graduates"]
            - fl["further_study"]
        )  # fmt: skip
        need = np.zeros_like(stock)
        need[1:] = stock[1:] - stock[:-1] - other[1:]  # = in_movers - out_movers
        fix = need - (fl["in_movers"] - fl["out_movers"])
        fl["in_movers"] = fl["in_movers"] + np.maximum(fix, 0)
        fl["out_movers"] = fl["out_movers"] + np.maximum(-fix, 0)
        frames = [self._long(fl[f][keep], names, f, self.years[keep]) for f in FLOW_COLUMNS]
        out = frames[0]
        for f, frame in zip(FLOW_COLUMNS[1:], frames[1:], strict=True):
            out[f] = frame[f].to_numpy()
        return out[["region", "year", "sex", "type", "education", *FLOW_COLUMNS]]

    def labour_status(self) -> pd.DataFrame:
        names = ["year", "region", "sex", "age", "group"]
        pop = np.round(self.stock)
        emp = np.minimum(np.round(self.employed), pop)
        une = np.minimum(np.round(self.unemployed), pop - emp)
        df = self._long(emp, names, "employed", self.years)
        df["unemployed"] = une.reshape(-1)
        df["outside"] = (pop - emp - une).reshape(-1)
        return df[
            ["region", "year", "sex", "age", "type", "education", "employed", "unemployed",
             "outside"]
        ]  # fmt: skip


def _band_population(pop_year: np.ndarray) -> np.ndarray:
    """[m, sex, age] → [m, sex, band] for ages 16–74."""
    return np.stack([pop_year[..., lo : hi + 1].sum(axis=-1) for lo, hi in _EDU_BAND_AGES], -1)


def _stock_flow(
    rng: np.random.Generator, muni: pd.DataFrame, pop: np.ndarray, education: pd.DataFrame
) -> _StockFlow:
    """Simulate the education-group stock of ages 16–74 per municipality, 2014–2024.

    Each year: ageing between bands (the oldest band's ageing-out are age exits), 16-year-olds
    enter with compulsory school only, deaths (Gompertz by band), graduations (graduates of
    each subregion's schools move to where they live next — own subregion, Göteborgsregionen
    or away — and leave their earlier group: *further study*), out-migration by band and level,
    and in-migration that closes the gap to the population table (so the groups always add up
    to the population 16–74). Labour status follows participation and unemployment rates by
    band, level, sex, subregion and year.
    """
    groups = _edu_groups()
    level = np.array([_LEVEL_OF[t] for t, _ in groups])
    n_m, n_b, n_g = len(muni), len(_EDU_BAND_AGES), len(groups)
    years = np.arange(FIRST_YEAR, LAST_OBSERVED + 1)
    sf = _StockFlow(muni, years, groups)
    sub = muni["subregion"].to_numpy()
    is_gr = sub == "goteborgsregionen"
    q = _mortality()
    q_band = np.array([q[lo : hi + 1].mean() for lo, hi in _EDU_BAND_AGES])

    # within-level distribution: programme shares, YH and higher rates (universities in GR)
    within = np.zeros((n_m, n_g))
    for j, (t, e) in enumerate(groups):
        if t == "forgymnasial":
            within[:, j] = 1.0
        elif t == "gymnasium":
            within[:, j] = _PROGRAMMES[e][0]
        elif t == "yh":
            within[:, j] = _YH[e][0]
        else:
            within[:, j] = _HIGHER[e][0] * np.where(is_gr, 1.4, 1.0)
    for lv in range(4):
        cols = level == lv
        within[:, cols] /= within[:, cols].sum(axis=1, keepdims=True)
    tilt = np.where(is_gr, 1.25, 0.85)
    lv_share = np.broadcast_to(_LEVEL_SHARES, (n_m, n_b, 4)).copy()
    lv_share[:, :, 3] *= tilt[:, None]
    lv_share /= lv_share.sum(axis=2, keepdims=True)
    dist = lv_share[:, :, level] * within[:, None, :]  # [m, b, g], sums to 1 per band
    in_dist = lv_share.copy()
    in_dist[:, :, 3] *= 1.3
    in_dist /= in_dist.sum(axis=2, keepdims=True)
    in_dist = in_dist[:, :, level] * within[:, None, :]
    mob = _LEVEL_MOBILITY[level] * rng.lognormal(0, 0.1, n_g)  # [g]
    muni_mob = rng.lognormal(0, 0.15, n_m)

    band_pop = {
        y: _band_population(pop[y - _SIM_START]) for y in range(FIRST_YEAR - 1, LAST_OBSERVED + 1)
    }
    state = band_pop[FIRST_YEAR - 1][..., None] * dist[:, None, :, :]  # [m, s, b, g]

    # graduates by origin subregion → destination municipality (multinomial per education/year)
    gpos = {g: j for j, g in enumerate(groups)}
    dests = [*muni["code"], "00"]
    young = np.array([band_pop[y][:, :, 1:3].sum(axis=(1, 2)) for y in band_pop]).mean(axis=0)
    arrivals = np.zeros((len(years), n_m, n_g))  # graduates by where they live next
    departures = np.zeros((len(years), len(regions.SUBREGION_IDS), n_g))  # by school subregion
    rows = []
    for k, origin in enumerate(regions.SUBREGION_IDS):
        home = sub == origin
        p = np.zeros(n_m + 1)
        for kind in ("gymnasium", "yh", "higher"):
            stay = _STAY[kind] + (_TO_GR[kind] if origin == "goteborgsregionen" else 0.0)
            if origin == "goteborgsregionen" and kind == "higher":
                stay = 0.72
            p[:] = 0.0
            p[:n_m][home] = stay * young[home] / young[home].sum()
            if origin != "goteborgsregionen":
                p[:n_m][is_gr] = _TO_GR[kind] * young[is_gr] / young[is_gr].sum()
            p[n_m] = 1.0 - p[:n_m].sum()
            sel = education[(education["region"] == origin) & (education["type"] == kind)]
            for row in sel.itertuples(index=False):
                if row.year < FIRST_YEAR or (kind, row.education) not in gpos:
                    continue
                j, i = gpos[(kind, row.education)], row.year - FIRST_YEAR
                draw = rng.multinomial(int(row.graduates), p)
                arrivals[i, :, j] += draw[:n_m]
                departures[i, k, j] += row.graduates
                nz = np.nonzero(draw)[0]
                rows += [
                    (origin, kind, row.education, dests[d], row.year, float(draw[d])) for d in nz
                ]
    keys = ["origin", "type", "education", "destination"]
    long = pd.DataFrame(rows, columns=[*keys, "year", "graduates"])
    wide = long.pivot_table(index=keys, columns="year", values="graduates", aggfunc="sum")
    wide = wide.reindex(columns=years).fillna(0.0)  # every year of a route, zeros included
    sf.graduate_destinations = (
        wide.stack().rename("graduates").reset_index()[[*keys, "year", "graduates"]]
    )

    sub_index = np.array([regions.SUBREGION_IDS.index(s) for s in sub])
    prep = np.array([t == "gymnasium" and e in _PREPARATORY for t, e in groups])
    source_weight = {
        "gymnasium": (level == 0).astype(float),
        "yh": (level == 1).astype(float),
        "higher": np.where(prep, 4.0, (level == 1).astype(float)),
    }
    for i, y in enumerate(years):
        s = state.copy()
        moving = s / _EDU_WIDTH[None, None, :, None]
        s -= moving
        s[:, :, 1:] += moving[:, :, :-1]
        exits = moving[:, :, -1]  # [m, s, g]
        entries = np.zeros((n_m, 2, n_g))
        entries[:, :, 0] = pop[y - _SIM_START][:, :, 16]
        s[:, :, 0, 0] += entries[:, :, 0]
        deaths = s * q_band[None, None, :, None]
        s -= deaths
        # graduations: leave the source group in the school's subregion, arrive where they live
        further = np.zeros_like(s)
        grads_in = np.zeros_like(s)
        for j, (kind, _e) in enumerate(groups):
            if kind == "forgymnasial":
                continue
            wb = _GRAD_BANDS[kind]
            women = _WOMEN_GRADUATES[kind]
            sexes = np.array([1 - women, women])
            grads_in[..., j] += (
                arrivals[i, :, j][:, None, None] * sexes[None, :, None] * wb[None, None, :]
            )
            for k in range(len(regions.SUBREGION_IDS)):
                n = departures[i, k, j]
                if n <= 0:
                    continue
                home = sub_index == k
                w = s[home] * source_weight[kind][None, None, None, :] * wb[None, None, :, None]
                w = w * sexes[None, :, None, None]
                total = w.sum()
                if total > 0:
                    further[home] += np.minimum(n * w / total, 0.9 * s[home] * (w > 0))
        s = s - further + grads_in
        out = (
            s
            * (_OUT_RATE[None, None, :, None] * mob[None, None, None, :])
            * muni_mob[:, None, None, None]
        )
        s -= out
        gap = band_pop[y] - s.sum(axis=3)  # [m, s, b]
        inflow = np.maximum(gap, 0)[..., None] * in_dist[:, None, :, :]
        extra_out = (
            np.maximum(-gap, 0)[..., None] * s / np.maximum(s.sum(axis=3, keepdims=True), 1e-9)
        )
        s = s + inflow - extra_out
        out = out + extra_out
        state = s
        sf.stock[i] = s
        f = sf.flows
        f["age_entries"][i], f["age_exits"][i] = entries, exits
        f["deaths"][i], f["graduates"][i] = deaths.sum(axis=2), grads_in.sum(axis=2)
        f["further_study"][i], f["in_movers"][i] = further.sum(axis=2), inflow.sum(axis=2)
        f["out_movers"][i] = out.sum(axis=2)

        # labour status: participation and unemployment by band, level, sex, subregion and year
        trend = 1 + np.array([0.0, 0, 0, 0, 0, 0.004, 0.02]) * (y - FIRST_YEAR)
        part = np.clip(
            _PARTICIPATION[:, None] * trend[:, None] * _LEVEL_PARTICIPATION[None, level], 0, 0.97
        )  # [b, g]
        part = part[None, None] * np.array([1.0, 0.96])[None, :, None, None]
        unemp = (
            _UNEMPLOYMENT[None, level] * _BAND_UNEMPLOYMENT[:, None] * _CYCLE.get(int(y), 1.0)
        )[None, None] * np.array([_SUB_UNEMPLOYMENT[x] for x in sub])[:, None, None, None]
        unemp = np.clip(unemp, 0, 0.6)
        n = np.round(s).astype(np.int64)
        emp = rng.binomial(n, np.clip(part * (1 - unemp), 0, 1))
        une = rng.binomial(
            n - emp, np.clip(part * unemp / np.maximum(1 - part * (1 - unemp), 1e-9), 0, 1)
        )
        sf.employed[i], sf.unemployed[i] = emp, une
    return sf


def _imbalance_truth(
    rng: np.random.Generator,
    muni: pd.DataFrame,
    sf: _StockFlow,
    emp: dict[str, np.ndarray],
    crosswalk: pd.DataFrame,
) -> pd.DataFrame:
    """True openings and available newcomers per region, SSYK 3 and year (2015–2024).

    Openings are ``max(ΔE + exits, 0)`` of the true employment (region level). Newcomers are the
    generator's own channels: graduates entering work where they live (true entry shares and
    the recent-entrant crosswalk), employed in-movers, re-entrants from unemployment and from
    outside the labour force, occupation changers and other channels (rates per occupation ×
    employment). A call is right when it follows how this ratio moves.
    """
    cal = _calibration()
    codes = cal["ssyk"].to_numpy()
    n_o = len(codes)
    groups = sf.groups
    years = sf.years
    # education → occupation matrix [g, o]; compulsory school only → routine occupations
    mat = np.zeros((len(groups), n_o))
    opos = {c: i for i, c in enumerate(codes)}
    cw = crosswalk[crosswalk["ssyk"].isin(opos)]
    gpos = {g: j for j, g in enumerate(groups)}
    for row in cw.itertuples(index=False):
        if (row.type, row.education) in gpos:
            mat[gpos[(row.type, row.education)], opos[row.ssyk]] += row.share
    routine = np.isin(pd.Series(codes).str[:1], ["4", "5", "7", "8", "9"]).astype(float)
    size = emp["employed"][0].sum(axis=0)  # [o]
    mat[0] = routine * size / (routine * size).sum()
    mat /= np.maximum(mat.sum(axis=1, keepdims=True), 1e-12)
    entry = np.array(
        [
            0.0
            if t == "forgymnasial"
            else _ENTRY_TRUE[("preparatory" if e in _PREPARATORY else "vocational")]
            if t == "gymnasium"
            else _ENTRY_TRUE[t]
            for t, e in groups
        ]
    )
    i0 = 1  # first flow year (2015)
    grads = sf.flows["graduates"].sum(axis=2)[i0:] * entry  # [t, m, g]
    share_emp = sf.employed.sum(axis=(2, 3)) / np.maximum(sf.stock.sum(axis=(2, 3)), 1e-9)
    movers = sf.flows["in_movers"].sum(axis=2)[i0:] * share_emp[i0:]
    une = sf.unemployed.sum(axis=(2, 3))[:-1]
    outside = (sf.stock - sf.employed - sf.unemployed)[:, :, :, 2:6].sum(axis=(2, 3))[:-1]
    reentry = _REENTRY_UNEMPLOYED * une + _REENTRY_OUTSIDE * outside
    measured = np.einsum("tmg,go->tmo", grads + movers + reentry, mat)  # [t, m, o]
    e_prev = emp["employed"][i0 - 1 : -1]  # [t, m, o]
    changers = rng.lognormal(np.log(0.02), 0.3, n_o)
    other = rng.lognormal(np.log(0.01), 0.5, n_o)
    newcomers = measured + e_prev * (changers + other)[None, None, :]
    codes_m = muni["code"].to_numpy()
    out = []
    for region in regions.ALL_REGION_IDS:
        mask = np.isin(codes_m, regions.members(region))
        e = emp["employed"][:, mask].sum(axis=1)
        x = emp["exits"][:, mask].sum(axis=1)
        openings = np.maximum(e[i0:] - e[i0 - 1 : -1] + x[i0:], 0.0)
        nc = newcomers[:, mask].sum(axis=1)
        idx = pd.MultiIndex.from_product([years[i0:], codes], names=["year", "ssyk"])
        df = pd.DataFrame(
            {"openings": openings.reshape(-1).round(1), "newcomers": nc.reshape(-1).round(1)},
            index=idx,
        ).reset_index()
        df.insert(0, "region", region)
        out.append(df)
    return pd.concat(out, ignore_index=True)[["region", "ssyk", "year", "openings", "newcomers"]]


# --- assembly ----------------------------------------------------------------------------------


def _long_population(pop: np.ndarray, muni: pd.DataFrame) -> pd.DataFrame:
    years = np.arange(_SIM_START, LAST_PROJECTED + 1)
    keep = years >= FIRST_YEAR
    arr = pop[keep]
    yrs = years[keep]
    idx = pd.MultiIndex.from_product(
        [yrs, muni["code"].to_numpy(), ["men", "women"], _AGES],
        names=["year", "region", "sex", "age"],
    )
    df = pd.DataFrame({"population": arr.reshape(-1)}, index=idx).reset_index()
    df["kind"] = np.where(df["year"] <= LAST_OBSERVED, "observed", "projection")
    return df[["region", "year", "age", "sex", "population", "kind"]]


def _long_employment(
    obs: np.ndarray, women: np.ndarray, muni: pd.DataFrame, rng: np.random.Generator
) -> pd.DataFrame:
    cal = _calibration()
    years = np.arange(FIRST_YEAR, LAST_OBSERVED + 1)
    total = obs.sum(axis=3)  # [y, m, o]
    w = rng.binomial(total.astype(np.int64), np.broadcast_to(women[None], total.shape)).astype(
        float
    )
    arr = np.stack([total - w, w], axis=-1)  # [y, m, o, sex]
    idx = pd.MultiIndex.from_product(
        [years, muni["code"].to_numpy(), cal["ssyk"].to_numpy(), ["men", "women"]],
        names=["year", "region", "ssyk", "sex"],
    )
    df = pd.DataFrame({"employed": arr.reshape(-1)}, index=idx).reset_index()
    return df[["region", "ssyk", "sex", "year", "employed"]]


def _long_employment_age(obs: np.ndarray, muni: pd.DataFrame) -> pd.DataFrame:
    """Age bands per occupation for the four subregions and county 14 (as SCB publishes by county)."""
    cal = _calibration()
    years = np.arange(FIRST_YEAR, LAST_OBSERVED + 1)
    frames = []
    groups = {s: (muni["subregion"] == s).to_numpy() for s in regions.SUBREGION_IDS}
    groups[regions.VG_COUNTY] = (muni["code"].str[:2] == regions.VG_COUNTY).to_numpy()
    for region, mask in groups.items():
        arr = obs[:, mask].sum(axis=1)  # [y, o, b]
        idx = pd.MultiIndex.from_product(
            [years, cal["ssyk"].to_numpy(), list(AGE_BANDS)], names=["year", "ssyk", "age"]
        )
        df = pd.DataFrame({"employed": arr.reshape(-1)}, index=idx).reset_index()
        df.insert(0, "region", region)
        # 65-69 is outside the register before 2023: no rows, as in SCB's tables
        frames.append(df[(df["age"] != "65-69") | (df["year"] >= 2023)])
    return pd.concat(frames, ignore_index=True)[["region", "ssyk", "age", "year", "employed"]]


def generate_demo(seed: int = DEFAULT_SEED, config: DemoConfig | None = None) -> Dataset:
    """Generate the synthetic demo dataset (deterministic for a given seed; a few seconds).

    Parameters
    ----------
    seed : int
        Random seed; ignored when ``config`` is given (its ``seed`` is used).
    config : DemoConfig, optional
        Generator settings.

    Returns
    -------
    Dataset
        With all contract tables except ``yrkesbarometer``; ``manifest.synthetic`` is true.

    Examples
    --------
    >>> ds = generate_demo()  # doctest: +SKIP
    >>> ds.manifest.label  # doctest: +SKIP
    'syntetiska demonstrationsdata'
    """
    return _generate(config or DemoConfig(seed=seed)).copy_tables()


class _Demo(Dataset):
    def copy_tables(self) -> Dataset:
        return Dataset(manifest=self.manifest, **{k: v.copy() for k, v in self.tables().items()})


@cache
def _generate_cached(seed: int, target: float, break_2020: float) -> _Demo:
    cfg = DemoConfig(seed=seed, county_employment_2022=target, break_2020=break_2020)
    rng = np.random.default_rng(cfg.seed)
    muni = _municipalities()
    pop = _population(rng, muni)
    obs, women, emp_truth = _employment(rng, muni, pop, cfg)
    manifest = Manifest(
        name="demo",
        source=f"kompetensprognos synthetic generator (seed {cfg.seed})",
        vintage=f"synthetic {FIRST_YEAR}-{LAST_OBSERVED}, projection to {LAST_PROJECTED}",
        synthetic=True,
        created="generated",
        breaks=[
            SeriesBreak(
                year=2020,
                table="employment",
                description="RAMS → BAS: small level shift per occupation",
            ),
            SeriesBreak(
                year=2023,
                table="employment",
                description="age range 16-64 → 16-69 and model-imputed occupations: about +8-9 %",
            ),
            SeriesBreak(
                year=2023,
                table="employment_age",
                description="band 65-69 added; imputed occupations",
            ),
        ],
        notes="Syntetiska demonstrationsdata — inte verklig statistik. See docs/demo-data.md.",
    )
    employment = _long_employment(obs, women, muni, rng)
    employment_age = _long_employment_age(obs, muni)
    education_output = _education(rng, muni, pop)
    crosswalk = _crosswalk(rng)
    # the education-group stock–flow truth draws from its own stream, so the older tables stay
    # byte for byte what they were before it existed
    sf = _stock_flow(np.random.default_rng([cfg.seed, 11]), muni, pop, education_output)
    truth_rng = np.random.default_rng([cfg.seed, 12])
    cw_entrants = _crosswalk(truth_rng)
    return _Demo(
        manifest=manifest,
        employment=employment,
        employment_age=employment_age,
        population=_long_population(pop, muni),
        education_output=education_output,
        crosswalk=crosswalk,
        population_education=sf.population_education(),
        education_flows=sf.education_flows(),
        labour_status=sf.labour_status(),
        graduate_destinations=sf.graduate_destinations,
        crosswalk_entrants=cw_entrants,
        imbalance_truth=_imbalance_truth(truth_rng, muni, sf, emp_truth, cw_entrants),
    )


def _generate(cfg: DemoConfig) -> _Demo:
    return _generate_cached(cfg.seed, cfg.county_employment_2022, cfg.break_2020)
