"""Occupation and education classifications: SSYK 2012, SUN 2020 and upper-secondary programmes.

All codes are text with their leading zeros (``"0110"``, ``"010"``); never read them as numbers.
The tables ship in ``kompetensprognos/data/``:

* ``ssyk2012.csv`` — SSYK 2012, 10 major groups, 46 sub-major, 148 minor and 429 unit groups,
  with Swedish and English names and the parent code (one digit shorter).
* ``sun2020_fields.csv`` — SUN 2020 fields of education (*inriktning*) at 1, 2, 3 and 4
  characters (the fourth is a letter, e.g. ``"010c"``).
* ``sun2020_levels.csv`` — SUN 2020 levels (*nivå*) at 1–3 digits (scheme ``sun2020``) and the
  older 1–7 level aggregate found in many SCB tables (scheme ``sun2000_1to7``).
* ``education_groups.csv`` — the ~98 education groups (SUN-RUAP) used in SCB's regional
  forecasts.
* ``programmes.csv`` — the 18 national upper-secondary programmes and the introduction
  programmes, with the SUN 2020 field each prepares for.

SCB tables also carry ``"0002"`` (*yrke okänt*, unknown occupation). It is not part of SSYK
2012 and has no parent, but it is valid in data: :func:`is_ssyk` accepts it at every level and
:func:`ssyk_ancestor` maps it to itself, so unknown-occupation rows stay unknown when aggregated.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import pandas as pd

from kompetensprognos.errors import KompetensprognosError

__all__ = [
    "SSYK_LEVEL_SIZES",
    "UNKNOWN_SSYK",
    "education_groups",
    "is_ssyk",
    "programme_name",
    "programmes",
    "ssyk",
    "ssyk_ancestor",
    "ssyk_ancestors",
    "ssyk_level",
    "ssyk_name",
    "sun_fields",
    "sun_levels",
]

UNKNOWN_SSYK = "0002"
"""SCB's code for *yrke okänt* (unknown occupation); outside the SSYK tree, valid in data."""

_UNKNOWN_NAMES = {"sv": "Yrke okänt", "en": "Unknown occupation"}

SSYK_LEVEL_SIZES: dict[int, int] = {1: 10, 2: 46, 3: 148, 4: 429}
"""Number of SSYK 2012 codes at each level."""


def _read(name: str) -> pd.DataFrame:
    path = files("kompetensprognos").joinpath(f"data/{name}")
    with path.open("r", encoding="utf-8") as fh:
        # Only empty fields are missing; "NA" etc. stay text.
        return pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""])


@cache
def _ssyk() -> pd.DataFrame:
    df = _read("ssyk2012.csv")
    df["level"] = df["level"].astype(int)
    return df[["code", "level", "parent", "name_sv", "name_en"]]


@cache
def _ssyk_index() -> dict[str, tuple[int, str, str]]:
    df = _ssyk()
    return {
        c: (lvl, sv, en)
        for c, lvl, sv, en in zip(
            df["code"], df["level"], df["name_sv"], df["name_en"], strict=True
        )
    }


@cache
def _sun_fields() -> pd.DataFrame:
    df = _read("sun2020_fields.csv")
    df["level_digits"] = df["level_digits"].astype(int)
    return df[["code", "level_digits", "parent", "name_sv"]]


@cache
def _sun_levels() -> pd.DataFrame:
    df = _read("sun2020_levels.csv")
    df["level_digits"] = df["level_digits"].astype(int)
    return df[["scheme", "code", "level_digits", "name_sv"]]


@cache
def _education_groups() -> pd.DataFrame:
    return _read("education_groups.csv")[["code", "name_sv"]]


@cache
def _programmes() -> pd.DataFrame:
    return _read("programmes.csv")[["code", "name_sv", "kind", "sun_field"]]


def _check_level(level: object) -> int:
    if isinstance(level, bool) or not isinstance(level, int) or level not in SSYK_LEVEL_SIZES:
        raise KompetensprognosError(f"SSYK level must be 1, 2, 3 or 4, not {level!r}")
    return level


def _not_ssyk(code: object) -> KompetensprognosError:
    hint = ""
    if not isinstance(code, str):
        hint = " — SSYK codes must be text such as '2512' or '0110'"
    return KompetensprognosError(
        f"{code!r} is not an SSYK 2012 code{hint} (nor {UNKNOWN_SSYK!r}, unknown occupation)"
    )


def ssyk(level: int | None = None) -> pd.DataFrame:
    """Return SSYK 2012 codes with names and parents.

    Parameters
    ----------
    level : {1, 2, 3, 4} or None
        Keep only this level; ``None`` returns all 633 codes.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (text), ``level`` (int), ``parent`` (text, missing at level 1),
        ``name_sv``, ``name_en``; sorted by level and code. A copy. Does not contain
        :data:`UNKNOWN_SSYK`.

    Examples
    --------
    >>> len(ssyk(4)), ssyk(2).code.iloc[0]
    (429, '01')
    """
    df = _ssyk()
    if level is not None:
        df = df[df["level"] == _check_level(level)]
    return df.reset_index(drop=True).copy()


def is_ssyk(code: object, level: int | None = None) -> bool:
    """Tell whether ``code`` is a valid SSYK 2012 code (as text), optionally of one level.

    :data:`UNKNOWN_SSYK` (``"0002"``) counts as valid at every level, because SCB tables use
    it for unknown occupations whatever their level.

    Examples
    --------
    >>> is_ssyk("2512"), is_ssyk("2512", level=3), is_ssyk(2512), is_ssyk("0002", level=3)
    (True, False, False, True)
    """
    if level is not None:
        _check_level(level)
    if not isinstance(code, str):
        return False
    if code == UNKNOWN_SSYK:
        return True
    entry = _ssyk_index().get(code)
    return entry is not None and (level is None or entry[0] == level)


def ssyk_level(code: str) -> int:
    """Return the level (1–4) of an SSYK 2012 code.

    Raises
    ------
    KompetensprognosError
        If ``code`` is not in SSYK 2012. This includes :data:`UNKNOWN_SSYK`, which has no
        level; test for it with ``code == UNKNOWN_SSYK``.

    Examples
    --------
    >>> ssyk_level("0110"), ssyk_level("25")
    (4, 2)
    """
    if code == UNKNOWN_SSYK:
        raise KompetensprognosError(
            f"{UNKNOWN_SSYK!r} (unknown occupation) is outside the SSYK tree and has no level"
        )
    entry = _ssyk_index().get(code) if isinstance(code, str) else None
    if entry is None:
        raise _not_ssyk(code)
    return entry[0]


def ssyk_name(code: str, lang: str = "sv") -> str:
    """Return the name of an SSYK 2012 code.

    Parameters
    ----------
    code : str
        An SSYK 2012 code of any level, or :data:`UNKNOWN_SSYK`.
    lang : {"sv", "en"}
        Swedish or English name.

    Examples
    --------
    >>> ssyk_name("2512"), ssyk_name("2512", lang="en")
    ('Mjukvaru- och systemutvecklare m.fl.', 'Software- and system developers')
    """
    if lang not in _UNKNOWN_NAMES:
        raise KompetensprognosError(f"lang must be 'sv' or 'en', not {lang!r}")
    if code == UNKNOWN_SSYK:
        return _UNKNOWN_NAMES[lang]
    entry = _ssyk_index().get(code) if isinstance(code, str) else None
    if entry is None:
        raise _not_ssyk(code)
    return entry[1] if lang == "sv" else entry[2]


def ssyk_ancestor(code: str, level: int) -> str:
    """Return the level-``level`` ancestor of an SSYK 2012 code (the code itself at its level).

    :data:`UNKNOWN_SSYK` maps to itself at every level.

    Raises
    ------
    KompetensprognosError
        If ``code`` is not an SSYK code or ``level`` is finer than the code.

    Examples
    --------
    >>> ssyk_ancestor("2512", 1), ssyk_ancestor("2512", 3), ssyk_ancestor("0002", 2)
    ('2', '251', '0002')
    """
    level = _check_level(level)
    if code == UNKNOWN_SSYK:
        return UNKNOWN_SSYK
    own = ssyk_level(code)
    if level > own:
        raise KompetensprognosError(
            f"SSYK code {code!r} is at level {own}; it has no level-{level} ancestor"
        )
    return code[:level]


def ssyk_ancestors(codes: pd.Series, level: int) -> pd.Series:
    """Vectorised :func:`ssyk_ancestor`: map a Series of codes to their level-``level`` ancestors.

    Parameters
    ----------
    codes : pandas.Series
        SSYK codes as text, each at level ``level`` or finer, or :data:`UNKNOWN_SSYK`.
    level : {1, 2, 3, 4}

    Returns
    -------
    pandas.Series
        Same index and name as ``codes``.

    Raises
    ------
    KompetensprognosError
        Naming the values that are not SSYK codes or are coarser than ``level``.

    Examples
    --------
    >>> ssyk_ancestors(pd.Series(["2512", "0110", "0002"]), 2).tolist()
    ['25', '01', '0002']
    """
    level = _check_level(level)
    index = _ssyk_index()
    uniques = pd.unique(codes)
    mapping: dict[object, str] = {}
    bad: list[object] = []
    for code in uniques:
        if code == UNKNOWN_SSYK:
            mapping[code] = UNKNOWN_SSYK
        elif isinstance(code, str) and code in index and index[code][0] >= level:
            mapping[code] = code[:level]
        else:
            bad.append(code)
    if bad:
        shown = ", ".join(repr(v) for v in bad[:10])
        more = f" (+{len(bad) - 10} more)" if len(bad) > 10 else ""
        raise KompetensprognosError(
            f"cannot map to SSYK level {level}: {shown}{more} — values must be SSYK 2012 codes "
            f"as text (such as '2512') at level {level} or finer, or {UNKNOWN_SSYK!r}"
        )
    return codes.map(mapping)


def sun_fields(level_digits: int | None = None) -> pd.DataFrame:
    """Return SUN 2020 fields of education (*utbildningsinriktningar*).

    Parameters
    ----------
    level_digits : {1, 2, 3, 4} or None
        Keep only codes of this length (10, 26, 118 or 377 codes); ``None`` returns all 531.

    Returns
    -------
    pandas.DataFrame
        Columns ``code``, ``level_digits`` (int), ``parent`` (missing at level 1), ``name_sv``.
        Four-character codes end in a letter (``"010c"``). A copy.

    Examples
    --------
    >>> sun_fields(2).set_index("code").loc["48", "name_sv"]
    'Informations- och kommunikationsteknik (IKT)'
    """
    df = _sun_fields()
    if level_digits is not None:
        if level_digits not in (1, 2, 3, 4):
            raise KompetensprognosError(
                f"SUN 2020 field level_digits must be 1, 2, 3 or 4, not {level_digits!r}"
            )
        df = df[df["level_digits"] == level_digits]
    return df.reset_index(drop=True).copy()


def sun_levels(scheme: str | None = None) -> pd.DataFrame:
    """Return SUN 2020 levels of education (*utbildningsnivåer*).

    Parameters
    ----------
    scheme : {"sun2020", "sun2000_1to7"} or None
        ``"sun2020"``: SUN 2020 levels at 1, 2 and 3 digits; ``"sun2000_1to7"``: the older 1–7
        aggregate used in many SCB tables (e.g. ``UtbNivaSUN2000``). ``None`` returns both; codes
        overlap between schemes, so filter on ``scheme`` before joining.

    Returns
    -------
    pandas.DataFrame
        Columns ``scheme``, ``code``, ``level_digits`` (int), ``name_sv``. A copy.

    Examples
    --------
    >>> sun_levels("sun2020").query("level_digits == 1").code.tolist()
    ['0', '1', '2', '3', '4', '5', '6']
    """
    df = _sun_levels()
    if scheme is not None:
        schemes = sorted(df["scheme"].unique())
        if scheme not in schemes:
            raise KompetensprognosError(
                f"unknown SUN level scheme {scheme!r}; use one of: {', '.join(schemes)}"
            )
        df = df[df["scheme"] == scheme]
    return df.reset_index(drop=True).copy()


def education_groups() -> pd.DataFrame:
    """Return SCB's education groups (SUN-RUAP) used in regional labour-market forecasts.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (e.g. ``"75N"``) and ``name_sv``; 98 rows. A copy.

    Examples
    --------
    >>> education_groups().set_index("code").loc["75N", "name_sv"]
    'Sjuksköterskeutbildning'
    """
    return _education_groups().copy()


def programmes() -> pd.DataFrame:
    """Return the upper-secondary (gymnasium) programmes.

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (Skolverket's two-letter code), ``name_sv``, ``kind``
        (``"yrkesprogram"``, ``"högskoleförberedande"`` or ``"introduktionsprogram"``) and
        ``sun_field`` (the SUN 2020 field the programme prepares for; missing for ``"IM"``).
        19 rows: 18 national programmes and the introduction programmes. A copy.

    Examples
    --------
    >>> p = programmes().set_index("code")
    >>> p.loc["VO", "kind"], p.loc["VO", "sun_field"]
    ('yrkesprogram', '723')
    """
    return _programmes().copy()


def programme_name(code: str) -> str:
    """Return the Swedish name of an upper-secondary programme.

    Examples
    --------
    >>> programme_name("NA")
    'Naturvetenskapsprogrammet'
    """
    df = _programmes()
    hit = df.loc[df["code"] == code, "name_sv"]
    if hit.empty:
        raise KompetensprognosError(
            f"unknown programme code {code!r}; valid codes are: {', '.join(df['code'])}"
        )
    return str(hit.iloc[0])
