"""Self-contained HTML for the councils: the report page, its print layout and the occupation table.

Three entry points:

* :func:`render_html` turns an executed report notebook into one HTML file that makes no network
  request: nbconvert's ``basic`` template (no require.js, no MathJax, no JupyterLab CSS) inside
  a small page of our own with a screen and an A4 print stylesheet; figures are re-encoded as
  palette PNGs (a third of the size) and get alt text.
* :func:`occupation_table` is the searchable, sortable table of every occupation in a report
  (one notebook cell calls it). Plain HTML with a few lines of inline script, so it works when
  the file is mailed or opened from a file share.
* :func:`page` wraps a body in the shared page shell (used by the landing page too).
* :func:`call_backtest_text` is the evidence section's scored balance calls (Swedish Markdown).

Examples
--------
>>> html = page("Test", "<h1>Hej</h1>")
>>> html.startswith("<!doctype html>") and 'lang="sv"' in html and "http" not in html
True
"""

from __future__ import annotations

import base64
import html as _html
import io
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kompetensprognos.call_scores import score_calls
from kompetensprognos.labels import (
    NBSP,
    STATUS_TINTS,
    column_spec,
    fmt_float,
    fmt_int,
    fmt_pct,
    format_value,
    occupation_name,
    status_label,
)

__all__ = [
    "BASE_CSS",
    "CALL_COLUMNS",
    "PRINT_CSS",
    "TABLE_SCRIPT",
    "call_backtest_text",
    "call_scores",
    "compress_png",
    "figure_alt",
    "figure_png",
    "is_palette_png",
    "occupation_rows",
    "occupation_table",
    "occupation_table_html",
    "page",
    "render_html",
]

BASE_CSS = """
:root{--ink:#1a1a1a;--muted:#555;--line:#d0d0d0;--accent:#0072B2}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);
 line-height:1.5;max-width:64rem;margin:0 auto;padding:1rem 1.25rem 3rem;font-size:16px}
h1{font-size:1.9rem;line-height:1.2;margin:.5rem 0 1rem}
h2{font-size:1.45rem;margin:2.2rem 0 .6rem;border-bottom:2px solid var(--line);padding-bottom:.2rem}
h3{font-size:1.15rem;margin:1.4rem 0 .4rem}
a{color:#005a8c}
img{max-width:100%;height:auto;display:block;margin:.5rem 0}
table{border-collapse:collapse;font-size:.92rem;margin:.5rem 0 1rem}
th,td{padding:.3rem .5rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:#f3f3f3}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
blockquote{margin:1rem 0;padding:.8rem 1rem;background:#fff3cd;border:1px solid #d9b44a;
 border-left:6px solid #b8860b}
.banner{margin:1rem 0;padding:.8rem 1rem;background:#fff3cd;border:1px solid #d9b44a;
 border-left:6px solid #b8860b}
.anchor-link{display:none}
.muted,small{color:var(--muted)}
.kp-occ .controls{display:flex;flex-wrap:wrap;gap:.6rem 1rem;align-items:center;margin:.5rem 0}
.kp-occ input[type=search]{font-size:1rem;padding:.35rem .5rem;min-width:18rem;
 border:1px solid #888;border-radius:4px}
.kp-occ select{font-size:1rem;padding:.3rem}
.kp-occ .scroll{max-height:38rem;overflow:auto;border:1px solid var(--line)}
.kp-occ table{margin:0;width:100%}
.kp-occ thead th{position:sticky;top:0;z-index:1}
.kp-occ th button{all:unset;cursor:pointer;font-weight:600}
.kp-occ th button:focus-visible{outline:2px solid var(--accent)}
.kp-occ th[aria-sort=ascending] button::after{content:" \\25B2";font-size:.7em}
.kp-occ th[aria-sort=descending] button::after{content:" \\25BC";font-size:.7em}
.kp-occ tr[data-level="1"] td:first-child{font-weight:700}
.kp-occ tr[data-level="2"] td:first-child{font-weight:600}
"""
"""Screen stylesheet shared by the reports and the landing page."""

_STATUS_CLASS = {"brist": "st-brist", "balans": "st-balans", "överskott": "st-overskott"}
BASE_CSS += "".join(f".{c}{{background:{STATUS_TINTS[s]}}}" for s, c in _STATUS_CLASS.items())

PRINT_CSS = """
@page{size:A4;margin:16mm 14mm 18mm}
@media print{
 body{max-width:none;padding:0;font-size:10.5pt}
 a{color:inherit;text-decoration:none}
 h2{break-before:page;break-after:avoid}
 h1+h2,.no-break-before{break-before:auto}
 h3{break-after:avoid}
 img,figure,.output_png,tr,blockquote,.banner{break-inside:avoid}
 img{max-height:245mm;width:auto;object-fit:contain}
 thead{display:table-header-group}
 table{max-width:100%;font-size:9pt}
 th,td{padding:.15rem .3rem}
 .no-print,.kp-occ{display:none!important}
 th,.st-brist,.st-balans,.st-overskott,blockquote,.banner{-webkit-print-color-adjust:exact;
  print-color-adjust:exact}
}
"""
"""A4 print stylesheet: each section on a new page, figures and table rows never split."""

TABLE_SCRIPT = r"""
(function(){
 function init(box){
  if(box.getAttribute('data-ready'))return;box.setAttribute('data-ready','1');
  var input=box.querySelector('input[type=search]'),level=box.querySelector('select'),
   tbody=box.querySelector('tbody'),rows=Array.prototype.slice.call(tbody.rows),
   count=box.querySelector('[data-count]');
  function apply(){
   var q=input.value.trim().toLowerCase(),l=level?level.value:'',n=0;
   rows.forEach(function(r){
    var ok=(!q||r.getAttribute('data-search').indexOf(q)>=0)&&(!l||r.getAttribute('data-level')===l);
    r.hidden=!ok;if(ok)n++;});
   count.textContent='Visar '+n+' av '+rows.length+' yrken';
  }
  input.addEventListener('input',apply);if(level)level.addEventListener('change',apply);
  Array.prototype.forEach.call(box.querySelectorAll('thead th'),function(th,col){
   var b=th.querySelector('button');if(!b)return;
   b.addEventListener('click',function(){
    var asc=th.getAttribute('aria-sort')!=='ascending',num=th.hasAttribute('data-num');
    Array.prototype.forEach.call(box.querySelectorAll('thead th'),function(h){h.removeAttribute('aria-sort');});
    th.setAttribute('aria-sort',asc?'ascending':'descending');
    rows.sort(function(a,c){
     var x=a.cells[col].getAttribute('data-v'),y=c.cells[col].getAttribute('data-v');
     if(num){var fx=x===''?NaN:+x,fy=y===''?NaN:+y;
      if(isNaN(fx))return isNaN(fy)?0:1;if(isNaN(fy))return -1;return asc?fx-fy:fy-fx;}
     var d=x.localeCompare(y,'sv');return asc?d:-d;});
    rows.forEach(function(r){tbody.appendChild(r);});
   });
  });
  apply();
 }
 Array.prototype.forEach.call(document.querySelectorAll('[data-kp-occupations]'),init);
})();
"""
"""Inline script for the occupation table: search filters rows, header buttons sort."""


def page(title: str, body: str, *, css: str = "", script: str = "") -> str:
    """A complete, self-contained Swedish HTML page (screen and print styles inline).

    Parameters
    ----------
    title : str
        The ``<title>`` (escaped here).
    body : str
        HTML for ``<body>``.
    css, script : str
        Extra inline CSS and JavaScript.

    Returns
    -------
    str
    """
    js = f"<script>{script}</script>\n" if script else ""
    return (
        '<!doctype html>\n<html lang="sv">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_html.escape(title)}</title>\n"
        f"<style>{BASE_CSS}{PRINT_CSS}{css}</style>\n</head>\n<body>\n{body}\n{js}</body>\n</html>\n"
    )


# --------------------------------------------------------------------------- occupation table
def _status_class(status: Any) -> str:
    return _STATUS_CLASS.get(str(status), "")


def occupation_rows(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Every occupation of a report in one frame: name, code, employment, need, newcomers, status.

    Uses the columns present: a table or a column that is missing (say, no balance table for a
    dataset without education statistics) just leaves its columns out.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        The region's output tables (``employment_forecast``, ``recruitment_need``, ``balance``).

    Returns
    -------
    pandas.DataFrame
        One row per SSYK code (levels 1–4, the total left out) with English column names:
        ``ssyk``, ``occupation``, ``ssyk_level``, ``employed_start``/``employed_end`` (last
        observed year and the forecast for the period end, named in ``attrs["years"]``), the
        need components, ``new_entrants`` (and any ``new_entrants_<channel>``, ``openings``),
        ``status``, ``p_shortage``.

    Examples
    --------
    >>> need = pd.DataFrame({"ssyk": ["total", "2", "22"], "ssyk_level": [0, 1, 2],
    ...     "period_start": 2023, "period_end": 2030, "expansion": [5.0, 3.0, 1.0],
    ...     "replacement": [10.0, 6.0, 2.0], "recruitment_need": [15.0, 9.0, 3.0]})
    >>> occupation_rows({"recruitment_need": need})["ssyk"].tolist()
    ['2', '22']
    """
    frames: list[pd.DataFrame] = []
    years: dict[str, int] = {}
    need = tables.get("recruitment_need")
    bal = tables.get("balance")
    ef = tables.get("employment_forecast")
    if need is not None:
        cols = [
            c
            for c in need.columns
            if c in ("ssyk", "ssyk_level", "expansion", "replacement", "recruitment_need")
        ]
        frames.append(need[cols])
    if ef is not None and {"ssyk", "year", "employed", "kind"} <= set(ef.columns):
        obs = ef[ef["kind"] == "observed"]
        if len(obs):
            last = int(obs["year"].max())
            years["start"] = last
            frames.append(
                obs[obs["year"] == last]
                .groupby("ssyk", as_index=False)["employed"]
                .sum()
                .rename(columns={"employed": "employed_start"})
            )
        end = None
        if need is not None and "period_end" in need.columns and len(need):
            end = int(need["period_end"].max())
        fc = ef[ef["kind"] == "forecast"]
        if len(fc):
            end = end if end in set(fc["year"]) else int(fc["year"].max())
            years["end"] = end
            frames.append(
                fc[fc["year"] == end][["ssyk", "employed"]].rename(
                    columns={"employed": "employed_end"}
                )
            )
        if "ssyk_level" in ef.columns:
            frames.append(ef[["ssyk", "ssyk_level"]].drop_duplicates("ssyk"))
    if bal is not None and "ssyk" in bal.columns:
        keep = ["ssyk", "ssyk_level", "openings", "new_entrants", "status", "p_shortage"]
        keep += sorted(c for c in bal.columns if c.startswith("new_entrants_") and not _is_bound(c))
        frames.append(bal[[c for c in dict.fromkeys(keep) if c in bal.columns]])
    if not frames:
        return pd.DataFrame(columns=["ssyk", "occupation"])
    out = frames[0].assign(ssyk=frames[0]["ssyk"].astype(str))
    for f in frames[1:]:
        f = f.assign(ssyk=f["ssyk"].astype(str))
        shared = [c for c in f.columns if c in out.columns and c != "ssyk"]
        if shared:  # e.g. ssyk_level in several tables: fill gaps, keep the first
            extra = f.set_index("ssyk")[shared]
            out = out.set_index("ssyk")
            for c in shared:
                out[c] = out[c].combine_first(extra[c]) if c in out else extra[c]
            out = out.reset_index()
            f = f.drop(columns=shared)
        out = out.merge(f, on="ssyk", how="outer")
    out = out[out["ssyk"] != "total"].copy()
    if "ssyk_level" not in out.columns or out["ssyk_level"].isna().any():
        out["ssyk_level"] = out["ssyk"].str.len().where(out["ssyk"].str.isdigit())
    out["ssyk_level"] = out["ssyk_level"].astype("Int64")
    out.insert(1, "occupation", [occupation_name(c) for c in out["ssyk"]])
    # what a council member looks for first: the assessment, then the numbers behind it
    order = ["ssyk", "occupation", "ssyk_level", "status", "p_shortage", "recruitment_need"]
    order += ["new_entrants", *(c for c in out.columns if c.startswith("new_entrants_"))]
    order += ["openings", "expansion", "replacement", "employed_start", "employed_end"]
    out = out[[c for c in order if c in out.columns]]
    out = out.sort_values("ssyk", kind="stable").reset_index(drop=True)
    out.attrs["years"] = years
    return out


def _is_bound(column: str) -> bool:
    return bool(re.search(r"_(lo|hi)\d\d$", column))


def _header(column: str, years: Mapping[str, int]) -> str:
    if column == "employed_start" and "start" in years:
        return f"Sysselsatta {years['start']}"
    if column == "employed_end" and "end" in years:
        return f"Sysselsatta {years['end']}"
    if column == "occupation":
        return "Yrke"
    return column_spec(column).label


def occupation_table_html(
    tables: Mapping[str, pd.DataFrame],
    *,
    table_id: str = "yrken",
    heading: str = "Sök bland alla yrken",
) -> str:
    """The occupation table as an HTML fragment (search box, level filter, sortable columns).

    Parameters
    ----------
    tables : mapping of str to DataFrame
        The region's output tables.
    table_id : str, default "yrken"
        HTML id prefix (unique within the page).
    heading : str
        An ``<h3>`` above the table (empty: none).

    Returns
    -------
    str
        ``<section class="kp-occ" data-kp-occupations>…</section>`` followed by its script.

    Examples
    --------
    >>> need = pd.DataFrame({"ssyk": ["2", "22"], "ssyk_level": [1, 2], "expansion": [3.0, 1.0],
    ...     "replacement": [6.0, 2.0], "recruitment_need": [9.0, 3.0]})
    >>> html = occupation_table_html({"recruitment_need": need})
    >>> 'type="search"' in html and "hälso- och sjukvård" in html and "<script>" in html
    True
    """
    rows = occupation_rows(tables)
    years = rows.attrs.get("years", {})
    cols = [c for c in rows.columns if c != "ssyk_level"]  # the level is a filter, not a column
    head = []
    for c in cols:
        spec = column_spec(c)
        numeric = spec.kind in ("count", "prob", "share", "ratio", "decimal", "int", "year")
        cls = ' class="num"' if numeric else ""
        attrs = " data-num" if numeric else ""
        head.append(
            f'<th scope="col"{cls}{attrs}><button type="button">{_html.escape(_header(c, years))}'
            "</button></th>"
        )
    body = []
    for rec in rows.to_dict("records"):
        code, name = str(rec["ssyk"]), str(rec["occupation"])
        level = "" if pd.isna(rec.get("ssyk_level")) else str(int(rec["ssyk_level"]))
        search = _html.escape(f"{code} {name}".lower(), quote=True)
        cells = []
        for c in cols:
            v = rec[c]
            kind = column_spec(c).kind
            if c == "status":
                cls = _status_class(v)
                text = status_label(v)
                cells.append(
                    f'<td{f" class={cls!r}" if cls else ""} data-v="{_html.escape(text)}">'
                    f"{_html.escape(text)}</td>"
                )
            elif c in ("ssyk", "occupation"):
                cells.append(f'<td data-v="{_html.escape(str(v))}">{_html.escape(str(v))}</td>')
            else:
                raw = "" if pd.isna(v) else repr(float(v))
                cells.append(
                    f'<td class="num" data-v="{raw}">{_html.escape(format_value(v, kind))}</td>'
                )
        body.append(f'<tr data-level="{level}" data-search="{search}">{"".join(cells)}</tr>')
    levels = sorted({int(x) for x in rows["ssyk_level"].dropna()}) if "ssyk_level" in rows else []
    options = "".join(f'<option value="{lv}">SSYK-nivå {lv}</option>' for lv in levels)
    select = (
        f'<label>Nivå <select id="{table_id}-niva" aria-label="Visa SSYK-nivå">'
        f'<option value="">Alla nivåer</option>{options}</select></label>'
        if len(levels) > 1
        else ""
    )
    return (
        f'<section class="kp-occ" id="{table_id}" data-kp-occupations>'
        + (f"<h3>{_html.escape(heading)}</h3>" if heading else "")
        + '<div class="controls">'
        f'<label for="{table_id}-sok">Sök yrke eller SSYK-kod</label>'
        f'<input type="search" id="{table_id}-sok" placeholder="t.ex. sjuksköterska eller 2221"'
        ' autocomplete="off">'
        f'{select}<span data-count aria-live="polite" class="muted"></span></div>'
        '<div class="scroll no-print"><table>'
        f"<thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
        '<p class="muted no-print"><small>Klicka på en kolumnrubrik för att sortera. Status och '
        "sannolikhet för brist jämför nytillskottet med rekryteringsbehovet under perioden (se "
        "avsnittet om balans); sysselsatta slutåret är en prognos.</small></p>"
        f"</section><script>{TABLE_SCRIPT}</script>"
    )


def occupation_table(tables: Mapping[str, pd.DataFrame]) -> Any:
    """The searchable, sortable table of every occupation, for a notebook cell.

    Returns an ``IPython.display.HTML`` object (shown by ``report.show``); see
    :func:`occupation_table_html` for the markup.
    """
    from IPython.display import HTML

    return HTML(occupation_table_html(tables))


# --------------------------------------------------------------------------- scored calls
#: Columns of ``balance_backtest`` (one row per region, origin and SSYK 3 occupation, written by
#: :func:`kompetensprognos.balance_calls.call_backtest`) that the evidence section reads; the old
#: method's ``old_status`` / ``old_p_shortage`` are used when present.
CALL_COLUMNS: tuple[str, ...] = ("origin", "status", "p_shortage", "truth_status", "carry_status")

#: Swedish names of the methods the evidence section shows (in this order).
_CALL_LABELS: dict[str, str] = {
    "centred": "Vår bedömning",
    "carry_forward": "Dagens läge fört vidare (jämförelse)",
    "graduates_only": "Tidigare metod (bara nyutbildade)",
}


def call_scores(calls: pd.DataFrame) -> pd.DataFrame:
    """Balanced accuracy and Brier score per origin and method, and over all origins (``"alla"``).

    The one rule of :func:`kompetensprognos.call_scores.score_calls` (light: the report's kernel
    does not import the model code) for the methods the section shows.

    Parameters
    ----------
    calls : pandas.DataFrame
        A region's ``balance_backtest`` table (columns :data:`CALL_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        ``origin, method, n, balanced_accuracy, brier``.

    Examples
    --------
    >>> c = pd.DataFrame({"origin": 2018, "status": ["brist", "balans"], "p_shortage": [0.8, 0.2],
    ...     "truth_status": ["brist", "balans"], "carry_status": ["balans", "balans"]})
    >>> s = call_scores(c).query("origin == 'alla'").round(3)
    >>> s[["method", "balanced_accuracy", "brier"]].values.tolist()
    [['centred', 1.0, 0.04], ['carry_forward', 0.5, 0.5]]
    """
    scores = score_calls(calls, by=("origin",), total="alla", methods=list(_CALL_LABELS))
    return scores.assign(origin=scores["origin"].astype(str))


def call_backtest_text(balance_backtest: pd.DataFrame | None) -> str:
    """The evidence section's scored calls in Swedish: a short table and what it means.

    Earlier balance calls (from origins such as 2018 and 2019, made with the data of that time)
    scored against what happened: balanced accuracy and Brier score of our call beside carrying
    today's state forward (and the old graduates-only method when present). A missing or empty
    table, or one without the needed columns, gives a Swedish sentence instead.

    Parameters
    ----------
    balance_backtest : pandas.DataFrame or None
        The region's ``balance_backtest`` table (columns :data:`CALL_COLUMNS`).

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> call_backtest_text(None).startswith("*Bedömningarna har inte bakåttestats")
    True
    >>> c = pd.DataFrame({"origin": [2018, 2018, 2019], "status": ["brist", "balans", "brist"],
    ...     "p_shortage": [0.8, 0.2, 0.7], "truth_status": ["brist", "balans", "brist"],
    ...     "carry_status": ["balans", "balans", "brist"]})
    >>> text = call_backtest_text(c)
    >>> "Balanserad träffsäkerhet" in text and "| 2018 " in text and "bättre än" in text
    True
    """
    head = "### Hur väl har tidigare bedömningar av balansen stämt?\n\n"
    if balance_backtest is None or balance_backtest.empty:
        return (
            "*Bedömningarna har inte bakåttestats i den här körningen. Bakåttestet kräver data "
            "där det verkliga utfallet är känt (som i demodata) och görs med "
            "`kompetensprognos.balance_calls.call_backtest`.*"
        )
    missing = [c for c in CALL_COLUMNS if c not in balance_backtest.columns]
    if missing:
        return (
            f"*Bakåttestet av bedömningarna kan inte visas: tabellen balance_backtest saknar "
            f"kolumnerna {', '.join(missing)}.*"
        )
    scores = call_scores(balance_backtest)
    if scores.empty:
        return head + (
            "*Inget yrke hade både en bedömning och ett känt utfall, så träffsäkerheten kan inte "
            "räknas ut.*"
        )
    origins = sorted(str(o) for o in balance_backtest["origin"].dropna().unique())
    when = " och ".join([", ".join(origins[:-1]), origins[-1]] if len(origins) > 1 else origins)
    lines = [
        f"Vi gjorde om balansbedömningen som om vi stod i {when}, med enbart de uppgifter som "
        "fanns då, och jämförde den med hur det sedan gick för varje yrke (SSYK-nivå 3). "
        "*Balanserad träffsäkerhet* är andelen rätt bedömda yrken räknad för brist, balans och "
        f"överskott var för sig och sedan i medeltal: att gissa ger omkring 33{NBSP}%. "
        "*Brier-poängen* mäter hur väl sannolikheten för brist stämde: 0 är perfekt, lägre är "
        "bättre.",
        "",
        "| Bedömning gjord | Metod | Yrken | Balanserad träffsäkerhet | Brier-poäng |",
        "|---|---|---:|---:|---:|",
    ]
    for r in scores.itertuples():
        origin = "Alla år" if r.origin == "alla" else str(r.origin)
        label = _CALL_LABELS[str(r.method)]
        lines.append(
            f"| {origin} | {label} | {fmt_int(r.n)} | {fmt_pct(r.balanced_accuracy)} | "
            f"{fmt_float(r.brier, 2)} |"
        )
    total = scores[scores["origin"] == "alla"].set_index("method")
    lines.append("")
    if {"centred", "carry_forward"} <= set(total.index):
        ours, carry = total.loc["centred"], total.loc["carry_forward"]
        acc = ours["balanced_accuracy"] > carry["balanced_accuracy"]
        brier = ours["brier"] < carry["brier"]
        if acc and brier:
            meaning = (
                "Vår bedömning träffade bättre än att föra dagens läge vidare, både i status och "
                "i sannolikhet för brist: modellens framskrivning tillför något utöver dagens läge."
            )
        elif brier:
            meaning = (
                "Sannolikheten för brist har stämt bättre än att föra dagens läge vidare, men "
                "statusen har inte träffat oftare: läs statusen som en indikation och titta på "
                "sannolikheten för brist."
            )
        elif acc:
            meaning = (
                "Statusen har träffat oftare än att föra dagens läge vidare, men sannolikheten "
                "för brist har stämt sämre: läs sannolikheten med försiktighet."
            )
        else:
            meaning = (
                "Bedömningen har ännu inte träffat bättre än att föra dagens läge vidare: läs "
                "den med försiktighet och tillsammans med dagens läge."
            )
        lines.append(meaning)
    return head + "\n".join(lines)


# --------------------------------------------------------------------------- report rendering
def _palette_png(rgb: Any, colors: int) -> bytes:
    """A PIL RGB image as a palette PNG (fast octree, no dithering, default zlib level)."""
    from PIL import Image

    # fast octree without PNG optimisation: on the report's figures 4x faster than median cut
    # with optimize=True (1.0 s against 3.9 s for eight figures) and still a fifth smaller
    pal = rgb.quantize(colors=colors, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    buf = io.BytesIO()
    pal.save(buf, "PNG")
    return buf.getvalue()


def is_palette_png(data: bytes) -> bool:
    """True for a PNG whose pixels are palette indices (colour type 3), i.e. already compressed.

    Examples
    --------
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("P", (4, 4)).save(buf, "PNG")
    >>> is_palette_png(buf.getvalue()), is_palette_png(b"not a png")
    (True, False)
    """
    # IHDR is the first chunk: 8-byte signature, length, "IHDR", width, height, depth, colour type
    return data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and data[25:26] == b"\x03"


def compress_png(data: bytes, colors: int = 256) -> bytes:
    """Re-encode a PNG with an adaptive palette of ``colors`` colours (if that makes it smaller).

    Chart PNGs have few distinct colours apart from anti-aliasing, so a palette image is about a
    third of the size and looks the same. A PNG that is already a palette image is returned as
    it is (the report's figures are drawn that way by :func:`figure_png`).

    Examples
    --------
    >>> from PIL import Image
    >>> buf = io.BytesIO(); Image.new("RGBA", (40, 20), "#0072B2").save(buf, "PNG")
    >>> len(compress_png(buf.getvalue())) <= len(buf.getvalue())
    True
    """
    if is_palette_png(data):
        return data
    from PIL import Image

    img = Image.open(io.BytesIO(data))
    img.load()
    rgb = img.convert("RGB") if img.mode in ("RGBA", "LA", "P") else img
    if img.mode in ("RGBA", "LA"):
        # charts are drawn on white; flatten transparency onto white before quantising
        bg = Image.new("RGB", img.size, "white")
        bg.paste(img, mask=img.getchannel("A"))
        rgb = bg
    out = _palette_png(rgb, colors)
    return out if len(out) < len(data) else data


def figure_png(fig: Any, colors: int = 256) -> bytes:
    """A matplotlib figure as a palette PNG, drawn once at the figure's own dpi.

    What the report shows instead of the notebook's own figure output: the inline backend draws
    a figure twice (``bbox_inches="tight"`` needs a layout pass) and writes a full-colour PNG
    that :func:`render_html` then decodes and quantises again. Here the figure is drawn once on
    an Agg canvas and its pixels are quantised straight from memory. The report's figures fill
    their canvas (their layout keeps every label inside), so no tight cropping is needed.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> from matplotlib.figure import Figure
    >>> fig = Figure(figsize=(2, 1), dpi=50); _ = fig.add_subplot().plot([1, 2])
    >>> png = figure_png(fig)
    >>> is_palette_png(png), png[16:24] == (100).to_bytes(4, "big") + (50).to_bytes(4, "big")
    (True, True)
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    img = Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)
    if rgba[..., 3].min() == 255:
        rgb = img.convert("RGB")
    else:  # a transparent background: flatten onto white as compress_png does
        rgb = Image.new("RGB", img.size, "white")
        rgb.paste(img, mask=img.getchannel("A"))
    return _palette_png(rgb, colors)


def figure_alt(fig: Any, max_parts: int = 12) -> str:
    """Alt text for a matplotlib figure from its own titles and axis labels (Swedish).

    Report figures carry their message in the title ("De 15 största yrkena i Skaraborg, 2024");
    small-multiple figures list their panels.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("Sysselsatta i Skaraborg"); _ = ax.set_ylabel("Antal")
    >>> figure_alt(fig)
    'Diagram: Sysselsatta i Skaraborg. Lodrät axel: Antal.'
    >>> plt.close(fig)
    """

    def clean(t: str) -> str:
        return " ".join(t.split())

    sup = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) is not None else ""
    axes = [ax for ax in fig.axes if ax.get_visible() and (ax.has_data() or ax.get_title())]
    titles = [clean(ax.get_title(loc)) for ax in axes for loc in ("center", "left", "right")]
    titles = [t for t in titles if t]
    head = clean(sup) or (titles.pop(0) if titles else "")
    text = f"Diagram: {head}" if head else "Diagram"
    if sup and titles:
        shown = "; ".join(titles[:max_parts])
        more = f" och {len(titles) - max_parts} till" if len(titles) > max_parts else ""
        text += f". {len(titles)} delar: {shown}{more}"
    if axes:
        ylabel, xlabel = clean(axes[0].get_ylabel()), clean(axes[0].get_xlabel())
        if ylabel:
            text += f". Lodrät axel: {ylabel}"
        if xlabel:
            text += f". Vågrät axel: {xlabel}"
    return text + "."


_EXPORTERS = threading.local()


def _exporter() -> Any:
    """nbconvert's HTML exporter for the report, built once per thread (loading and compiling its
    Jinja templates took 0.3-0.5 s per report; the batch renders in a few threads)."""
    exporter = getattr(_EXPORTERS, "exporter", None)
    if exporter is None:
        from nbconvert import HTMLExporter
        from nbconvert.preprocessors import TagRemovePreprocessor

        exporter = HTMLExporter(
            template_name="basic",
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
        exporter.register_preprocessor(
            TagRemovePreprocessor(remove_cell_tags={"remove_cell"}), enabled=True
        )
        _EXPORTERS.exporter = exporter
    return exporter


def _export_body(nb: Any) -> str:
    """The notebook's outputs as HTML (nbconvert's ``basic`` template, no code, no prompts).

    ``HTMLExporter.from_notebook_node`` ends with a BeautifulSoup pass that only adds alt text
    and tab stops for the ``lab`` template's cells: 0.7 s per report parsing and re-serialising
    the page, and our page sets its own alt text. So the exporter's filters are registered as it
    does and the template is rendered directly; with another nbconvert that lacks these
    internals the exporter's own method is used.
    """
    exporter = _exporter()
    try:
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        resources = exporter._init_resources(None)
        # no code is shown (exclude_input), but the template refers to the filter
        exporter.register_filter("highlight_code", Highlight2HTML(parent=exporter))
        exporter.register_filter(
            "filter_data_type",
            WidgetsDataTypeFilter(
                notebook_metadata=exporter._nb_metadata, parent=exporter, resources=resources
            ),
        )
        body, _ = TemplateExporter.from_notebook_node(exporter, nb, resources)
    except (ImportError, AttributeError, TypeError):  # pragma: no cover - other nbconvert
        body, _ = exporter.from_notebook_node(nb)
    # the template writes some non-ASCII letters as character references ("f&#246;r"); write
    # them as text as the BeautifulSoup pass did (markup characters below 128 stay escaped)
    return _NONASCII_REF.sub(lambda m: chr(int(m.group(1))), str(body))


_NONASCII_REF = re.compile(r"&#(1[2-9][0-9]|[2-9][0-9]{2}|[0-9]{4,5});")


_IMG = re.compile(r'<img\s+(?:alt="[^"]*"\s+)?src="data:image/png;base64,([^"]+)"')
_TAG = re.compile(r"<[^>]+>")


def _figure_alts(nb: Any) -> dict[str, str]:
    """Alt text per image output: the output's own ``alt`` metadata, else the section it is in."""
    alts: dict[str, str] = {}
    heading, intro = "", ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text = cell.source
            m = re.search(r"^#{1,3}\s+(.+)$", text, flags=re.M)
            if m:
                heading = m.group(1).strip()
                rest = text[m.end() :].strip()
                intro = rest.split("\n\n")[0].strip() if rest else ""
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            png = data.get("image/png")
            if not png:
                continue
            meta = out.get("metadata", {}).get("image/png", {})
            alt = meta.get("alt") if isinstance(meta, dict) else None
            if not alt:
                plain = str(data.get("text/plain", ""))
                alt = f"Diagram: {heading}" if heading else "Diagram"
                if intro:
                    alt += f". {intro}"
                if "Figure" not in plain and plain:
                    alt += f" ({plain})"
            alts[png.replace("\n", "")] = alt
    return alts


def render_html(
    notebook: str | os.PathLike[str],
    target: str | os.PathLike[str],
    *,
    title: str | None = None,
    compress: bool = True,
) -> Path:
    """Render an executed report notebook to one self-contained HTML file.

    No code, no prompts, no cells tagged ``remove_cell``; no external scripts or styles (the
    page works offline); figures as palette PNGs with alt text; an A4 print stylesheet.

    Parameters
    ----------
    notebook : path
        The executed notebook.
    target : path
        The HTML file to write.
    title : str, optional
        Page title; default the first heading in the notebook's outputs.
    compress : bool, default True
        Re-encode figures with :func:`compress_png`.

    Returns
    -------
    pathlib.Path
        ``target``.
    """
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    alts = _figure_alts(nb)
    body = _export_body(nb)

    def _img(m: re.Match[str]) -> str:
        b64 = m.group(1).replace("\n", "")
        alt = alts.get(b64, "Diagram")
        if compress:
            b64 = base64.b64encode(compress_png(base64.b64decode(b64))).decode("ascii")
        return f'<img alt="{_html.escape(alt, quote=True)}" src="data:image/png;base64,{b64}"'

    body = _IMG.sub(_img, body)
    # the first section follows the title and banner on page 1 instead of starting a new page
    body = re.sub(r"<h2(?![^>]*no-break-before)", '<h2 class="no-break-before"', body, count=1)
    # nbconvert's basic template prefixes markdown headings with "¶" anchor links we hide by CSS
    if title is None:
        m = re.search(r"<h1[^>]*>(.*?)</h1>", body, flags=re.S)
        title = _html.unescape(_TAG.sub("", m.group(1))).replace("¶", "").strip() if m else ""
    target = Path(target)
    target.write_text(page(title or "Kompetensprognos", body), encoding="utf-8")
    return target
