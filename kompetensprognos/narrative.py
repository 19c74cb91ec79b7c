"""Swedish text for the regional outlook report: banner, summary, tables, method and accuracy.

Every function takes the per-region output tables (see :mod:`kompetensprognos.report`) and
returns Markdown (``str``) or a :class:`pandas.DataFrame` with Swedish column names, ready for
``IPython.display.Markdown`` / ``display`` in the notebook. Numbers are written the Swedish way:
a non-breaking space as thousands separator (``"12 300"``), a decimal comma (``"0,85"``) and a
space before the percent sign (``"12 %"``).

The headline numbers come from :func:`kompetensprognos.headline.headline` (the same rule as the
landing page and sweeps): the recruitment need is the ``ssyk == "total"`` row rounded with
:func:`round`, and occupations in shortage are counted at the finest SSYK level in the balance
table. Format a number with
:func:`fmt_int` to find it in the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from kompetensprognos.datamodel import Manifest
from kompetensprognos.headline import finest_level, headline
from kompetensprognos.labels import (
    _DASH,
    CHANNEL_LABELS,
    NBSP,
    STATUS_ORDER,
    _is_missing,
    fmt_float,
    fmt_int,
    fmt_pct,
    fmt_prob,
    lower_first,
    occupation_label,
)

__all__ = [
    "CHANNEL_NAMES",
    "balance_outlook_text",
    "missing_channels_text",
    "NBSP",
    "backtest_text",
    "fmt_float",
    "fmt_int",
    "fmt_pct",
    "fmt_prob",
    "method_text",
    "occupation_label",
    "past_window",
    "shortage_table",
    "shortage_view",
    "style_shortage_table",
    "summary",
    "synthetic_banner",
]


_MODEL_NAMES = {
    "kompetensprognos": "Vår modell",
    "naive": "Naiv",
    "drift": "Trend (drift)",
    "constant_share": "Konstant andel",
}
_NUMBER_WORDS = {1: "ett", 2: "två", 3: "tre", 4: "fyra", 5: "fem", 6: "sex", 7: "sju", 8: "åtta"}


def _range(lo: float, hi: float) -> str:
    return f"{fmt_int(lo)}{_DASH}{fmt_int(hi)}"


# --------------------------------------------------------------------------- banner and summary
def synthetic_banner(manifest: Manifest) -> str:
    """A prominent first-page notice for reports built on synthetic data; ``""`` otherwise.

    Examples
    --------
    >>> m = Manifest(name="demo", source="generator", vintage="2025", synthetic=True)
    >>> synthetic_banner(m).startswith("> **⚠ Syntetiska demonstrationsdata**")
    True
    >>> synthetic_banner(m.model_copy(update={"synthetic": False}))
    ''
    """
    if not manifest.synthetic:
        return ""
    return (
        "> **⚠ Syntetiska demonstrationsdata** — siffrorna i rapporten är inte verklig statistik. "
        "De är simulerade för att visa hur rapporten ser ut och fungerar, och får inte användas "
        "som underlag för beslut eller citeras som fakta om regionen.\n"
    )


def _level_word(level: int | None) -> str:
    return f" (SSYK-nivå {level})" if level is not None else ""


def summary(
    region_name: str,
    employment_forecast: pd.DataFrame,
    recruitment_need: pd.DataFrame,
    balance: pd.DataFrame | None = None,
    period: tuple[int, int] = (2023, 2030),
) -> str:
    """The report's headline numbers as Swedish Markdown.

    Employment in the last observed year; the forecast for the period's end year with its 80 %
    interval; the total recruitment need over the period split into expansion and replacement;
    the number of occupations in brist / balans / överskott (finest SSYK level in ``balance``) and
    the five occupations with the highest probability of shortage.

    Parameters
    ----------
    region_name : str
        Display name, e.g. ``region_name("skaraborg")``.
    employment_forecast, recruitment_need : pandas.DataFrame
        The region's tables; the ``ssyk == "total"`` rows give the headline numbers.
    balance : pandas.DataFrame, optional
        The balance table; without it the balance paragraph says the section is missing.
    period : (int, int), default (2023, 2030)
        Outlook period, inclusive.

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> ef = pd.DataFrame({"ssyk": "total", "ssyk_level": 0, "year": [2024, 2030],
    ...     "employed": [1000.0, 1100.0], "lo80": [None, 1050.0], "hi80": [None, 1150.0],
    ...     "kind": ["observed", "forecast"]})
    >>> rn = pd.DataFrame({"ssyk": ["total"], "ssyk_level": [0], "period_start": [2023],
    ...     "period_end": [2030], "expansion": [100.0], "replacement": [250.0],
    ...     "recruitment_need": [350.0], "recruitment_need_lo80": [300.0],
    ...     "recruitment_need_hi80": [420.0]})
    >>> "**350**" in summary("Skaraborg", ef, rn)
    True
    """
    start, end = period
    tables = {"employment_forecast": employment_forecast, "recruitment_need": recruitment_need}
    if balance is not None:
        tables["balance"] = balance
    h = headline(tables, period)
    parts: list[str] = []

    if h.employed_last is not None:
        text = f"**Sysselsättning.** År {h.last_year} var **{fmt_int(h.employed_last)}** personer sysselsatta i {region_name}."
        if h.employed_end is not None:
            change = h.employed_end / h.employed_last - 1 if h.employed_last else float("nan")
            text += (
                f" Prognosen för {end} är **{fmt_int(h.employed_end)}** sysselsatta "
                f"(80{NBSP}% osäkerhetsintervall {_range(h.employed_end_lo80, h.employed_end_hi80)}), "
                f"en förändring med {fmt_pct(change, 1, sign=True)} jämfört med {h.last_year}."
            )
        parts.append(text)

    if h.recruitment_need is not None:
        exp, rep = h.expansion or 0, h.replacement or 0
        text = (
            f"**Rekryteringsbehov {start}{_DASH}{end}.** Arbetsgivarna i {region_name} behöver "
            f"rekrytera omkring **{fmt_int(h.recruitment_need)}** personer under perioden "
            f"(80{NBSP}% osäkerhetsintervall "
            f"{_range(h.recruitment_need_lo80, h.recruitment_need_hi80)}). "
        )
        if exp > 0:
            text += (
                f"Av dem behövs {fmt_int(exp)} för att antalet sysselsatta växer (expansionsbehov) "
                f"och {fmt_int(rep)} för att ersätta dem som går i pension eller lämnar yrket av "
                "andra skäl (ersättningsbehov)."
            )
        else:
            text += (
                f"Antalet sysselsatta väntas minska med {fmt_int(-exp)}, så hela behovet är "
                f"ersättningsbehov. Av de omkring {fmt_int(rep)} som går i pension eller lämnar "
                "yrket av andra skäl behöver inte alla ersättas: minskningen tar upp en del av "
                "avgångarna."
            )
        parts.append(text)

    if not h.status_counts:
        parts.append(
            "**Balans.** Balansen mellan rekryteringsbehov och nytillskott kunde inte beräknas "
            "för regionen (underlag om utbildning saknas)."
        )
    else:
        n = h.status_counts
        other = h.assessed - sum(n[s] for s in STATUS_ORDER)
        past = past_window(balance)
        meaning = (
            f"bristen väntas öka jämfört med {past}, mer än i regionens typiska yrke"
            if past
            else "nyutbildade som börjar arbeta i regionen räcker inte till rekryteringsbehovet"
        )
        text = (
            f"**Balans.** Av {fmt_int(h.assessed)} yrken{_level_word(h.ssyk_level)} bedöms "
            f"**{fmt_int(n['brist'])}** ha **brist** ({meaning}), {fmt_int(n['balans'])} vara "
            f"i balans och {fmt_int(n['överskott'])} ha överskott under {start}{_DASH}{end}."
        )
        not_linked = n.get("ingen utbildning kopplad", 0)
        too_small = other - not_linked
        if not_linked:
            text += (
                f" {fmt_int(not_linked)} yrken har ingen utbildning kopplad i underlaget och bedöms "
                + (
                    "inte."
                    if past
                    else "inte (nytillskott från andra vägar än utbildning ingår inte i modellen)."
                )
            )
        if too_small:
            text += f" För {fmt_int(too_small)} yrken är rekryteringsbehovet för litet för en bedömning."
        parts.append(text)
        if h.top_shortage:
            lines = [
                f"{i}. {occupation_label(code, width=None)} (sannolikhet för brist {fmt_prob(p)})"
                for i, (code, p) in enumerate(h.top_shortage, start=1)
            ]
            parts.append("**Yrken med störst risk för brist:**\n\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


def past_window(balance: pd.DataFrame | None) -> str:
    """``"2016–2022"``: the recent past a centred balance is read against, or ``""`` for a
    balance without one (the graduates-only method).

    Examples
    --------
    >>> past_window(pd.DataFrame({"past_start": [2016], "past_end": [2022]}))
    '2016–2022'
    >>> past_window(pd.DataFrame({"balance_ratio": [0.8]}))
    ''
    """
    if balance is None or not {"past_start", "past_end"} <= set(balance.columns):
        return ""
    first, last = balance["past_start"].dropna(), balance["past_end"].dropna()
    if first.empty or last.empty:
        return ""
    return f"{int(first.min())}{_DASH}{int(last.max())}"


# --------------------------------------------------------------------------- tables
_TABLE_COLUMNS = [
    "Yrke",
    "Rekryteringsbehov",
    "Nytillskott",
    "Kvot",
    "Status",
    "Sannolikhet för brist",
]


def shortage_table(
    balance: pd.DataFrame, top: int = 20, ssyk_level: int | None = None
) -> pd.DataFrame:
    """The occupations most likely to face shortage, as a Swedish table.

    Sorted by probability of shortage (highest first), ties by the lowest balance ratio.

    Parameters
    ----------
    balance : pandas.DataFrame
        The balance table.
    top : int, default 20
        Number of rows.
    ssyk_level : int, optional
        SSYK level to show; default the finest level in the table (as the summary counts).

    Returns
    -------
    pandas.DataFrame
        Index ``SSYK`` (the code); columns Yrke (full Swedish name), Rekryteringsbehov and
        Nytillskott (whole numbers), Kvot (``balance_ratio``, two decimals: nytillskott ÷
        rekryteringsbehov, or for a centred balance that against the recent past, then headed
        ``Kvot mot 2016–2022``),
        Status, Sannolikhet för brist (percent, whole number 0–100). Use
        :func:`style_shortage_table` for Swedish number formatting on screen.

    Examples
    --------
    >>> bal = pd.DataFrame({"ssyk": ["2221", "5321"], "ssyk_level": 4,
    ...     "recruitment_need": [120.4, 300.0], "new_entrants": [60.0, 330.0],
    ...     "balance_ratio": [0.4983, 1.1], "status": ["brist", "balans"],
    ...     "p_shortage": [0.93, 0.2]})
    >>> shortage_table(bal)["Yrke"].tolist()
    ['Grundutbildade sjuksköterskor', 'Undersköterskor, hemtjänst, hemsjukvård och äldreboende']
    """
    bal = balance[balance["ssyk"].astype(str) != "total"]
    if ssyk_level is not None and "ssyk_level" in bal.columns:
        bal = bal[bal["ssyk_level"] == ssyk_level]
    else:
        bal = finest_level(bal)
    keys = [c for c in ("p_shortage", "balance_ratio") if c in bal.columns]
    bal = bal.sort_values(
        keys, ascending=[False, True][: len(keys)], kind="stable", na_position="last"
    )
    bal = bal.head(top)
    out = pd.DataFrame(
        {
            "Yrke": [occupation_label(str(c), width=None) for c in bal["ssyk"]],
            "Rekryteringsbehov": bal["recruitment_need"].round().astype("Int64").to_numpy(),
            "Nytillskott": bal["new_entrants"].round().astype("Int64").to_numpy(),
            "Kvot": bal["balance_ratio"].astype(float).round(2).to_numpy(),  # renamed below
            "Status": bal["status"].to_numpy(),
            "Sannolikhet för brist": (100 * bal["p_shortage"].astype(float))
            .round()
            .astype("Int64")
            .to_numpy(),
        },
        index=pd.Index(bal["ssyk"].astype(str).to_numpy(), name="SSYK"),
    )
    out = out[_TABLE_COLUMNS]
    past = past_window(balance)
    # a centred balance's ratio is read against the recent past, not as newcomers ÷ need
    return out.rename(columns={"Kvot": f"Kvot mot {past}"}) if past else out


def style_shortage_table(table: pd.DataFrame) -> Any:
    """Swedish number formatting for :func:`shortage_table` output (a pandas ``Styler``).

    Examples
    --------
    >>> bal = pd.DataFrame({"ssyk": ["2221"], "recruitment_need": [1204.0],
    ...     "new_entrants": [600.0], "balance_ratio": [0.498], "status": ["brist"],
    ...     "p_shortage": [0.93]})
    >>> html = style_shortage_table(shortage_table(bal)).to_html()
    >>> "1\\u00a0204" in html and "0,50" in html and "93\\u00a0%" in html
    True
    """
    ratio = [c for c in table.columns if str(c).startswith("Kvot")]
    return table.style.format(
        {
            "Rekryteringsbehov": fmt_int,
            "Nytillskott": fmt_int,
            **{c: (lambda x: fmt_float(x, 2)) for c in ratio},
            "Sannolikhet för brist": lambda x: fmt_prob(None if _is_missing(x) else x / 100),
        }
    )


def shortage_view(balance: pd.DataFrame, top: int = 20) -> Any:
    """:func:`shortage_table` with Swedish number formatting, as the report shows it.

    Examples
    --------
    >>> bal = pd.DataFrame({"ssyk": ["2221"], "recruitment_need": [1204.0],
    ...     "new_entrants": [600.0], "balance_ratio": [0.498], "status": ["brist"],
    ...     "p_shortage": [0.93], "past_start": 2016, "past_end": 2022})
    >>> html = shortage_view(bal).to_html()
    >>> "Kvot mot 2016\u20132022" in html and "0,50" in html and "93\u00a0%" in html
    True
    """
    return style_shortage_table(shortage_table(balance, top=top))


# --------------------------------------------------------------------------- method and accuracy
def _flatten(params: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.extend(_flatten(value, prefix=f"{name}."))
        else:
            out.append((name, value))
    return out


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if value is None:
        return "–"
    return str(value)


def method_text(
    manifest: Manifest, params: Mapping[str, Any], fingerprint: str, version: str
) -> str:
    """Method, data sources and vintage, series breaks and the reproducibility stamp (Markdown).

    Parameters
    ----------
    manifest : Manifest
        The dataset's manifest.
    params : Mapping
        The run's parameters (e.g. ``ReportContext.stamp()``); nested mappings are flattened to
        ``demand.method=…``.
    fingerprint : str
        Data fingerprint.
    version : str
        Package version.

    Returns
    -------
    str
        Markdown with the sub-headings *Så har prognosen tagits fram*, *Data*, *Tidsseriebrott*
        and *Reproducerbarhet*.

    Examples
    --------
    >>> m = Manifest(name="demo", source="SCB", vintage="2025-03-01")
    >>> text = method_text(m, {"region": "skaraborg", "n_sims": 1000}, "ab12", "0.3.0")
    >>> "`region=skaraborg`" in text and "0.3.0" in text and "2025-03-01" in text
    True
    """
    method = (
        "### Så har prognosen tagits fram\n\n"
        "- **Sysselsättning per yrke** prognostiseras från de senaste årens statistik för "
        "regionen. Yrken, yrkesgrupper och regionens total samordnas så att de summerar, och "
        "osäkerhetsintervallen är kalibrerade mot hur stora felen har varit när modellen prövats "
        "på tidigare år.\n"
        "- **Expansionsbehov** är förändringen av antalet sysselsatta under perioden (negativ när "
        "yrket krymper).\n"
        "- **Ersättningsbehov** är de som lämnar yrket, främst genom pension. Det beräknas från "
        "åldersfördelningen i varje yrke och hur snabbt olika åldersgrupper brukar lämna.\n"
        "- **Rekryteringsbehov** är summan av varje års lediga jobb: årets tillväxt plus de som "
        "lämnar yrket. När ett yrke krymper tar minskningen upp en del av avgångarna, så bara de "
        "avgångar som minskningen inte tar upp räknas, och behovet blir aldrig negativt (samma "
        "regel som amerikanska BLS). För ett yrke som växer varje år är rekryteringsbehovet "
        "ungefär expansionsbehov + ersättningsbehov.\n"
        "- **Nytillskott** är alla som kommer in i yrket: nyutbildade från gymnasieskolan, "
        "yrkeshögskolan och högskolan, inflyttade, de som återgår till arbete, de som byter yrke "
        "och de som slutar studera. De räknas i en flödesmodell per kommun och utbildningsgrupp "
        "och fördelas på yrken efter var nyanställda med samma utbildning börjar arbeta. När "
        "underlaget saknar flödestabellerna räknas bara nyutbildade, och rapporten säger det.\n"
        "- **Balans**: nytillskottet jämförs med alla lediga jobb yrket behöver (tillväxt plus "
        "alla som lämnar yrket, också de som byter yrke), och kvoten jämförs med samma kvot under "
        "de senaste åren. *Brist* betyder att det väntas bli svårare att rekrytera än under de "
        "senaste åren, *överskott* att det väntas bli lättare. *Sannolikheten för brist* kommer "
        "från tusentals simulerade utfall där också de osäkra flödena och andelarna varierar; "
        "statusen följer av samma utfall, så brist betyder minst 50 % sannolikhet.\n"
    )
    data = ["### Data\n"]
    if manifest.synthetic:
        data.append(
            f"- Källa: **{manifest.label}** — simulerade siffror, inte verklig statistik "
            f"(generator: {manifest.source}, version {manifest.vintage})."
        )
    else:
        data.append(f"- Källa: {manifest.source}.")
        data.append(f"- Dataversion (vintage): {manifest.vintage}.")
    data.append(f"- Datamängd: {manifest.name}, skapad {manifest.created}.")
    if manifest.notes:
        data.append(f"- Anmärkning: {manifest.notes}")
    breaks = ["### Tidsseriebrott\n"]
    if manifest.breaks:
        for b in sorted(manifest.breaks, key=lambda b: (b.year, b.table)):
            desc = f": {b.description}" if b.description else ""
            breaks.append(f"- {b.year}, tabellen `{b.table}`{desc}")
        breaks.append(
            "\nÅren före ett brott räknas om till den nya grunden innan prognosen görs, så att "
            "brottet inte tolkas som verklig förändring. Diagrammen visar de publicerade värdena."
        )
    else:
        breaks.append("- Inga kända tidsseriebrott i underlaget.")
    stamp = ", ".join(f"`{k}={_show(v)}`" for k, v in _flatten(params))
    repro = (
        "### Reproducerbarhet\n\n"
        f"- Paketversion: `kompetensprognos {version}`\n"
        f"- Datafingeravtryck: `{fingerprint}`\n"
        f"- Parametrar: {stamp if stamp else '–'}\n"
    )
    return "\n\n".join([method, "\n".join(data), "\n".join(breaks), repro])


def _mean_mase(backtest: pd.DataFrame) -> pd.DataFrame:
    """Mean MASE per model (columns) and horizon (index), averaged over any other rows."""
    return backtest.groupby(["horizon", "model"])["mase"].mean().unstack("model").sort_index()


def backtest_text(backtest: pd.DataFrame, horizon: int = 3) -> str:
    """A plain-Swedish paragraph on how accurate the model has been compared with a naive forecast.

    Compares mean MASE (averaged over occupations/levels in the table) of ``kompetensprognos``
    and ``naive`` at ``horizon`` years ahead (or the nearest horizon available), says so honestly
    when the model is not better, names a baseline that beats the model, and reports how often
    the 80 % interval held the outcome.

    Parameters
    ----------
    backtest : pandas.DataFrame
        The backtest table.
    horizon : int, default 3
        Years ahead to describe.

    Returns
    -------
    str
        Markdown paragraph.

    Examples
    --------
    >>> bt = pd.DataFrame({"model": ["kompetensprognos", "naive"], "horizon": 3,
    ...     "mase": [0.8, 1.0], "coverage80": [0.78, None]})
    >>> backtest_text(bt).startswith("Vid prognoser tre år framåt har modellens fel")
    True
    """
    if backtest is None or len(backtest) == 0 or "mase" not in backtest.columns:
        return "Modellens träffsäkerhet har inte prövats för den här rapporten.\n"
    mase = _mean_mase(backtest)
    if "kompetensprognos" not in mase.columns or "naive" not in mase.columns:
        return "Modellens träffsäkerhet kunde inte jämföras med en naiv prognos.\n"
    both = mase[["kompetensprognos", "naive"]].dropna()
    if both.empty:
        return "Modellens träffsäkerhet kunde inte jämföras med en naiv prognos.\n"
    h = int(min(both.index, key=lambda x: (abs(int(x) - horizon), -int(x))))
    ours, naive = float(mase.loc[h, "kompetensprognos"]), float(mase.loc[h, "naive"])
    years = f"{_NUMBER_WORDS.get(h, str(h))} år"
    gain = 1 - ours / naive if naive > 0 else float("nan")
    head = f"Vid prognoser {years} framåt har modellens fel i genomsnitt varit"
    naive_words = "en naiv prognos (som antar att antalet sysselsatta förblir som det senaste året)"
    if _is_missing(gain):
        text = f"{head} {fmt_float(ours, 2)} (MASE) mot {fmt_float(naive, 2)} för {naive_words}."
    elif gain >= 0.02:
        text = (
            f"{head} {fmt_pct(gain)} mindre än i {naive_words}: modellen har alltså varit "
            "mer träffsäker än att bara räkna med oförändrat."
        )
    elif gain <= -0.02:
        text = (
            f"{head} {fmt_pct(-gain)} **större** än i {naive_words}. Modellen har alltså inte "
            "varit bättre än att räkna med oförändrat, och prognoserna bör läsas med den "
            "försiktigheten."
        )
    else:
        text = (
            f"{head} ungefär lika stort som i {naive_words}; modellen har inte varit tydligt "
            "bättre än att räkna med oförändrat."
        )
    others = {
        m: float(mase.loc[h, m]) for m in mase.columns if m not in ("kompetensprognos", "naive")
    }
    better = {m: v for m, v in others.items() if not _is_missing(v) and v < ours}
    if better:
        best = min(better, key=lambda m: better[m])
        name = _MODEL_NAMES.get(best, best).lower()
        text += (
            f" Den enkla jämförelsemetoden *{name}* har dock haft mindre fel än modellen "
            f"({fmt_float(better[best], 2)} mot {fmt_float(ours, 2)} i MASE)."
        )
    ours_rows = backtest[(backtest["model"] == "kompetensprognos") & (backtest["horizon"] == h)]
    if "coverage80" in ours_rows.columns and ours_rows["coverage80"].notna().any():
        cov = float(ours_rows["coverage80"].mean())
        text += (
            f" De 80-procentiga osäkerhetsintervallen innehöll det verkliga utfallet i "
            f"{fmt_pct(cov)} av fallen (målet är 80{NBSP}%)"
        )
        if cov < 0.7:
            text += ", så osäkerheten är i praktiken större än intervallen visar."
        else:
            text += "."
    if "direction_accuracy" in ours_rows.columns and ours_rows["direction_accuracy"].notna().any():
        acc = float(ours_rows["direction_accuracy"].mean())
        text += (
            f" Modellen pekade åt rätt håll (ökning eller minskning) i {fmt_pct(acc)} av fallen."
        )
    return text + "\n"


# --- the centred balance (issues 11–12) ------------------------------------------------------

#: Swedish names of the newcomer channels (:data:`kompetensprognos.balance.NEWCOMER_CHANNELS`):
#: the one mapping of :mod:`kompetensprognos.labels`, for the text, the charts and the workbook.
CHANNEL_NAMES: dict[str, str] = CHANNEL_LABELS
_TABLE_NAMES_SV = {
    "population_education": "befolkning per utbildningsgrupp",
    "education_flows": "flöden per utbildningsgrupp (in- och utflyttning, vidareutbildning)",
    "labour_status": "sysselsatta, arbetslösa och utanför arbetskraften per utbildningsgrupp",
}


def missing_channels_text(missing: list[str]) -> str:
    """Swedish note naming the stock–flow tables a dataset lacks (empty when none is missing).

    Examples
    --------
    >>> missing_channels_text(["labour_status"])  # doctest: +ELLIPSIS
    '*Tillgången bygger bara på nyexaminerade: underlag saknas för sysselsatta, ...'
    >>> missing_channels_text([])
    ''
    """
    if not missing:
        return ""
    names = ", ".join(_TABLE_NAMES_SV.get(m, m) for m in missing)
    return (
        f"*Tillgången bygger bara på nyexaminerade: underlag saknas för {names}. "
        "Inflyttade, återinträdande och yrkesbytare räknas därför inte, och balansen jämför "
        "ett enda inflöde med hela rekryteringsbehovet.*"
    )


def balance_outlook_text(balance: pd.DataFrame, top: int = 5) -> str:
    """Swedish text for the centred balance: what the status means and where it changes.

    Parameters
    ----------
    balance : pandas.DataFrame
        The region's ``balance`` table from the centred balance (``past_start, past_end,
        period_start, period_end, status, balance_ratio, p_shortage``, channel columns).
    top : int
        Occupations named per direction.

    Examples
    --------
    >>> b = pd.DataFrame({"ssyk": ["total", "222", "532"], "ssyk_level": [0, 3, 3],
    ...     "past_start": 2016, "past_end": 2022, "period_start": 2023, "period_end": 2030,
    ...     "status": ["balans", "brist", "överskott"], "balance_ratio": [1.0, 0.8, 1.3],
    ...     "p_shortage": [0.2, 0.8, 0.0], "recruitment_need": [900.0, 300, 200],
    ...     "newcomers_in_movers": [500.0, 100, 100], "newcomers_graduates": [400.0, 200, 100]})
    >>> text = balance_outlook_text(b)
    >>> "bristen väntas öka jämfört med 2016–2022" in text
    True
    """
    past = past_window(balance)  # empty for an empty table too
    if not past:
        return ""  # the graduates-only balance has no recent past to compare with
    first = balance.iloc[0]
    period = f"{int(first['period_start'])}{_DASH}{int(first['period_end'])}"
    fin = finest_level(balance)
    assessed = fin[fin["status"].isin(STATUS_ORDER)]
    counts = assessed["status"].value_counts()
    lines = [
        f"Balansen jämför hur många som väntas börja arbeta i varje yrke under {period} "
        f"(nytillskott från alla vägar) med hur många jobb som öppnas (nya jobb och ersättning "
        f"för dem som slutar), **i förhållande till {past}**, då yrkena faktiskt bemannades. "
        "*Brist* betyder att bristen väntas öka jämfört med "
        f"{past}, mer än i regionens typiska yrke: nytillskotten räcker till en mer än tio "
        "procent mindre del av de lediga jobben än då; *överskott* att de räcker till en "
        "mer än tio procent större del; *balans* att förhållandet är ungefär som under de "
        "senaste åren. Bedömningen utgår från dagens läge (Arbetsförmedlingens "
        "yrkesbarometer eller, i demodata, de två senaste åren) och flyttas av hur "
        "nytillskott och lediga jobb väntas växa. En brist som växer lika mycket i alla "
        "yrken i regionen syns inte i statusen. Båda sidor räknas brutto: alla som slutar i yrket "
        "(pension, yrkesbyte, flytt eller annat) ger ett ledigt jobb, och alla som börjar "
        "räknas som nytillskott.",
        "",
        f"Av {fmt_int(len(assessed))} bedömda yrken får {fmt_int(counts.get('brist', 0))} brist, "
        f"{fmt_int(counts.get('balans', 0))} balans och {fmt_int(counts.get('överskott', 0))} "
        "överskott.",
    ]
    worse = assessed[assessed["status"] == "brist"].sort_values("p_shortage", ascending=False)
    if len(worse):
        names = ", ".join(
            f"{occupation_label(r.ssyk, width=None)} ({fmt_prob(r.p_shortage)})"
            for r in worse.head(top).itertuples()
        )
        lines.append(f"För dessa yrken väntas bristen öka jämfört med {past}: {names}.")
    total = balance[balance["ssyk"] == "total"]
    chans = [c for c in CHANNEL_NAMES if f"newcomers_{c}" in balance.columns]
    if len(total) and chans:
        vals = {c: float(total[f"newcomers_{c}"].iloc[0]) for c in chans}
        positive = {c: v for c, v in vals.items() if v > 0}
        tot = sum(positive.values())
        if tot > 0:
            main = sorted(positive, key=positive.get, reverse=True)[:3]
            parts = ", ".join(
                f"{lower_first(CHANNEL_NAMES[c])} ({fmt_pct(positive[c] / tot)})" for c in main
            )
            lines.append(f"De flesta nytillskotten kommer från {parts}.")
    return "\n".join(lines)
