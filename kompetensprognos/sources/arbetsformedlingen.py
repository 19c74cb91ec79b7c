"""Arbetsförmedlingen's yrkesbarometer: fetch the open JSON and map it to the contract.

The yrkesbarometer (``https://data.arbetsformedlingen.se/prognoser/yrkesbarometer.json``, CC0)
gives, per occupation (``yb_yrke``, mapped to one or more 4-digit SSYK codes) and county
(``lan``; ``00`` = Sweden), the recruitment situation (``rekryteringssituation``: brist / balans /
överskott) and the five-year direction of demand (``prognos``). It is kept as the contract table
``yrkesbarometer`` for comparison with the model's balance.

Examples
--------
>>> records = [{"lan": "14", "ssyk": "4119", "yb_yrke": "Administrativa assistenter",
...             "rekryteringssituation": "balans", "prognos": "vara oförändrad", "omgang": "2025-2"}]
>>> frame, unmapped = yrkesbarometer_frame(records)
>>> frame.iloc[0].to_dict()
{'region': '14', 'ssyk': '4119', 'occupation': 'Administrativa assistenter', 'status': 'balans', 'outlook': 'vara oförändrad', 'round': '2025-2'}
>>> unmapped
[]
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pandas as pd

from kompetensprognos import classifications
from kompetensprognos.errors import KompetensprognosError
from kompetensprognos.sources.pxweb import MalformedResponseError, PxWebUnreachableError

__all__ = [
    "YRKESBAROMETER_URL",
    "RoundInfo",
    "UnmappedRecord",
    "add_to_dataset",
    "fetch_yrkesbarometer",
    "fetch_yrkesbarometer_with_info",
    "yrkesbarometer_frame",
]

YRKESBAROMETER_URL = "https://data.arbetsformedlingen.se/prognoser/yrkesbarometer.json"
COLUMNS = ["region", "ssyk", "occupation", "status", "outlook", "round"]

#: Recruitment situations → contract status. Older rounds used graded words; they map to the
#: side they lean to. Anything else is reported, never guessed.
STATUS = {
    "brist": "brist",
    "stor brist": "brist",
    "viss brist": "brist",
    "balans": "balans",
    "överskott": "överskott",
    "visst överskott": "överskott",
    "stort överskott": "överskott",
}


@dataclass(frozen=True)
class UnmappedRecord:
    """A yrkesbarometer record that could not be mapped, with the reason."""

    index: int
    reason: str
    record: Mapping[str, Any]

    def __str__(self) -> str:
        who = f"{self.record.get('yb_yrke', '?')} / lan {self.record.get('lan', '?')} / ssyk {self.record.get('ssyk', '?')}"
        return f"record {self.index + 1} ({who}): {self.reason}"


@dataclass(frozen=True)
class RoundInfo:
    """Where and when a yrkesbarometer file was read, and which round(s) it holds.

    ``published`` is the server's ``Last-Modified`` date when it sends one (the publication date
    of the round); ``rounds`` are the ``omgang`` values found in the records. Stored in the
    dataset's ``provenance.json`` so later rounds can be compared with earlier calls.
    """

    url: str
    retrieved: str
    published: str = ""
    rounds: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "url": self.url,
            "retrieved": self.retrieved,
            "published": self.published,
            "rounds": list(self.rounds),
        }


def today() -> str:
    """Today's date, ISO format."""
    return date.today().isoformat()


def fetch_yrkesbarometer(
    url: str = YRKESBAROMETER_URL,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60.0,
) -> list[dict[str, Any]]:
    """Download the yrkesbarometer records (a JSON array).

    Raises
    ------
    PxWebUnreachableError
        Offline or the host is down.
    MalformedResponseError
        The answer is not a JSON array of records.

    Examples
    --------
    >>> records = fetch_yrkesbarometer()  # doctest: +SKIP
    >>> records[0]["omgang"]  # doctest: +SKIP
    '2025-2'
    """
    return fetch_yrkesbarometer_with_info(url, transport=transport, timeout=timeout)[0]


def fetch_yrkesbarometer_with_info(
    url: str = YRKESBAROMETER_URL,
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60.0,
    progress: bool = False,
) -> tuple[list[dict[str, Any]], RoundInfo]:
    """Download the records and say when and which round (see :class:`RoundInfo`).

    Raises
    ------
    PxWebUnreachableError
        Offline or the host is down.
    MalformedResponseError
        The answer is not a JSON array of records.
    """
    import email.utils
    import sys

    from tqdm import tqdm

    host = urlsplit(url).hostname or url
    try:
        with (
            httpx.Client(transport=transport, timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            size = int(response.headers.get("content-length") or 0) or None
            chunks = []
            with tqdm(
                total=size,
                desc="Arbetsförmedlingen yrkesbarometer",
                unit="B",
                unit_scale=True,
                file=sys.stderr,
                disable=not progress,
            ) as bar:
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    bar.update(len(chunk))
            content = b"".join(chunks)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise PxWebUnreachableError(
            f"cannot reach {host} — use --data demo or a dataset folder"
        ) from exc
    except httpx.TransportError as exc:
        raise KompetensprognosError(
            f"the download from {host} failed ({type(exc).__name__}); try again later"
        ) from exc
    if not response.is_success:
        raise KompetensprognosError(
            f"{host} answered {response.status_code} {response.reason_phrase} for {url}"
        )
    try:
        records = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedResponseError(f"{url} did not return JSON") from None
    if isinstance(records, dict):  # tolerate a wrapper object {"data": [...]}
        records = next((v for v in records.values() if isinstance(v, list)), None)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise MalformedResponseError(f"{url} did not return a JSON array of records")
    published = ""
    if response.headers.get("last-modified"):
        try:
            published = (
                email.utils.parsedate_to_datetime(response.headers["last-modified"])
                .date()
                .isoformat()
            )
        except (TypeError, ValueError):
            published = ""
    rounds = tuple(sorted({str(r.get("omgang")) for r in records if r.get("omgang")}))
    return records, RoundInfo(url=url, retrieved=today(), published=published, rounds=rounds)


def yrkesbarometer_frame(
    records: Iterable[Mapping[str, Any]],
) -> tuple[pd.DataFrame, list[UnmappedRecord]]:
    """Map yrkesbarometer records onto the ``yrkesbarometer`` contract.

    One row per (county, SSYK 4, occupation, round). Records without a usable county, SSYK code or
    recruitment situation are returned in the second element with the reason — never dropped
    silently. Duplicates of the contract key (region, ssyk) are kept only once per round, the
    others reported (a yrkesbarometer occupation can share an SSYK code with another).
    """
    rows: list[dict[str, Any]] = []
    unmapped: list[UnmappedRecord] = []
    seen: dict[tuple[str, str, str], str] = {}
    for i, rec in enumerate(records):
        lan = str(rec.get("lan") or "").strip()
        ssyk = str(rec.get("ssyk") or "").strip()
        raw_status = str(rec.get("rekryteringssituation") or "").strip().lower()
        if lan.isdigit() and len(lan) < 2:
            lan = lan.zfill(2)
        if ssyk.isdigit() and len(ssyk) < 4:
            ssyk = ssyk.zfill(4)
        if not (lan.isdigit() and len(lan) == 2):
            unmapped.append(
                UnmappedRecord(i, f"county code {rec.get('lan')!r} is not two digits", rec)
            )
            continue
        if not (ssyk.isdigit() and len(ssyk) == 4 and classifications.is_ssyk(ssyk, 4)):
            unmapped.append(
                UnmappedRecord(
                    i, f"SSYK code {rec.get('ssyk')!r} is not a 4-digit SSYK 2012 code", rec
                )
            )
            continue
        status = STATUS.get(raw_status)
        if status is None:
            unmapped.append(UnmappedRecord(i, f"unknown recruitment situation {raw_status!r}", rec))
            continue
        round_ = str(rec.get("omgang") or "").strip()
        occupation = str(rec.get("yb_yrke") or rec.get("ssyk_text") or "").strip()
        key = (lan, ssyk, round_)
        if key in seen:
            unmapped.append(
                UnmappedRecord(
                    i, f"SSYK {ssyk} in county {lan} already assessed as '{seen[key]}'", rec
                )
            )
            continue
        seen[key] = occupation
        outlook = rec.get("prognos")
        rows.append(
            {
                "region": lan,
                "ssyk": ssyk,
                "occupation": occupation,
                "status": status,
                "outlook": None if outlook is None else str(outlook),
                "round": round_,
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS), unmapped


def add_to_dataset(
    frame: pd.DataFrame, directory: str | os.PathLike[str], *, info: RoundInfo | None = None
) -> Path:
    """Put the ``yrkesbarometer`` table into a dataset folder (created when missing).

    An existing dataset folder keeps its other tables; a new folder is a partial dataset (no
    ``employment``) until ``data fetch scb --out`` the same folder adds SCB data, which keeps
    this table. Nothing is written when the table breaks its contract. The round(s), the
    retrieval date and the publication date (``info``) go to the manifest notes and to
    ``provenance.json``.
    """
    from kompetensprognos.sources.importers import merge_into_dataset
    from kompetensprognos.sources.scb import write_provenance

    rounds = ", ".join(sorted(frame["round"].dropna().astype(str).unique())) if len(frame) else ""
    info = info or RoundInfo(url=YRKESBAROMETER_URL, retrieved=today())
    if rounds and not info.rounds:
        info = RoundInfo(info.url, info.retrieved, info.published, tuple(rounds.split(", ")))
    note = (
        f"yrkesbarometer: Arbetsförmedlingen ({info.url}, CC0), round {rounds or '?'}, "
        f"read {info.retrieved}" + (f", published {info.published}" if info.published else "") + "."
    )
    out = merge_into_dataset(
        {"yrkesbarometer": frame}, directory, source="Arbetsförmedlingen yrkesbarometer", note=note
    )
    write_provenance(out, {"arbetsformedlingen": info.as_dict()})
    return out
