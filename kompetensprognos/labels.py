"""Swedish labels for the output tables: one place for column names, table names, status words,
status colours and number formats, shared by the Excel workbook, the HTML tables and the landing
page.

The CSV tables keep their English column names (``ssyk``, ``p_shortage``, ``lo80``…): they are the
machine-readable contract. Everything a council member reads goes through this module, so a
column is called the same thing in the report, the workbook and on the landing page.

A column this module does not know (a table gained a column) still works: it gets a readable
label built from its name and a number format guessed from its name and type, see
:func:`column_spec`.

Examples
--------
>>> column_spec("p_shortage").label
'Sannolikhet för brist'
>>> column_spec("recruitment_need_lo80").label
'Rekryteringsbehov, lägre gräns (80 %)'
>>> column_spec("recruitment_need_lo80").kind
'count'
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from kompetensprognos.classifications import ssyk_name

__all__ = [
    "EXCEL_FORMATS",
    "NBSP",
    "STATUS_COLORS",
    "STATUS_LABELS",
    "STATUS_ORDER",
    "STATUS_TINTS",
    "TABLE_LABELS",
    "ColumnSpec",
    "column_spec",
    "education_name",
    "fmt_float",
    "fmt_int",
    "fmt_pct",
    "fmt_prob",
    "format_value",
    "occupation_label",
    "occupation_name",
    "sheet_name",
    "status_label",
    "value_of",
]

NBSP = "\u00a0"
"""Non-breaking space: the thousands separator and the space before ``%``."""
_MINUS = "\u2212"
_DASH = "\u2013"  # en dash for ranges: 2023–2030


# --------------------------------------------------------------------------- number formatting
def _is_missing(x: Any) -> bool:
    try:
        return x is None or math.isnan(float(x))
    except (TypeError, ValueError):
        return True


def fmt_int(x: float | int | None) -> str:
    """Format a number as a whole number the Swedish way (non-breaking space between thousands).

    Rounds with Python's :func:`round` (as the batch summary does); missing values give ``"–"``;
    negative numbers get a true minus sign.

    Examples
    --------
    >>> fmt_int(12345.6) == "12\\u00a0346"
    True
    >>> fmt_int(-1500) == "\\u22121\\u00a0500", fmt_int(float("nan"))
    (True, '–')
    """
    if _is_missing(x):
        return _DASH
    n = int(round(float(x)))  # type: ignore[arg-type]
    text = f"{abs(n):,}".replace(",", NBSP)
    return f"{_MINUS}{text}" if n < 0 else text


def fmt_float(x: float | None, decimals: int = 1) -> str:
    """Format a number with a decimal comma.

    Examples
    --------
    >>> fmt_float(0.854, 2), fmt_float(1234.5, 1) == "1\\u00a0234,5"
    ('0,85', True)
    """
    if _is_missing(x):
        return _DASH
    text = f"{abs(float(x)):,.{decimals}f}".replace(",", " ").replace(".", ",")  # type: ignore[arg-type]
    text = text.replace(" ", NBSP)
    return f"{_MINUS}{text}" if round(float(x), decimals) < 0 else text  # type: ignore[arg-type]


def fmt_pct(x: float | None, decimals: int = 0, sign: bool = False) -> str:
    """Format a share (0.12) as a Swedish percentage (``"12 %"``, non-breaking space).

    Parameters
    ----------
    x : float
        A share; ``0.12`` is 12 %.
    decimals : int, default 0
    sign : bool, default False
        Prefix positive values with ``+`` (for changes).

    Examples
    --------
    >>> fmt_pct(0.123) == "12\\u00a0%", fmt_pct(0.05, sign=True) == "+5\\u00a0%"
    (True, True)
    """
    if _is_missing(x):
        return _DASH
    text = fmt_float(100 * float(x), decimals)  # type: ignore[arg-type]
    if sign and round(100 * float(x), decimals) > 0:  # type: ignore[arg-type]
        text = "+" + text
    return f"{text}{NBSP}%"


def fmt_prob(p: float | None) -> str:
    """Format a probability as a percentage, without claiming certainty.

    Simulated probabilities of exactly 0 or 1 only mean "in none/all of the draws", so values
    that round to 0 % or 100 % are shown as ``"<1 %"`` / ``">99 %"``.

    Examples
    --------
    >>> [fmt_prob(p).replace("\u00a0", " ") for p in (0.0, 0.423, 0.999)]
    ['<1 %', '42 %', '>99 %']
    """
    if _is_missing(p):
        return _DASH
    p = float(p)  # type: ignore[arg-type]
    if p < 0.005:
        return f"<1{NBSP}%"
    if p >= 0.995:
        return f">99{NBSP}%"
    return fmt_pct(p)


Kind = Literal["count", "share", "prob", "ratio", "decimal", "year", "int", "code", "text"]


@dataclass(frozen=True)
class ColumnSpec:
    """How one table column is named and shown.

    Attributes
    ----------
    label : str
        Swedish header.
    kind : str
        ``count`` (people, whole numbers), ``share`` and ``prob`` (per cent), ``ratio`` (two
        decimals), ``decimal`` (two decimals), ``year``, ``int``, ``code`` (text with leading
        zeros kept) or ``text``.
    description : str
        One Swedish sentence for the workbook's "Läs mig" sheet.
    width : int
        Excel column width in characters.
    """

    label: str
    kind: Kind
    description: str = ""
    width: int = 14


_C = ColumnSpec
# Known columns of the output tables (report.TABLE_NAMES). Order does not matter here.
_COLUMNS: dict[str, ColumnSpec] = {
    "region": _C("Region", "code", "Regionens id, t.ex. skaraborg.", 16),
    "ssyk": _C("SSYK", "code", "Yrkeskod enligt SSYK 2012 (text, inledande nollor behålls).", 8),
    "occupation": _C("Yrke", "text", "Yrkets namn enligt SSYK 2012.", 48),
    "ssyk_level": _C("SSYK-nivå", "int", "Nivå i SSYK: 1 = yrkesområde … 4 = yrkesgrupp.", 10),
    "year": _C("År", "year", "Kalenderår.", 7),
    "kind": _C("Typ", "text", "observed = statistik, forecast = prognos.", 11),
    "employed": _C("Sysselsatta", "count", "Antal förvärvsarbetande (dagbefolkning).", 13),
    "lo80": _C("Lägre gräns (80 %)", "count", "Nedre gräns för 80 % osäkerhetsintervall.", 13),
    "hi80": _C("Övre gräns (80 %)", "count", "Övre gräns för 80 % osäkerhetsintervall.", 13),
    "lo95": _C("Lägre gräns (95 %)", "count", "Nedre gräns för 95 % osäkerhetsintervall.", 13),
    "hi95": _C("Övre gräns (95 %)", "count", "Övre gräns för 95 % osäkerhetsintervall.", 13),
    "period_start": _C("Periodens start", "year", "Första året i prognosperioden.", 10),
    "period_end": _C("Periodens slut", "year", "Sista året i prognosperioden.", 10),
    "employed_start": _C("Sysselsatta vid start", "count", "Sysselsatta periodens första år.", 14),
    "employed_end": _C("Sysselsatta vid slut", "count", "Sysselsatta periodens sista år.", 14),
    "expansion": _C(
        "Expansionsbehov", "count", "Ökningen av antalet sysselsatta (noll om yrket krymper).", 15
    ),
    "replacement": _C(
        "Ersättningsbehov", "count", "De som lämnar yrket, främst genom pension.", 15
    ),
    "recruitment_need": _C(
        "Rekryteringsbehov", "count", "Expansionsbehov (om positivt) + ersättningsbehov.", 16
    ),
    "openings": _C("Lediga jobb", "count", "Jobb som behöver tillsättas under perioden.", 13),
    "new_entrants": _C(
        "Nytillskott",
        "count",
        "Nyutbildade som väntas börja arbeta och stanna i regionen i yrket.",
        13,
    ),
    "supply": _C("Tillgång", "count", "Nytillskott av arbetskraft.", 12),
    "balance_ratio": _C(
        "Kvot nytillskott/behov", "ratio", "Nytillskott delat med rekryteringsbehov.", 14
    ),
    "status": _C("Status", "text", "Bedömning: brist, balans eller överskott.", 24),
    "p_shortage": _C(
        "Sannolikhet för brist", "prob", "Andel simulerade utfall där yrket har brist.", 14
    ),
    "p_balance": _C("Sannolikhet för balans", "prob", "Andel simulerade utfall i balans.", 14),
    "p_surplus": _C(
        "Sannolikhet för överskott", "prob", "Andel simulerade utfall med överskott.", 14
    ),
    "gap": _C("Gap", "count", "Nytillskott minus rekryteringsbehov.", 12),
    "covered_need": _C("Täckt behov", "count", "Den del av behovet som nytillskottet täcker.", 13),
    "covered_share": _C("Täckt andel", "share", "Andel av behovet som nytillskottet täcker.", 12),
    "supply_covered": _C(
        "Utbildning kopplad", "text", "ja om minst en utbildning leder till yrket.", 12
    ),
    "n_covered": _C("Antal yrken", "int", "Antal yrken som utbildningen leder till.", 11),
    "share": _C("Andel", "share", "Andel (0–100 %).", 10),
    "education": _C("Utbildningskod", "code", "Program (gymnasiet) eller SUN 2020-inriktning.", 12),
    "education_name": _C("Utbildning", "text", "Utbildningens namn.", 44),
    "type": _C(
        "Utbildningsform", "text", "gymnasium, yh (yrkeshögskola) eller higher (högskola).", 14
    ),
    "graduates": _C("Examinerade", "count", "Antal examinerade under året.", 12),
    "starters": _C("Nybörjare", "count", "Antal som började utbildningen.", 12),
    "af_status": _C(
        "Arbetsförmedlingens bedömning", "text", "Yrkesbarometerns bedömning för länet.", 18
    ),
    "af_n": _C("Antal i yrkesbarometern", "int", "Antal bedömda yrken i yrkesbarometern.", 12),
    "model": _C(
        "Modell", "text", "kompetensprognos = vår modell; övriga är jämförelsemetoder.", 18
    ),
    "horizon": _C("År framåt", "int", "Prognoshorisont i år.", 9),
    "origin": _C("Prognosår", "year", "Sista året med data när prognosen gjordes.", 10),
    "cutoff": _C("Prognosår", "year", "Sista året med data när prognosen gjordes.", 10),
    "smape": _C("sMAPE", "decimal", "Symmetriskt absolut procentfel (procentenheter).", 9),
    "mase": _C("MASE", "decimal", "Medelfel relativt naiv prognos (lägre är bättre).", 9),
    "mape": _C("MAPE", "share", "Genomsnittligt absolut procentfel.", 9),
    "rmse": _C("RMSE", "decimal", "Kvadratiskt medelfel.", 9),
    "coverage80": _C("Träffsäkerhet 80 %", "share", "Andel utfall inom 80 % intervall.", 12),
    "coverage95": _C("Träffsäkerhet 95 %", "share", "Andel utfall inom 95 % intervall.", 12),
    "direction_accuracy": _C("Rätt riktning", "share", "Andel prognoser som pekade rätt.", 12),
    "n": _C("Antal", "int", "Antal observationer.", 9),
    "section": _C("Avsnitt", "text", "Rapportens avsnitt.", 12),
    "message": _C("Meddelande", "text", "Anmärkning.", 80),
}

# Suffixes for interval bounds of any count column, e.g. ``recruitment_need_lo80``.
_BOUND = re.compile(r"^(?P<base>.+)_(?P<side>lo|hi)(?P<level>\d\d)$")
# Newcomer channels added by the supply model (``new_entrants_<channel>``).
_CHANNELS = {
    "education": "utbildning",
    "gymnasium": "gymnasieskolan",
    "yh": "yrkeshögskolan",
    "higher": "högskolan",
    "migration": "inflyttning",
    "inflow": "inflyttning",
    "commuting": "inpendling",
    "unemployed": "arbetslösa",
    "mobility": "yrkesbyten",
    "other": "övriga",
}

TABLE_LABELS: dict[str, str] = {
    "employment_forecast": "Sysselsättning",
    "recruitment_need": "Rekryteringsbehov",
    "backtest": "Bakåttest",
    "education_output": "Examinerade",
    "supply": "Nytillskott",
    "balance": "Balans per yrke",
    "balance_education": "Balans per utbildning",
    "notes": "Anmärkningar",
}
"""Swedish sheet names (at most 31 characters, as Excel allows) for the output tables."""

STATUS_ORDER: tuple[str, ...] = ("brist", "balans", "överskott")
STATUS_LABELS: dict[str, str] = {
    "brist": "Brist",
    "balans": "Balans",
    "överskott": "Överskott",
    "ingen utbildning kopplad": "Ingen utbildning kopplad",
    "för litet underlag": "För litet underlag",
}
# Okabe–Ito colours (as plots.COLORS): vermillion, grey and sky blue stay apart under the common
# colour-vision deficiencies (ΔE*ab ≥ 20 with simulated protanopia, deuteranopia and tritanopia,
# see tests/test_landing.py). Bluish green (#009E73) was dropped for överskott: it has the same
# lightness as the grey and the two merge with deuteranopia (ΔE 9.6). Text always names the
# status as well, so colour is never the only cue.
STATUS_COLORS: dict[str, str] = {"brist": "#D55E00", "balans": "#8C8C8C", "överskott": "#56B4E9"}
#: Light backgrounds for table cells: as far apart as the colours above, and dark text on them
#: keeps a contrast of at least 7:1 (WCAG AAA).
STATUS_TINTS: dict[str, str] = {"brist": "#F4B183", "balans": "#F2F2F2", "överskott": "#86BEE3"}

#: Excel number formats per column kind (Excel shows them with the reader's locale separators).
EXCEL_FORMATS: dict[str, str] = {
    "count": "#,##0",
    "share": "0%",
    "prob": "0%",
    "ratio": "0.00",
    "decimal": "0.00",
    "year": "0",
    "int": "0",
    "code": "@",
    "text": "@",
}


def column_spec(column: str, dtype: Any = None) -> ColumnSpec:
    """The Swedish label, kind and description of a table column.

    Known columns come from a fixed list; interval bounds (``<col>_lo80``) and newcomer channels
    (``new_entrants_<channel>``) are derived; anything else keeps its name and gets a kind
    guessed from the name (``p_…`` probability, ``…share`` per cent) or from ``dtype``.

    Examples
    --------
    >>> column_spec("new_entrants_migration").label
    'Nytillskott: inflyttning'
    >>> column_spec("brand_new_column", "float64").kind
    'decimal'
    """
    if column in _COLUMNS:
        return _COLUMNS[column]
    m = _BOUND.match(column)
    if m:
        base = column_spec(m["base"], dtype)
        side = "lägre" if m["side"] == "lo" else "övre"
        return ColumnSpec(
            f"{base.label}, {side} gräns ({m['level']} %)",
            base.kind,
            f"{side.capitalize()} gräns för {m['level']} % osäkerhetsintervall: {base.label.lower()}.",
            base.width,
        )
    if column.startswith("new_entrants_"):
        channel = column.removeprefix("new_entrants_")
        word = _CHANNELS.get(channel, channel.replace("_", " "))
        return ColumnSpec(f"Nytillskott: {word}", "count", f"Nytillskott från {word}.", 14)
    label = column.replace("_", " ").capitalize()
    if column.startswith("p_"):
        return ColumnSpec(label, "prob", "", 12)
    if column.endswith("share") or column.endswith("_rate"):
        return ColumnSpec(label, "share", "", 12)
    kind: Kind = "text"
    if dtype is not None:
        if pd.api.types.is_integer_dtype(dtype):
            kind = "int"
        elif pd.api.types.is_float_dtype(dtype):
            kind = "decimal"
    return ColumnSpec(label, kind, "", max(10, min(40, len(label) + 2)))


def sheet_name(table: str) -> str:
    """The Swedish sheet name of a table (its own name, cut to 31 characters, if unknown).

    Examples
    --------
    >>> sheet_name("balance"), sheet_name("something_new")
    ('Balans per yrke', 'something_new')
    """
    return TABLE_LABELS.get(table, table)[:31]


def status_label(status: Any) -> str:
    """The display word for a status value (``"brist"`` → ``"Brist"``); ``"–"`` when missing.

    Examples
    --------
    >>> status_label("överskott"), status_label(None)
    ('Överskott', '–')
    """
    if status is None or (isinstance(status, float) and math.isnan(status)):
        return "–"
    s = str(status)
    return STATUS_LABELS.get(s, s[:1].upper() + s[1:])


# SSYK 1 names are long sentences ("Yrken med krav på ..."); these are the short forms used in
# charts. The full names stay in the tables.
_SHORT_SSYK1 = {
    "0": "Militära yrken",
    "1": "Chefsyrken",
    "2": "Yrken med fördjupad högskolekompetens",
    "3": "Yrken med högskolekompetens",
    "4": "Administration och kundtjänst",
    "5": "Service, omsorg och försäljning",
    "6": "Lantbruk, trädgård, skogsbruk och fiske",
    "7": "Bygg och tillverkning",
    "8": "Maskinell tillverkning och transport",
    "9": "Yrken med kortare utbildning",
}
_PREFIXES = (
    ("Yrken med krav på fördjupad högskolekompetens inom ", "Specialister inom "),
    ("Yrken med krav på högskolekompetens eller motsvarande inom ", "Högskoleyrken inom "),
)


def occupation_label(code: str, width: int | None = 40) -> str:
    """A short, readable Swedish name for an SSYK code (for chart labels).

    SSYK 1 groups get hand-written short names; the long SSYK 2 phrases "Yrken med krav på
    (fördjupad) högskolekompetens inom X" become "Specialister inom X" / "Högskoleyrken inom X";
    a trailing "m.fl." / "m.m." is dropped when the name is too long, and a name still longer than
    ``width`` is cut at a word boundary with "…". ``"total"`` gives ``"Samtliga yrken"``; a code
    outside SSYK is returned as it is.

    Parameters
    ----------
    code : str
        SSYK 2012 code (text), ``"0002"`` or ``"total"``.
    width : int or None, default 40
        Maximum length; ``None`` never cuts.

    Examples
    --------
    >>> occupation_label("2512")
    'Mjukvaru- och systemutvecklare m.fl.'
    >>> occupation_label("3"), occupation_label("22")
    ('Yrken med högskolekompetens', 'Specialister inom hälso- och sjukvård')
    """
    code = str(code)
    if code == "total":
        return "Samtliga yrken"
    if code in _SHORT_SSYK1:
        name = _SHORT_SSYK1[code]
    else:
        try:
            name = ssyk_name(code)
        except Exception:  # not an SSYK code: show what we were given
            return code
        for long, short in _PREFIXES:
            if name.startswith(long):
                name = short + name[len(long) :]
    if width is None or len(name) <= width:
        return name
    for tail in (" m.fl.", " m.m."):
        if name.endswith(tail):
            name = name[: -len(tail)]
    if len(name) <= width:
        return name
    return textwrap.shorten(name, width=width, placeholder=" …")


def occupation_name(code: Any, official: bool = False) -> str:
    """Swedish name of an SSYK code, ``"Samtliga yrken"`` for the total, else the code itself.

    Parameters
    ----------
    code : str
        SSYK 2012 code or ``"total"``.
    official : bool, default False
        The official SSYK name (for the workbook) instead of the readable form used in the
        report (:func:`occupation_label` without cutting).

    Examples
    --------
    >>> occupation_name("2221"), occupation_name("total")
    ('Grundutbildade sjuksköterskor', 'Samtliga yrken')
    >>> occupation_name("22")
    'Specialister inom hälso- och sjukvård'
    >>> occupation_name("22", official=True)
    'Yrken med krav på fördjupad högskolekompetens inom hälso- och sjukvård'
    """
    code = str(code)
    if official and code != "total":
        try:
            return ssyk_name(code)
        except Exception:  # not an SSYK code: show what we were given
            return code
    return occupation_label(code, width=None)


def education_name(code: Any, education_type: Any = None) -> str:
    """Swedish name of an education code: a gymnasium programme, a SUN 2020 field or an
    education group (SUN-RUAP); the code itself when no name is known.

    Examples
    --------
    >>> education_name("VO", "gymnasium")
    'Vård- och omsorgsprogrammet'
    >>> education_name("48", "higher")
    'Informations- och kommunikationsteknik (IKT)'
    """
    return _education_names().get((str(education_type), str(code))) or _education_names().get(
        ("*", str(code)), str(code)
    )


_EDU_CACHE: dict[tuple[str, str], str] = {}


def _education_names() -> dict[tuple[str, str], str]:
    if not _EDU_CACHE:
        from kompetensprognos.classifications import education_groups, programmes, sun_fields

        for r in programmes().itertuples():
            _EDU_CACHE[("gymnasium", str(r.code))] = str(r.name_sv)
        for r in sun_fields().itertuples():
            _EDU_CACHE.setdefault(("*", str(r.code)), str(r.name_sv))
        for r in education_groups().itertuples():
            _EDU_CACHE.setdefault(("*", str(r.code)), str(r.name_sv))
    return _EDU_CACHE


def format_value(value: Any, kind: str) -> str:
    """Format one value for HTML the Swedish way, by column kind.

    Examples
    --------
    >>> format_value(12345.4, "count") == "12\u00a0345", format_value(0.42, "prob") == "42\u00a0%"
    (True, True)
    >>> format_value(0.5, "ratio"), format_value(float("nan"), "count")
    ('0,50', '–')
    """
    if kind == "count":
        return fmt_int(value)
    if kind == "prob":
        return fmt_prob(value)
    if kind == "share":
        return fmt_pct(value)
    if kind in ("ratio", "decimal"):
        return fmt_float(value, 2)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if kind in ("year", "int"):
        try:
            return str(int(value))
        except (TypeError, ValueError):
            return str(value)
    return str(value)


def value_of(x: Any, key: str, default: Any = None) -> Any:
    """``key`` of a parameter object or mapping (``Params``, a ``Manifest`` or their dicts).

    Examples
    --------
    >>> value_of({"synthetic": True}, "synthetic"), value_of(None, "title", "–")
    (True, '–')
    """
    if x is None:
        return default
    if isinstance(x, Mapping):
        return x.get(key, default)
    return getattr(x, key, default)
