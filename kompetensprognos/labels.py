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
>>> column_spec("past_ratio").label
'Kvot, senaste perioden'
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
    "CHANNEL_LABELS",
    "EXCEL_FORMATS",
    "NBSP",
    "STATUS_COLORS",
    "STATUS_LABELS",
    "STATUS_ORDER",
    "STATUS_TINTS",
    "TABLE_LABELS",
    "VALUE_LABELS",
    "ColumnSpec",
    "column_spec",
    "education_name",
    "fmt_float",
    "fmt_int",
    "fmt_pct",
    "fmt_prob",
    "format_value",
    "is_known",
    "lower_first",
    "occupation_label",
    "occupation_name",
    "sheet_name",
    "status_label",
    "table_key",
    "value_label",
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

#: Swedish names of the newcomer channels of the centred balance, in report order
#: (:data:`kompetensprognos.balance.NEWCOMER_CHANNELS`). The one mapping for the workbook's
#: ``channel`` values and ``newcomers_<channel>`` headers and the report's channel chart.
CHANNEL_LABELS: dict[str, str] = {
    "graduates": "Gymnasieexaminerade",
    "further_study_leavers": "Examinerade från YH och högskola",
    "in_movers": "Inflyttade",
    "re_entrants": "Återinträdande (från arbetslöshet eller utanför arbetskraften)",
    "occupation_changers": "Yrkesbytare",
    "other_channels": "Övriga vägar (skattad rest)",
}
# What each channel counts (the workbook's "Läs mig" sheet).
_CHANNEL_TEXT = {
    "graduates": "gymnasieexaminerade som börjar arbeta i yrket",
    "further_study_leavers": "examinerade från yrkeshögskolan och högskolan som börjar arbeta i "
    "yrket",
    "in_movers": "inflyttade till regionen som börjar arbeta i yrket",
    "re_entrants": "personer som går till arbete i yrket från arbetslöshet eller från att ha stått "
    "utanför arbetskraften",
    "occupation_changers": "sysselsatta som byter till yrket från ett annat yrke (en antagen "
    "andel, ingen tabell mäter det)",
    "other_channels": "det som de senaste årens lediga jobb visar utöver de mätta vägarna, skattat "
    "per yrke; negativt där en del av inflödet inte hamnar i yrket",
}

# Known columns of the output tables (outputs.TABLE_NAMES), with the meaning they have in the
# main job's tables (the centred balance). Columns whose meaning differs between tables, or in
# the graduates-only balance, are overridden per table in _TABLE_COLUMNS. Order does not matter.
_COLUMNS: dict[str, ColumnSpec] = {
    "region": _C("Region", "code", "Regionens id, t.ex. skaraborg.", 16),
    "ssyk": _C("SSYK", "code", "Yrkeskod enligt SSYK 2012 (text, inledande nollor behålls).", 8),
    "occupation": _C("Yrke", "text", "Yrkets namn enligt SSYK 2012.", 48),
    "ssyk_level": _C("SSYK-nivå", "int", "Nivå i SSYK: 1 = yrkesområde … 4 = yrkesgrupp.", 10),
    "year": _C("År", "year", "Kalenderår.", 7),
    "kind": _C(
        "Typ", "text", "Statistik eller prognos (i CSV-filen: observed eller forecast).", 11
    ),
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
        "Expansionsbehov",
        "count",
        "Förändringen av antalet sysselsatta under perioden; negativ när yrket krymper.",
        15,
    ),
    "replacement": _C(
        "Ersättningsbehov", "count", "De som lämnar yrket under perioden, främst genom pension.", 15
    ),
    "recruitment_need": _C(
        "Rekryteringsbehov",
        "count",
        "Summan av varje års lediga jobb under perioden: årets förändring av antalet sysselsatta "
        "plus de som lämnar yrket, aldrig under noll. När yrket krymper räknas bara de avgångar "
        "som minskningen inte tar upp. För ett yrke som växer varje år är det ungefär "
        "expansionsbehov + ersättningsbehov.",
        16,
    ),
    "openings": _C(
        "Lediga jobb",
        "count",
        "Jobb som behöver tillsättas under året: förändringen av antalet sysselsatta plus de som "
        "lämnar yrket, aldrig under noll (inte SCB:s statistik över lediga jobb).",
        12,
    ),
    "new_entrants": _C(
        "Nytillskott",
        "count",
        "Nytillskott till yrket under prognosperioden från alla vägar: gymnasieexaminerade, "
        "examinerade från YH och högskola, inflyttade, återinträdande, yrkesbytare och övriga "
        "vägar.",
        13,
    ),
    "newcomers": _C(
        "Nytillskott",
        "count",
        "Personer som under året börjar arbeta i yrket via vägen i kolumnen Väg in i yrket.",
        12,
    ),
    "channel": _C(
        "Väg in i yrket",
        "text",
        "Varifrån nytillskottet kommer (i CSV-filen: " + ", ".join(CHANNEL_LABELS) + ").",
        30,
    ),
    "supply": _C("Tillgång", "count", "Nytillskott av arbetskraft.", 12),
    "past_start": _C(
        "Senaste periodens start",
        "year",
        "Första året i den senaste perioden, som prognosperioden jämförs med.",
        10,
    ),
    "past_end": _C("Senaste periodens slut", "year", "Sista året i den senaste perioden.", 10),
    "openings_past": _C(
        "Lediga jobb, senaste perioden",
        "count",
        "Summan av lediga jobb under den senaste perioden.",
        14,
    ),
    "newcomers_past": _C(
        "Nytillskott, senaste perioden",
        "count",
        "Nytillskott från alla vägar under den senaste perioden.",
        14,
    ),
    "past_ratio": _C(
        "Kvot, senaste perioden",
        "ratio",
        "Nytillskott delat med lediga jobb under den senaste perioden; nära 1, eftersom yrkena då "
        "faktiskt bemannades.",
        12,
    ),
    "outlook_ratio": _C(
        "Kvot, prognosperioden",
        "ratio",
        "Nytillskott delat med lediga jobb under prognosperioden, före jämförelsen med den "
        "senaste perioden.",
        12,
    ),
    "balance_ratio": _C(
        "Balanskvot",
        "ratio",
        "Kvoten under prognosperioden delad med kvoten under den senaste perioden, läst mot "
        "regionens övriga yrken och med utgångspunkt i dagens läge. Under 1: nytillskotten växer "
        "långsammare än de lediga jobben (mot brist); över 1: snabbare (mot överskott).",
        12,
    ),
    "status": _C(
        "Status",
        "text",
        "Bedömning: brist, balans eller överskott; för litet underlag när behovet är för litet "
        "för att bedöma.",
        24,
    ),
    "p_shortage": _C(
        "Sannolikhet för brist",
        "prob",
        "Andel simulerade utfall där kvoten hamnar under gränsen för brist; status brist när "
        "andelen är minst 50 %.",
        14,
    ),
    "p_balance": _C("Sannolikhet för balans", "prob", "Andel simulerade utfall i balans.", 14),
    "p_surplus": _C(
        "Sannolikhet för överskott",
        "prob",
        "Andel simulerade utfall där kvoten hamnar över gränsen för överskott; status överskott "
        "när andelen är minst 50 %.",
        14,
    ),
    "today_status": _C(
        "Dagens läge",
        "text",
        "Dagens läge enligt Arbetsförmedlingens yrkesbarometer (brist, balans eller överskott) "
        "där den finns; bedömningen utgår då från det. Tomt annars.",
        14,
    ),
    "today_ratio": _C(
        "Dagens läge (kvot)",
        "ratio",
        "Dagens läge som kvot: nytillskott mot lediga jobb de två sista åren av den senaste "
        "perioden jämfört med hela perioden. Balanskvoten utgår från den; tomt räknas som 1. "
        "På syntetiska data hämtas den från generatorns kända utfall.",
        12,
    ),
    "model_ratio": _C(
        "Modellens kvot",
        "ratio",
        "Modellens egen förändring av balansen jämfört med den senaste perioden, läst mot "
        "regionens övriga yrken, före dagens läge.",
        12,
    ),
    "outlook_shift": _C(
        "Regionens förskjutning",
        "ratio",
        "Medianen av yrkenas kvoter i regionen, som varje yrke läses mot (samma på alla rader). "
        "Under 1: nytillskotten släpar efter de lediga jobben i hela regionen.",
        12,
    ),
    **{
        f"newcomers_{ch}": _C(
            f"Nytillskott: {name[:1].lower() + name[1:]}",
            "count",
            f"Nytillskott under prognosperioden från {_CHANNEL_TEXT[ch]}.",
            14,
        )
        for ch, name in CHANNEL_LABELS.items()
    },
    "gap": _C("Gap", "count", "Nytillskott minus rekryteringsbehov.", 12),
    "covered_need": _C(
        "Täckt behov", "count", "Rekryteringsbehov i yrken som minst en utbildning leder till.", 13
    ),
    "covered_share": _C(
        "Täckt andel",
        "share",
        "Andel av rekryteringsbehovet som ligger i yrken som minst en utbildning leder till.",
        12,
    ),
    "supply_covered": _C(
        "Utbildning kopplad", "text", "ja om minst en utbildning leder till yrket.", 12
    ),
    "n_covered": _C("Antal yrken", "int", "Antal yrken som utbildningen leder till.", 11),
    "share": _C("Andel", "share", "Andel (0–100 %).", 10),
    "education": _C("Utbildningskod", "code", "Program (gymnasiet) eller SUN 2020-inriktning.", 12),
    "education_name": _C("Utbildning", "text", "Utbildningens namn.", 44),
    "type": _C(
        "Utbildningsform",
        "text",
        "Förgymnasial (bara grundskola), gymnasieskola, yrkeshögskola eller högskola (i CSV-filen: "
        "forgymnasial, gymnasium, yh, higher).",
        14,
    ),
    "graduates": _C("Examinerade", "count", "Antal examinerade under året.", 12),
    "starters": _C("Nybörjare", "count", "Antal som började utbildningen.", 12),
    # labour_supply and balance_education (the stock-flow supply, per education group)
    "population": _C(
        "Befolkning 16–74 år", "count", "Invånare 16–74 år med utbildningen vid årets slut.", 13
    ),
    "labour_force": _C(
        "Arbetskraft", "count", "Sysselsatta och arbetslösa 16–74 år med utbildningen.", 13
    ),
    "labour_supply": _C(
        "Tillgång (sysselsatta)",
        "count",
        "Tillgången på arbetskraft: sysselsatta 16–74 år med utbildningen.",
        13,
    ),
    "labour_supply_start": _C(
        "Tillgång vid start",
        "count",
        "Tillgång (sysselsatta) basåret, det sista året med statistik.",
        13,
    ),
    "labour_supply_end": _C(
        "Tillgång vid slut", "count", "Tillgång (sysselsatta) prognosperiodens sista år.", 13
    ),
    "demand_start": _C(
        "Efterfrågan vid start",
        "count",
        "Sysselsatta i de yrken utbildningen leder till, fördelade efter yrkenas utbildningar, "
        "basåret.",
        13,
    ),
    "demand_end": _C(
        "Efterfrågan vid slut",
        "count",
        "Efterfrågan prognosperiodens sista år: prognosen för de sysselsatta i de yrken "
        "utbildningen leder till, fördelade på samma sätt.",
        13,
    ),
    # supply_flows (population_end = population_start + the inflows − the outflows)
    "population_start": _C(
        "Befolkning vid årets start",
        "count",
        "Invånare 16–74 år med utbildningen vid årets början.",
        13,
    ),
    "age_entries": _C(
        "Åldersinträden", "count", "Personer som under året kommer in i åldersspannet 16–74 år.", 12
    ),
    "age_exits": _C("Åldersutträden", "count", "Personer som under året fyller 75 år.", 12),
    "deaths": _C("Döda", "count", "Avlidna under året.", 10),
    "further_study": _C(
        "Vidareutbildning", "count", "Personer som lämnar gruppen för att studera vidare.", 13
    ),
    "in_movers": _C(
        "Inflyttade",
        "count",
        "Inflyttade under året; flyttar mellan regionens kommuner räknas också.",
        11,
    ),
    "out_movers": _C(
        "Utflyttade",
        "count",
        "Utflyttade under året; flyttar mellan regionens kommuner räknas också.",
        11,
    ),
    "population_end": _C(
        "Befolkning vid årets slut",
        "count",
        "Invånare 16–74 år vid årets slut = start + åldersinträden − åldersutträden − döda + "
        "examinerade − vidareutbildning + inflyttade − utflyttade.",
        13,
    ),
    # balance_backtest (the scored calls, synthetic data)
    "truth_ratio": _C(
        "Utfall (kvot)",
        "ratio",
        "Utfallet i de syntetiska data: generatorns kända kvot nytillskott/lediga jobb åren efter "
        "prognosåret jämfört med åren fram till prognosåret.",
        12,
    ),
    "truth_status": _C(
        "Utfall (status)",
        "text",
        "Utfallet i de syntetiska data: brist, balans eller överskott enligt generatorns kända "
        "kvot.",
        14,
    ),
    "carry_status": _C(
        "Dagens läge fört vidare",
        "text",
        "Jämförelsemetod: läget vid prognosåret (utfallet de två sista åren) fört vidare "
        "oförändrat.",
        14,
    ),
    "today_p_shortage": _C(
        "Sannolikhet för brist, dagens läge som status",
        "prob",
        "Sannolikhet för brist när dagens läge som status styr bedömningen.",
        14,
    ),
    "old_status": _C(
        "Status, äldre metoden",
        "text",
        "Bedömningen med den äldre metoden, som bara räknar nyutbildade.",
        14,
    ),
    "old_p_shortage": _C(
        "Sannolikhet för brist, äldre metoden",
        "prob",
        "Sannolikhet för brist med den äldre metoden, som bara räknar nyutbildade.",
        14,
    ),
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

# the ratio and probability of the graduates-only balance (per occupation and per education)
_GRADUATES_ONLY_RATIO: dict[str, ColumnSpec] = {
    "balance_ratio": _C(
        "Kvot nytillskott/behov", "ratio", "Nytillskott delat med rekryteringsbehov.", 14
    ),
    "p_shortage": _C(
        "Sannolikhet för brist",
        "prob",
        "Andel simulerade utfall där nytillskottet blir mindre än rekryteringsbehovet.",
        14,
    ),
}

_GRADUATES_ONLY = "den äldre metoden, som bara räknar nyutbildade"
# Columns whose meaning depends on the table, by table key (see table_key): a table's own entry
# wins over _COLUMNS.
_TABLE_COLUMNS: dict[str, dict[str, ColumnSpec]] = {
    # the centred balance: openings with gross separations
    "balance": {
        "recruitment_need": _C(
            "Rekryteringsbehov",
            "count",
            "Summan av de lediga jobben under prognosperioden, räknat med alla som lämnar yrket, även "
            "de som byter yrke eller flyttar. Därför högre än på bladet Rekryteringsbehov, som "
            "bara räknar pensioner och andra avgångar ur arbetslivet.",
            16,
        ),
        "gap": _C(
            "Gap",
            "count",
            "Nytillskott minus rekryteringsbehov under prognosperioden. Jämförs inte direkt: "
            "statusen bygger på balanskvoten.",
            12,
        ),
    },
    # the centred run's balance per education group: stocks, as growth from the base year
    "balance_education": {
        "period_start": _C(
            "Basår", "year", "Sista året med statistik; förändringen räknas därifrån.", 8
        ),
        "recruitment_need": _C(
            "Efterfrågan vid slut (jämförs)",
            "count",
            "Samma som Efterfrågan vid slut: den efterfrågan som tillgången jämförs med.",
            14,
        ),
        "new_entrants": _C(
            "Tillgång vid slut (jämförs)",
            "count",
            "Samma som Tillgång vid slut: den tillgång som jämförs med efterfrågan.",
            14,
        ),
        "balance_ratio": _C(
            "Balanskvot",
            "ratio",
            "Tillgångens förändring från basåret till periodens slut delad med efterfrågans. "
            "Under 1: efterfrågan växer snabbare än tillgången (mot brist); över 1: tvärtom.",
            12,
        ),
        "gap": _C("Gap", "count", "Tillgång minus efterfrågan periodens sista år.", 12),
    },
    "balance_backtest": {
        "status": _C(
            "Modellens status",
            "text",
            "Modellens bedömning, gjord med data till och med prognosåret: brist, balans eller "
            "överskott.",
            14,
        ),
        "today_status": _C(
            "Status, dagens läge som status",
            "text",
            "Modellens bedömning när dagens läge som status (i stället för kvot) styr gränserna.",
            14,
        ),
    },
    # the graduates-only balance (graduates_balance.py)
    "graduates_balance": {
        "new_entrants": _C(
            "Nytillskott",
            "count",
            "Nyutbildade som väntas börja arbeta i yrket och stanna i regionen under "
            f"prognosperioden ({_GRADUATES_ONLY}).",
            13,
        ),
        **_GRADUATES_ONLY_RATIO,
    },
    "graduates_balance_education": {
        "recruitment_need": _C(
            "Rekryteringsbehov",
            "count",
            "Den del av yrkenas rekryteringsbehov som faller på utbildningen, efter dess andel "
            "av yrkenas nytillskott.",
            16,
        ),
        "new_entrants": _C(
            "Nytillskott",
            "count",
            "Nyutbildade från utbildningen som väntas börja arbeta och stanna i regionen under "
            f"prognosperioden ({_GRADUATES_ONLY}).",
            13,
        ),
        **_GRADUATES_ONLY_RATIO,
    },
    "graduates_supply": {
        "new_entrants": _C(
            "Nytillskott",
            "count",
            f"Nyutbildade som väntas börja arbeta i yrket och stanna i regionen under året "
            f"({_GRADUATES_ONLY}).",
            13,
        ),
    },
    "supply": {
        "openings": _C(
            "Lediga jobb",
            "count",
            "Yrkets lediga jobb under året, räknat med alla som lämnar yrket (samma på varje rad "
            "för yrket och året).",
            12,
        ),
    },
    "supply_flows": {
        "graduates": _C(
            "Examinerade",
            "count",
            "Examinerade under året som bor i regionen; de tillkommer i utbildningsgruppen.",
            12,
        ),
    },
}

# Suffixes for interval bounds of any count column, e.g. ``recruitment_need_lo80``.
_BOUND = re.compile(r"^(?P<base>.+)_(?P<side>lo|hi)(?P<level>\d\d)$")

#: Swedish words for the code values of some columns, shown in the workbook (the CSV files keep
#: the codes). A value without a word is shown as it is.
VALUE_LABELS: dict[str, dict[str, str]] = {
    "channel": CHANNEL_LABELS,
    "kind": {"observed": "statistik", "forecast": "prognos"},
    "type": {
        "forgymnasial": "förgymnasial",
        "gymnasium": "gymnasieskola",
        "yh": "yrkeshögskola",
        "higher": "högskola",
    },
}

TABLE_LABELS: dict[str, str] = {
    "employment_forecast": "Sysselsättning",
    "recruitment_need": "Rekryteringsbehov",
    "backtest": "Bakåttest",
    "education_output": "Examinerade",
    "supply": "Nytillskott",
    "balance": "Balans per yrke",
    "balance_education": "Balans per utbildning",
    "labour_supply": "Arbetskraft per utbildning",
    "supply_flows": "Flöden per utbildning",
    "balance_backtest": "Bakåttest av balansen",
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


def table_key(table: str, columns: Any = ()) -> str:
    """The key under which a table's column meanings are kept: its name, or the graduates-only
    variant of a table the graduates-only balance writes under the same name.

    The two balances write ``balance``, ``balance_education`` and ``supply`` with some columns of
    the same name and another meaning (``new_entrants`` counts every newcomer in the centred
    balance and graduates only in the graduates-only balance); the columns tell them apart.

    Parameters
    ----------
    table : str
        The table's name (:data:`kompetensprognos.outputs.TABLE_NAMES`).
    columns : iterable of str
        The table's columns.

    Examples
    --------
    >>> table_key("balance", ["ssyk", "past_ratio", "new_entrants"])
    'balance'
    >>> table_key("balance", ["ssyk", "recruitment_need", "new_entrants"])
    'graduates_balance'
    >>> table_key("supply", ["ssyk", "year", "new_entrants"]), table_key("notes")
    ('graduates_supply', 'notes')
    """
    cols = set(columns)
    if table == "balance" and "new_entrants" in cols and "past_ratio" not in cols:
        return "graduates_balance"
    if table == "balance_education" and "new_entrants" in cols and "labour_supply_end" not in cols:
        return "graduates_balance_education"
    if table == "supply" and "new_entrants" in cols and "channel" not in cols:
        return "graduates_supply"
    return table


def column_spec(column: str, dtype: Any = None, table: str | None = None) -> ColumnSpec:
    """The Swedish label, kind and description of a table column.

    Known columns come from a fixed list (a table's own meaning first, see :func:`table_key`);
    interval bounds (``<col>_lo80``) and newcomer channels (``newcomers_<channel>``,
    ``new_entrants_<channel>``) are derived; anything else keeps its name and gets a kind
    guessed from the name (``p_…`` probability, ``…share`` per cent) or from ``dtype``.

    Parameters
    ----------
    column : str
        The CSV column name.
    dtype : optional
        The column's dtype, for columns this module does not know.
    table : str, optional
        The table key (:func:`table_key`); without it a column has its meaning in the main
        job's tables.

    Examples
    --------
    >>> column_spec("newcomers_in_movers").label
    'Nytillskott: inflyttade'
    >>> column_spec("new_entrants", table="graduates_balance").description[:30]
    'Nyutbildade som väntas börja a'
    >>> column_spec("brand_new_column", "float64").kind
    'decimal'
    """
    own = _TABLE_COLUMNS.get(table or "", {})
    if column in own:
        return own[column]
    if column in _COLUMNS:
        return _COLUMNS[column]
    m = _BOUND.match(column)
    if m:
        base = column_spec(m["base"], dtype, table)
        side = "lägre" if m["side"] == "lo" else "övre"
        return ColumnSpec(
            f"{base.label}, {side} gräns ({m['level']} %)",
            base.kind,
            f"{side.capitalize()} gräns för {m['level']} % osäkerhetsintervall: {base.label.lower()}.",
            base.width,
        )
    for prefix in ("newcomers_", "new_entrants_"):
        if column.startswith(prefix):
            channel = column.removeprefix(prefix)
            word = lower_first(CHANNEL_LABELS.get(channel, channel.replace("_", " ")))
            return ColumnSpec(f"Nytillskott: {word}", "count", f"Nytillskott: {word}.", 14)
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


def lower_first(name: str) -> str:
    """A name inside a sentence: the first letter lowercased, acronyms kept.

    Examples
    --------
    >>> lower_first("Examinerade från YH och högskola")
    'examinerade från YH och högskola'
    """
    return name[:1].lower() + name[1:]


def is_known(column: str, table: str | None = None) -> bool:
    """Whether ``column`` has a written Swedish label (directly, as an interval bound or as a
    known newcomer channel) rather than one built from its English name.

    Examples
    --------
    >>> is_known("p_shortage"), is_known("balance_ratio_lo80"), is_known("brand_new_column")
    (True, True, False)
    """
    if column in _TABLE_COLUMNS.get(table or "", {}) or column in _COLUMNS:
        return True
    m = _BOUND.match(column)
    if m:
        return is_known(m["base"], table)
    return any(column.removeprefix(p) in CHANNEL_LABELS for p in ("newcomers_", "new_entrants_"))


def value_label(column: str, value: Any) -> Any:
    """The Swedish word for a code value of ``column`` (:data:`VALUE_LABELS`), else the value.

    Examples
    --------
    >>> value_label("channel", "in_movers"), value_label("kind", "forecast")
    ('Inflyttade', 'prognos')
    >>> value_label("channel", "something_else"), value_label("ssyk", "222")
    ('something_else', '222')
    """
    words = VALUE_LABELS.get(column)
    if words is None or not isinstance(value, str):
        return value
    return words.get(value, value)


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
