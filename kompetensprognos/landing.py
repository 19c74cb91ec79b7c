"""The landing page ``OUTPUT/index.html``: the regions compared side by side, in Swedish.

One call, :func:`write_landing_page`, with plain inputs (the per-region output tables, the
dataset manifest, the parameters) writes a self-contained page (no network requests, works from
a file share) with

* the headline figures of every region side by side (:func:`headline_figures`),
* a matrix of status by region × occupation group (SSYK 1 and 2) with the probability of
  shortage in each cell (and the need and newcomers on hover),
* "the same occupation across regions" for the occupations most likely to be in shortage,
* links to each region's report, PDF, Excel file and CSV tables,
* the data vintage and, for synthetic data, the warning banner.

Examples
--------
>>> import tempfile
>>> need = pd.DataFrame({"ssyk": ["total", "2"], "ssyk_level": [0, 1], "period_start": 2023,
...     "period_end": 2030, "expansion": [5.0, 3.0], "replacement": [10.0, 6.0],
...     "recruitment_need": [15.0, 9.0]})
>>> with tempfile.TemporaryDirectory() as d:
...     path = write_landing_page(d, {"skaraborg": {"recruitment_need": need}})
...     "Skaraborg" in path.read_text(encoding="utf-8")
True
"""

from __future__ import annotations

import html as _html
import json
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kompetensprognos import __version__, regions
from kompetensprognos.headline import finest_level, headline
from kompetensprognos.labels import STATUS_ORDER, occupation_name, status_label, value_of
from kompetensprognos.narrative import NBSP, fmt_int, fmt_pct, fmt_prob, occupation_label
from kompetensprognos.pages import page

__all__ = ["headline_figures", "landing_html", "rebuild_landing_page", "write_landing_page"]

_DASH = "\u2013"
_STATUS_CLASS = {"brist": "st-brist", "balans": "st-balans", "överskott": "st-overskott"}
_CSS = """
body{max-width:80rem}
.cmp th[scope=row]{font-weight:600;background:#fafafa}
.cmp td{text-align:right;font-variant-numeric:tabular-nums}
.cmp td.links{text-align:left}
.matrix td{text-align:center;white-space:nowrap;min-width:7.5rem}
.matrix th[scope=row]{font-weight:400;max-width:26rem}
.matrix tr.l1 th[scope=row]{font-weight:700;background:#f3f3f3}
.matrix tr.l2 th[scope=row]{padding-left:1.4rem}
.matrix .code{color:#555;font-variant-numeric:tabular-nums;margin-right:.35rem}
.matrix small{display:block;color:#333}
.legend span{display:inline-block;padding:.1rem .6rem;margin-right:.4rem;border:1px solid #bbb}
.wide{overflow-x:auto}
"""


def headline_figures(tables: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """A region's headline figures for the landing page (:func:`kompetensprognos.headline.headline`).

    The same rule as the report's summary and sweeps; figures whose table or column is missing
    are left out.

    Examples
    --------
    >>> need = pd.DataFrame({"ssyk": ["total"], "period_start": [2023], "period_end": [2030],
    ...     "expansion": [100.0], "replacement": [250.4], "recruitment_need": [350.4]})
    >>> headline_figures({"recruitment_need": need})["recruitment_need"]
    350
    """
    h = headline(tables)
    out = {k: v for k, v in h.as_dict().items() if v is not None and v != [] and v != {}}
    out.pop("status_counts", None)
    out.pop("top_shortage", None)
    out.pop("assessed", None)
    if h.status_counts:
        out |= {s: h.status_counts[s] for s in STATUS_ORDER}
        out["assessed_of"] = h.assessed
    return out


# --------------------------------------------------------------------------- sections
def _esc(x: Any) -> str:
    return _html.escape(str(x), quote=True)


def _link(href: str, text: str, exists: bool | None = None) -> str:
    if exists is False:
        return ""
    return f'<a href="{_esc(href)}">{_esc(text)}</a>'


def _comparison(
    region_ids: Sequence[str],
    heads: Mapping[str, Mapping[str, Any]],
    failures: Mapping[str, str],
    output: Path | None,
) -> str:
    cols = "".join(f'<th scope="col">{_esc(regions.region_name(r))}</th>' for r in region_ids)
    any_h = next((h for h in heads.values() if h), {})
    start, end = any_h.get("period_start"), any_h.get("period_end")
    period = f" {start}{_DASH}{end}" if start and end else ""
    last = any_h.get("last_year", "")
    end_year = any_h.get("end_year", end or "")
    level = any_h.get("ssyk_level")
    level_txt = f" (SSYK-nivå {level})" if level else ""

    def cell(r: str, fn: Any) -> str:
        if not heads.get(r):
            return '<td class="muted">–</td>'
        try:
            return f"<td>{fn(heads.get(r, {}))}</td>"
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            return "<td>–</td>"

    def change(h: Mapping[str, Any]) -> str:
        return fmt_pct(h["employed_end"] / h["employed_last"] - 1, 1, sign=True)

    def interval(h: Mapping[str, Any], a: str, b: str) -> str:
        return f'<br><small class="muted">80{NBSP}%: {fmt_int(h[a])}{_DASH}{fmt_int(h[b])}</small>'

    def emp_end(h: Mapping[str, Any]) -> str:
        extra = ""
        if "employed_end_lo80" in h:
            extra = interval(h, "employed_end_lo80", "employed_end_hi80")
        return fmt_int(h["employed_end"]) + extra

    def need(h: Mapping[str, Any]) -> str:
        extra = ""
        if "recruitment_need_lo80" in h:
            extra = interval(h, "recruitment_need_lo80", "recruitment_need_hi80")
        return f"<strong>{fmt_int(h['recruitment_need'])}</strong>{extra}"

    def count(status: str) -> Any:
        return lambda h: f"{h[status]} av {h['assessed_of']}"

    rows: list[tuple[str, Any]] = [
        (f"Sysselsatta {last}", lambda h: fmt_int(h["employed_last"])),
        (f"Sysselsatta {end_year} (prognos)", emp_end),
        ("Förändring", change),
        (f"Rekryteringsbehov{period}", need),
        ("– varav expansionsbehov", lambda h: fmt_int(h["expansion"])),
        ("– varav ersättningsbehov", lambda h: fmt_int(h["replacement"])),
    ]
    if any("openings" in h for h in heads.values()):
        rows.append(("Lediga jobb", lambda h: fmt_int(h["openings"])))
    if any("new_entrants" in h for h in heads.values()):
        rows.append((f"Nytillskott{period}", lambda h: fmt_int(h["new_entrants"])))
    if any("brist" in h for h in heads.values()):
        rows += [
            (f"Yrken med brist{level_txt}", count("brist")),
            ("Yrken i balans", count("balans")),
            ("Yrken med överskott", count("överskott")),
        ]
    body = "".join(
        f'<tr><th scope="row">{_esc(label)}</th>{"".join(cell(r, fn) for r in region_ids)}</tr>'
        for label, fn in rows
    )

    def links(r: str) -> str:
        failed = f"Rapporten misslyckades: {_esc(failures[r])}" if r in failures else ""
        if r in failures and r not in heads:
            return f'<td class="links">{failed}</td>'
        d = output / r if output is not None else None

        def has(name: str) -> bool | None:
            return None if d is None else (d / name).exists()

        parts = [
            _link(f"{r}/rapport.html", "Rapport", has("rapport.html")),
            _link(f"{r}/rapport.pdf", "PDF", has("rapport.pdf") if d is not None else False),
            _link(f"{r}/rapport.xlsx", "Excel", has("rapport.xlsx")),
            _link(f"{r}/tables/", "Tabeller (CSV)", has("tables")),
        ]
        note = f"<br><small>{failed}</small>" if failed else ""
        return f'<td class="links">{" · ".join(p for p in parts if p)}{note}</td>'

    body += (
        f'<tr><th scope="row">Rapport och tabeller</th>{"".join(links(r) for r in region_ids)}</tr>'
    )
    return (
        '<h2 class="no-break-before">Regionerna sida vid sida</h2><div class="wide">'
        f'<table class="cmp"><thead><tr><th scope="col">Nyckeltal</th>{cols}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _status_cell(row: pd.Series | None, region: str, name: str) -> str:
    if row is None:
        return '<td class="muted">–</td>'
    status = row.get("status")
    p = row.get("p_shortage")
    cls = _STATUS_CLASS.get(str(status), "")
    word = status_label(status)
    prob = "" if pd.isna(p) else fmt_prob(p)
    hover = f"{regions.region_name(region)} · {name}: {word.lower()}"
    if prob:
        hover += f", sannolikhet för brist {prob}"
    if "recruitment_need" in row and pd.notna(row["recruitment_need"]):
        hover += f", rekryteringsbehov {fmt_int(row['recruitment_need'])}"
    if "new_entrants" in row and pd.notna(row["new_entrants"]):
        hover += f", nytillskott {fmt_int(row['new_entrants'])}"
    small = f"<small>brist {prob}</small>" if prob else ""
    attr = f' class="{cls}"' if cls else ""
    return f'<td{attr} title="{_esc(hover)}">{_esc(word)}{small}</td>'


def _balances(per_region: Mapping[str, Mapping[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    out = {}
    for r, t in per_region.items():
        bal = t.get("balance")
        if bal is not None and {"ssyk", "status"} <= set(bal.columns):
            out[r] = bal.assign(ssyk=bal["ssyk"].astype(str)).set_index("ssyk")
    return out


def _legend() -> str:
    items = "".join(
        f'<span class="{_STATUS_CLASS[s]}">{status_label(s)}</span>' for s in STATUS_ORDER
    )
    return (
        f'<p class="legend">{items}<span>Ingen bedömning</span> Cellen visar status och '
        "sannolikheten för brist; håll muspekaren över en cell för behov och nytillskott.</p>"
    )


def _matrix(region_ids: Sequence[str], bals: Mapping[str, pd.DataFrame]) -> str:
    if not bals:
        return (
            "<h2>Status per yrkesområde</h2><p>Balansen kunde inte beräknas (underlag om "
            "utbildning saknas).</p>"
        )
    codes = sorted(
        {c for b in bals.values() for c in b.index if c.isdigit() and len(c) in (1, 2)},
        key=lambda c: (c[0], len(c), c),
    )
    cols = "".join(f'<th scope="col">{_esc(regions.region_name(r))}</th>' for r in region_ids)
    rows = []
    for code in codes:
        name = occupation_label(code, width=None)
        cells = "".join(
            _status_cell(
                bals[r].loc[code] if r in bals and code in bals[r].index else None, r, name
            )
            for r in region_ids
        )
        rows.append(
            f'<tr class="l{len(code)}"><th scope="row"><span class="code">{code}</span>'
            f"{_esc(name)}</th>{cells}</tr>"
        )
    return (
        "<h2>Status per yrkesområde och region</h2>"
        "<p>Bedömd balans mellan nytillskott och rekryteringsbehov under perioden, för "
        "yrkesområden (SSYK 1, fet stil) och yrkesgrupper (SSYK 2) i varje region. Hur "
        "statusen ska läsas står i varje regions rapport.</p>"
        + _legend()
        + f'<div class="wide"><table class="matrix"><thead><tr><th scope="col">Yrke</th>{cols}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _same_occupation(region_ids: Sequence[str], bals: Mapping[str, pd.DataFrame], top: int) -> str:
    if not bals or not any("p_shortage" in b.columns for b in bals.values()):
        return ""
    fin = pd.concat(
        [finest_level(b.reset_index()).assign(region=r) for r, b in bals.items()], ignore_index=True
    )
    if "p_shortage" not in fin.columns or fin["p_shortage"].notna().sum() == 0:
        return ""
    agg = fin.groupby("ssyk").agg(p=("p_shortage", "mean"), need=("recruitment_need", "sum"))
    agg = agg.dropna(subset=["p"]).sort_values(["p", "need"], ascending=[False, False]).head(top)
    cols = "".join(f'<th scope="col">{_esc(regions.region_name(r))}</th>' for r in region_ids)
    rows = []
    for code in agg.index:
        name = occupation_name(code)
        cells = []
        for r in region_ids:
            b = bals.get(r)
            row = b.loc[code] if b is not None and code in b.index else None
            cell = _status_cell(row, r, name)
            if row is not None and "recruitment_need" in row and pd.notna(row["recruitment_need"]):
                extra = f"behov {fmt_int(row['recruitment_need'])}"
                if "new_entrants" in row and pd.notna(row["new_entrants"]):
                    extra += f" · nytillskott {fmt_int(row['new_entrants'])}"
                cell = cell.replace("</td>", f'<small class="muted">{extra}</small></td>')
            cells.append(cell)
        rows.append(
            f'<tr class="l3"><th scope="row"><span class="code">{code}</span>{_esc(name)}</th>'
            f"{''.join(cells)}</tr>"
        )
    level = fin["ssyk_level"].max() if "ssyk_level" in fin.columns else None
    lvl = f" (SSYK-nivå {int(level)})" if level is not None and pd.notna(level) else ""
    return (
        "<h2>Samma yrke i alla regioner</h2>"
        f"<p>De {len(agg)} yrken{lvl} som har högst sannolikhet för brist i genomsnitt över "
        "regionerna, med status, sannolikhet för brist, rekryteringsbehov och nytillskott "
        "(nyutbildade) i varje region.</p>"
        + _legend()
        + f'<div class="wide"><table class="matrix"><thead><tr><th scope="col">Yrke</th>{cols}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _provenance(manifest: Any, fingerprint: str | None, version: str) -> tuple[str, str]:
    synthetic = bool(value_of(manifest, "synthetic", False))
    banner = ""
    if synthetic:
        banner = (
            '<div class="banner" role="note"><strong>⚠ Syntetiska demonstrationsdata</strong> — '
            "siffrorna är inte verklig statistik. De är simulerade för att visa hur rapporterna "
            "ser ut och får inte användas som underlag för beslut.</div>"
        )
    label = value_of(manifest, "label") or value_of(manifest, "name") or ""
    source, vintage = value_of(manifest, "source"), value_of(manifest, "vintage")
    bits = []
    if label:
        bits.append(f"Data: {_esc(label)}")
    if source and source != label:
        bits.append(f"källa {_esc(source)}")
    if vintage:
        bits.append(f"version (vintage) {_esc(vintage)}")
    foot = [f"kompetensprognos {_esc(version)}"]
    if fingerprint:
        foot.append(f"datafingeravtryck <code>{_esc(fingerprint)}</code>")
    foot.append(f"skapad {time.strftime('%Y-%m-%d %H:%M')}")
    return banner + (f"<p>{', '.join(bits)}.</p>" if bits else ""), " · ".join(foot)


def landing_html(
    per_region: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    manifest: Any = None,
    failures: Mapping[str, str] | None = None,
    fingerprint: str | None = None,
    version: str = __version__,
    output: str | os.PathLike[str] | None = None,
    top: int = 12,
) -> str:
    """The landing page as an HTML string (see :func:`write_landing_page`)."""
    failures = dict(failures or {})
    region_ids = list(dict.fromkeys([*per_region, *failures]))
    heads = {r: headline_figures(t) for r, t in per_region.items()}
    bals = _balances(per_region)
    first = next((h for h in heads.values() if h.get("period_end")), {})
    period = (
        f"{first['period_start']}{_DASH}{first['period_end']}" if "period_start" in first else ""
    )
    intro, foot = _provenance(manifest, fingerprint, version)
    out = Path(output) if output is not None else None
    body = (
        "<header><h1>Kompetensprognoser för Västra Götaland</h1>"
        f"<p>Rekryteringsbehov, nytillskott och balans per yrke{' ' + period if period else ''} "
        "för regionens delregioner. Varje region har en rapport, en Excel-fil och tabeller.</p>"
        f"{intro}</header><main>"
        + _comparison(region_ids, heads, failures, out)
        + _matrix([r for r in region_ids if r in per_region], bals)
        + _same_occupation([r for r in region_ids if r in per_region], bals, top)
        + "</main><footer><h2>Om sidan</h2><p>Excel-filerna har svenska rubriker och ett blad "
        "”Läs mig” som förklarar kolumnerna. CSV-tabellerna i mappen <code>tables/</code> har "
        "engelska kolumnnamn och är det maskinläsbara formatet.</p>"
        f'<p class="muted"><small>{foot}</small></p></footer>'
    )
    return page("Kompetensprognoser för Västra Götaland", body, css=_CSS)


def write_landing_page(
    output_dir: str | os.PathLike[str],
    per_region: Mapping[str, Mapping[str, pd.DataFrame]],
    *,
    manifest: Any = None,
    failures: Mapping[str, str] | None = None,
    fingerprint: str | None = None,
    version: str = __version__,
    top: int = 12,
) -> Path:
    """Write ``output_dir/index.html``, the landing page that compares the regions.

    Parameters
    ----------
    output_dir : path
        The run's output folder (links point to ``<region>/rapport.html`` etc. in it; a PDF
        link appears when ``<region>/rapport.pdf`` exists).
    per_region : mapping
        ``{region id: {table name: DataFrame}}`` for the regions with a report, in display order.
    manifest : Manifest or dict, optional
        The dataset manifest (``synthetic``, ``label``/``name``, ``source``, ``vintage``).
    failures : mapping, optional
        ``{region id: error message}`` for regions whose report (or PDF) failed; a region that
        is also in ``per_region`` (say, only its PDF failed) keeps its figures and links.
    fingerprint : str, optional
        Data fingerprint for the footer.
    version : str
        Package version for the footer.
    top : int, default 12
        Occupations in "the same occupation across regions".

    Returns
    -------
    pathlib.Path
        The written ``index.html``.
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = landing_html(
        per_region,
        manifest=manifest,
        failures=failures,
        fingerprint=fingerprint,
        version=version,
        output=out,
        top=top,
    )
    target = out / "index.html"
    target.write_text(text, encoding="utf-8")
    return target


def _manifest_of(output_dir: Path) -> tuple[Any, str | None, dict[str, str]]:
    path = output_dir / "manifest.json"
    if not path.exists():
        return None, None, {}
    m = json.loads(path.read_text(encoding="utf-8"))
    failures = {
        o["region"]: o.get("error") or "okänt fel" for o in m.get("regions", []) if not o.get("ok")
    }
    return m.get("dataset"), m.get("data_fingerprint"), failures


def rebuild_landing_page(output_dir: str | os.PathLike[str]) -> Path:
    """Rewrite ``index.html`` of an existing output folder from its tables and ``manifest.json``.

    Handy after changing the page's layout, without rerunning the reports.
    """
    from kompetensprognos.report import read_tables

    out = Path(output_dir)
    manifest, fingerprint, failures = _manifest_of(out)
    per_region = {
        d.name: read_tables(d / "tables")
        for d in sorted(out.iterdir())
        if d.is_dir() and (d / "tables").is_dir() and not d.name.startswith(".")
    }
    order = [r for r in regions.ALL_REGION_IDS if r in per_region]
    per_region = {r: per_region[r] for r in order + [r for r in per_region if r not in order]}
    return write_landing_page(
        out, per_region, manifest=manifest, failures=failures, fingerprint=fingerprint
    )
