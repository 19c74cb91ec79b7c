"""Municipalities, subregions and the two ways of adding them up.

Västra Götaland is not one tree. Each of the 49 municipalities in county ``14`` belongs to one of
four subregions (municipal associations), and Göteborgsregionen also includes Kungsbacka
(``1384``, county ``13``). So there are two totals:

* ``vastra-gotaland`` — the county, 49 municipalities, **without** Kungsbacka;
* ``delregionerna`` — the four subregions together, 50 municipalities, **with** Kungsbacka.

Neither total is the sum of the other's parts. :func:`aggregate_regions` therefore always sums
municipality rows straight into each region and never sums regions into regions.

Municipality codes are four-character strings (``"0114"``, ``"1480"``) and county codes
two-character strings (``"01"``, ``"14"``); leading zeros matter.

The tables come from ``kompetensprognos/data/municipalities.csv`` (all 290 municipalities with
county and, for the 50, subregion id).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import pandas as pd

from kompetensprognos.errors import KompetensprognosError

__all__ = [
    "ALL_REGION_IDS",
    "KUNGSBACKA",
    "REGION_IDS",
    "SUBREGION_IDS",
    "VG_COUNTY",
    "Region",
    "aggregate_regions",
    "get_region",
    "is_municipality",
    "members",
    "municipalities",
    "municipality_name",
    "region_membership",
    "region_name",
    "regions",
    "subregion_of",
]

VG_COUNTY = "14"
"""County code of Västra Götalands län."""

KUNGSBACKA = "1384"
"""Kungsbacka: in Hallands län (``13``) but a member of Göteborgsregionen."""

SUBREGION_IDS: tuple[str, ...] = ("fyrbodal", "goteborgsregionen", "sjuharad", "skaraborg")
"""The four subregions (municipal associations with a competence council)."""

REGION_IDS: tuple[str, ...] = (*SUBREGION_IDS, "vastra-gotaland")
"""The five report regions: the four subregions and the county."""

ALL_REGION_IDS: tuple[str, ...] = (*REGION_IDS, "delregionerna")
"""Every region id, including the total of the four subregions."""

_NAMES: dict[str, str] = {
    "fyrbodal": "Fyrbodal",
    "goteborgsregionen": "Göteborgsregionen",
    "sjuharad": "Boråsregionen (Sjuhärad)",
    "skaraborg": "Skaraborg",
    "vastra-gotaland": "Västra Götalands län",
    "delregionerna": "De fyra delregionerna",
}

_SCOPES = ("vg", "sweden")
_COLUMNS = ["code", "name", "county", "county_name", "subregion"]


@dataclass(frozen=True)
class Region:
    """A region that reports are made for.

    Attributes
    ----------
    id : str
        Stable identifier, e.g. ``"goteborgsregionen"``; one of :data:`ALL_REGION_IDS`.
    name : str
        Display name, e.g. ``"Göteborgsregionen"``.
    kind : str
        ``"subregion"``, ``"county"`` or ``"total"`` (the four subregions together).
    code : str | None
        SCB region code where one exists (``"14"`` for the county), else ``None``.
    members : tuple[str, ...]
        Municipality codes, sorted.
    """

    id: str
    name: str
    kind: str
    code: str | None
    members: tuple[str, ...]


@cache
def _table() -> pd.DataFrame:
    path = files("kompetensprognos").joinpath("data/municipalities.csv")
    with path.open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""])
    return df[_COLUMNS]


@cache
def _regions() -> dict[str, Region]:
    df = _table()
    out: dict[str, Region] = {}
    for rid in SUBREGION_IDS:
        codes = tuple(sorted(df.loc[df["subregion"] == rid, "code"]))
        out[rid] = Region(rid, _NAMES[rid], "subregion", None, codes)
    county = tuple(sorted(df.loc[df["county"] == VG_COUNTY, "code"]))
    out["vastra-gotaland"] = Region(
        "vastra-gotaland", _NAMES["vastra-gotaland"], "county", VG_COUNTY, county
    )
    total = tuple(sorted(df.loc[df["subregion"].notna(), "code"]))
    out["delregionerna"] = Region("delregionerna", _NAMES["delregionerna"], "total", None, total)
    return out


def _unknown_region(region_id: object) -> KompetensprognosError:
    return KompetensprognosError(
        f"unknown region id {region_id!r}; valid ids are: {', '.join(ALL_REGION_IDS)}"
    )


def municipalities(scope: str = "vg") -> pd.DataFrame:
    """Return municipalities with county and subregion.

    Parameters
    ----------
    scope : {"vg", "sweden"}
        ``"vg"``: the 50 municipalities of the four subregions (49 in county 14 plus Kungsbacka);
        ``"sweden"``: all 290 municipalities.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``name``, ``county``, ``county_name``, ``subregion`` (all text, sorted by
        code). ``subregion`` is a subregion id for the 50 and missing (NaN) elsewhere. A copy.

    Examples
    --------
    >>> df = municipalities()
    >>> len(df), df.loc[df.code == "1384", "subregion"].item()
    (50, 'goteborgsregionen')
    """
    if scope not in _SCOPES:
        raise KompetensprognosError(
            f"unknown municipality scope {scope!r}; use one of: {', '.join(_SCOPES)}"
        )
    df = _table()
    if scope == "vg":
        df = df[df["subregion"].notna()]
    return df.reset_index(drop=True).copy()


def get_region(region_id: str) -> Region:
    """Return one region by id.

    Parameters
    ----------
    region_id : str
        One of :data:`ALL_REGION_IDS`.

    Returns
    -------
    Region

    Raises
    ------
    KompetensprognosError
        If the id is unknown; the message lists the valid ids.

    Examples
    --------
    >>> r = get_region("vastra-gotaland")
    >>> r.kind, r.code, len(r.members)
    ('county', '14', 49)
    """
    try:
        return _regions()[region_id]
    except (KeyError, TypeError):
        raise _unknown_region(region_id) from None


def regions() -> list[Region]:
    """Return all regions in the order of :data:`ALL_REGION_IDS`.

    Examples
    --------
    >>> [r.id for r in regions()][-1]
    'delregionerna'
    """
    return [_regions()[rid] for rid in ALL_REGION_IDS]


def members(region_id: str) -> tuple[str, ...]:
    """Return the municipality codes of a region, sorted.

    Examples
    --------
    >>> len(members("goteborgsregionen")), "1384" in members("vastra-gotaland")
    (13, False)
    """
    return get_region(region_id).members


def region_name(region_id: str) -> str:
    """Return the display name of a region.

    Examples
    --------
    >>> region_name("sjuharad")
    'Boråsregionen (Sjuhärad)'
    """
    return get_region(region_id).name


def is_municipality(code: object) -> bool:
    """Tell whether ``code`` is one of the 290 Swedish municipality codes (as text).

    Numbers are not codes: ``is_municipality(1480)`` is ``False``.

    Examples
    --------
    >>> is_municipality("1480"), is_municipality("14"), is_municipality("0114")
    (True, False, True)
    """
    return isinstance(code, str) and code in _codes()


@cache
def _codes() -> frozenset[str]:
    return frozenset(_table()["code"])


def _lookup(code: str) -> pd.Series:
    if not is_municipality(code):
        hint = ""
        if not isinstance(code, str):
            hint = " — municipality codes must be text such as '1480' or '0114'"
        raise KompetensprognosError(f"{code!r} is not a Swedish municipality code{hint}")
    df = _table()
    return df.loc[df["code"] == code].iloc[0]


def municipality_name(code: str) -> str:
    """Return the name of any of the 290 municipalities.

    Examples
    --------
    >>> municipality_name("1384")
    'Kungsbacka'
    """
    return str(_lookup(code)["name"])


def subregion_of(code: str) -> str:
    """Return the subregion id of one of the 50 municipalities.

    Raises
    ------
    KompetensprognosError
        If ``code`` is not a municipality or lies outside the four subregions.

    Examples
    --------
    >>> subregion_of("1384"), subregion_of("1490")
    ('goteborgsregionen', 'sjuharad')
    """
    row = _lookup(code)
    if pd.isna(row["subregion"]):
        raise KompetensprognosError(
            f"municipality {code} ({row['name']}) is not in any of the four subregions "
            f"({', '.join(SUBREGION_IDS)})"
        )
    return str(row["subregion"])


def region_membership() -> pd.DataFrame:
    """Return the long membership table of every region.

    Returns
    -------
    pandas.DataFrame
        Columns ``region`` and ``municipality``, one row per pair, for all of
        :data:`ALL_REGION_IDS` (14 + 13 + 8 + 15 + 49 + 50 = 149 rows).

    Examples
    --------
    >>> m = region_membership()
    >>> m.groupby("region").size()["delregionerna"]
    np.int64(50)
    """
    rows = [(r.id, code) for r in regions() for code in r.members]
    return pd.DataFrame(rows, columns=["region", "municipality"])


def aggregate_regions(
    df: pd.DataFrame,
    value_cols: str | Sequence[str],
    region_col: str = "region",
    regions: Iterable[str] = ALL_REGION_IDS,
) -> pd.DataFrame:
    """Sum municipality rows into region rows.

    Each region is summed straight from its member municipalities, so Kungsbacka counts in
    ``goteborgsregionen`` and ``delregionerna`` but never in ``vastra-gotaland``, and regions are
    never summed into other regions.

    Parameters
    ----------
    df : pandas.DataFrame
        Long table with municipality codes (text) in ``region_col``. Every column other than
        ``region_col`` and ``value_cols`` is a group key (e.g. ``ssyk``, ``year``) and is kept as
        is, so text codes keep their leading zeros. Rows of municipalities outside the requested
        regions are ignored.
    value_cols : str or sequence of str
        Numeric columns to sum. Within a group, missing values are skipped; a group whose values
        are all missing stays missing.
    region_col : str, default "region"
        Column holding municipality codes in the input and region ids in the output.
    regions : iterable of str, default ALL_REGION_IDS
        Region ids to produce, in output order.

    Returns
    -------
    pandas.DataFrame
        One row per region and group key, ``region_col`` first, regions in the order given.
        Regions with no member rows in the input are absent.

    Raises
    ------
    KompetensprognosError
        If ``region_col`` holds anything but municipality codes as text (county or region codes,
        numbers, missing values), naming the offending values, or if a column or region id is
        unknown.

    Examples
    --------
    >>> df = pd.DataFrame({"region": ["1384", "1480"], "ssyk": ["0110", "0110"], "n": [1, 2]})
    >>> out = aggregate_regions(df, "n", regions=["goteborgsregionen", "vastra-gotaland"])
    >>> out.to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
    [{'region': 'goteborgsregionen', 'ssyk': '0110', 'n': 3},
     {'region': 'vastra-gotaland', 'ssyk': '0110', 'n': 2}]
    """
    values = [value_cols] if isinstance(value_cols, str) else list(value_cols)
    wanted = list(regions)
    for rid in wanted:
        get_region(rid)
    missing = [c for c in [region_col, *values] if c not in df.columns]
    if missing:
        raise KompetensprognosError(
            f"aggregate_regions: column(s) {', '.join(map(repr, missing))} not in the table "
            f"(columns are: {', '.join(map(str, df.columns))})"
        )
    bad = [v for v in pd.unique(df[region_col]) if not is_municipality(v)]
    if len(bad):
        shown = ", ".join(repr(v) for v in bad[:10])
        more = f" (+{len(bad) - 10} more)" if len(bad) > 10 else ""
        raise KompetensprognosError(
            f"aggregate_regions: column `{region_col}` must hold municipality codes as text "
            f"such as '1480' or '0114', but has {shown}{more}. Drop county, region or total rows "
            "first — sums are only built from municipalities, never across levels."
        )
    keys = [c for c in df.columns if c != region_col and c not in values]
    membership = region_membership()
    membership = membership[membership["region"].isin(wanted)]
    merged = df.rename(columns={region_col: "_municipality"}).merge(
        membership.rename(columns={"region": "_region", "municipality": "_municipality"}),
        on="_municipality",
        how="inner",
    )
    merged["_region"] = pd.Categorical(merged["_region"], categories=wanted)
    out = (
        merged.groupby(["_region", *keys], observed=True, dropna=False, sort=True)[values]
        .sum(min_count=1)
        .reset_index()
        .rename(columns={"_region": region_col})
    )
    out[region_col] = out[region_col].astype(str)
    return out[[region_col, *keys, *values]]
