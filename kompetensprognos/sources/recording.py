"""Record every raw PxWebApi 2 answer to a folder, and replay a folder offline.

One live run with ``--record DIR`` becomes a fixture set; ``--replay DIR`` builds the identical
dataset from it without a network. The test suite's fake SCB server
(``tests/fixtures/pxweb/fake_scb.py``) reads the same layout, so recorded real answers can replace
the hand-made fixtures without code changes.

Layout (each answer body is stored byte for byte as ``X.json``; the request that produced it is
in the sibling ``X.request.json`` with method, path, query parameters, POST body, status and the
retrieval time)::

    DIR/config.json                          GET /config
    DIR/search/<words>-<hash>.json           GET /tables?query=...   (one file per page)
    DIR/tables/<ID>.json                     GET /tables/<ID>
    DIR/metadata/<ID>.json                   GET /tables/<ID>/metadata
    DIR/codelists/<id>.json                  GET /codelists/<id>
    DIR/data/<ID>/<fingerprint>.json         GET or POST /tables/<ID>/data

``<fingerprint>`` is :func:`kompetensprognos.sources.pxweb.fingerprint` of the query (the same key
as the download cache), so ``DIR/data`` can also be read as a :class:`ResponseCache`.

Examples
--------
>>> import httpx
>>> req = httpx.Request("GET", "https://statistikdatabasen.scb.se/api/v2/tables/TAB638/metadata?lang=sv")
>>> response_path("rec", req).as_posix()
'rec/metadata/TAB638.json'
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from kompetensprognos.sources.pxweb import fingerprint

__all__ = [
    "RecordingTransport",
    "ReplayTransport",
    "data_request_key",
    "recorded_config",
    "response_path",
    "search_key",
]

#: statuses worth recording: answers, and "this table does not exist" (so replay resolves alike)
_RECORDED = frozenset({200, 404})


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def search_key(params: httpx.QueryParams | dict[str, str]) -> str:
    """File stem for a table search: the query words plus a hash of every parameter.

    Examples
    --------
    >>> search_key({"query": "folkmängd region", "pageNumber": "1", "lang": "sv"})[:17]
    'folkmangd-region-'
    """
    items = sorted((k, v) for k, v in dict(params).items())
    digest = hashlib.sha256(json.dumps(items, ensure_ascii=False).encode()).hexdigest()[:12]
    words = str(dict(params).get("query", "")).lower()
    words = words.translate(str.maketrans("åäöé", "aaoe"))
    slug = re.sub(r"[^a-z0-9]+", "-", words).strip("-")[:60] or "all"
    return f"{slug}-{digest}"


def data_request_key(request: httpx.Request) -> tuple[str, str]:
    """``(table id, fingerprint)`` of a ``/tables/{id}/data`` request (GET or POST)."""
    path = _api_path(request)
    table_id = path.split("/")[2]
    params = dict(request.url.params)
    selection: dict[str, list[str]] = {}
    codelists: dict[str, str] = {}
    if request.method.upper() == "POST" and request.content:
        body = json.loads(request.content)
        for item in body.get("selection", ()):
            selection[str(item["variableCode"])] = [str(v) for v in item.get("valueCodes", ())]
            if item.get("codelist"):
                codelists[str(item["variableCode"])] = str(item["codelist"])
    else:
        for key, value in params.items():
            m = re.fullmatch(r"(valuecodes|codelist)\[(.+)\]", key, re.IGNORECASE)
            if not m:
                continue
            if m.group(1).lower() == "valuecodes":
                selection[m.group(2)] = value.split(",") if value else []
            else:
                codelists[m.group(2)] = value
    key = fingerprint(
        table_id,
        selection,
        codelists=codelists,
        output_format=params.get("outputFormat", "json-stat2"),
        language=params.get("lang", "sv"),
    )
    return table_id, key


def _api_path(request: httpx.Request) -> str:
    """The path after the API root (``/api/v2``), e.g. ``/tables/TAB638/metadata``."""
    path = request.url.path
    m = re.search(r"/(config|tables|codelists)(/.*)?$", path)
    return path[m.start() :] if m else path


def response_path(root: str | os.PathLike[str], request: httpx.Request) -> Path | None:
    """Where the answer to ``request`` is stored under ``root`` (``None``: not a recorded kind)."""
    root = Path(root)
    path = _api_path(request).rstrip("/")
    if path == "/config":
        return root / "config.json"
    if path == "/tables":
        return root / "search" / f"{search_key(request.url.params)}.json"
    parts = path.split("/")
    if len(parts) == 3 and parts[1] == "codelists":
        return root / "codelists" / f"{_safe(parts[2])}.json"
    if len(parts) >= 3 and parts[1] == "tables":
        table_id = _safe(parts[2].upper())
        if len(parts) == 3:
            return root / "tables" / f"{table_id}.json"
        if parts[3] == "metadata":
            return root / "metadata" / f"{table_id}.json"
        if parts[3] == "data":
            _, key = data_request_key(request)
            return root / "data" / table_id / f"{key}.json"
    return None


def _request_file(body_file: Path) -> Path:
    return body_file.with_name(body_file.name.removesuffix(".json") + ".request.json")


def _write_atomic(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_bytes(content)
    os.replace(tmp, path)


class RecordingTransport(httpx.BaseTransport):
    """Pass requests on to ``inner`` and store each answer (200 or 404) under ``root``.

    Parameters
    ----------
    root : path
        Folder to record into (created when missing).
    inner : httpx.BaseTransport, optional
        The real transport (default ``httpx.HTTPTransport()``).
    """

    def __init__(
        self, root: str | os.PathLike[str], inner: httpx.BaseTransport | None = None
    ) -> None:
        self.root = Path(root)
        self.inner = inner or httpx.HTTPTransport()
        self.recorded = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Forward, read the whole answer, store it, return it."""
        response = self.inner.handle_request(request)
        content = response.read()
        target = response_path(self.root, request)
        if target is not None and response.status_code in _RECORDED:
            _write_atomic(target, content)
            body: Any = None
            if request.content:
                try:
                    body = json.loads(request.content)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    body = request.content.decode("utf-8", "replace")
            meta = {
                "method": request.method,
                "url": str(request.url.copy_with(query=None)),
                "path": _api_path(request),
                "params": dict(request.url.params),
                "body": body,
                "status": response.status_code,
                "content_type": response.headers.get("content-type", ""),
                "retrieved": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            _write_atomic(
                _request_file(target),
                (json.dumps(meta, ensure_ascii=False, indent=1) + "\n").encode(),
            )
            self.recorded += 1
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            request=request,
            extensions=response.extensions,
        )

    def close(self) -> None:
        """Close the inner transport."""
        self.inner.close()


class ReplayTransport(httpx.BaseTransport):
    """Answer requests from a recorded folder; never touches the network.

    A request with no recorded answer gets a 404 ProblemDetails naming the file that is missing.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.served = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """The recorded answer (with its recorded status), or 404."""
        target = response_path(self.root, request)
        if target is None or not target.exists():
            where = target.relative_to(self.root).as_posix() if target else _api_path(request)
            return httpx.Response(
                404,
                json={
                    "title": "Not Found",
                    "status": 404,
                    "detail": f"no recorded answer for {request.method} {_api_path(request)} "
                    f"({where} is missing in {self.root}); record it with --record",
                },
                headers={"content-type": "application/problem+json"},
                request=request,
            )
        status = 200
        req_file = _request_file(target)
        if req_file.exists():
            status = int(json.loads(req_file.read_text(encoding="utf-8")).get("status", 200))
        self.served += 1
        return httpx.Response(
            status,
            content=target.read_bytes(),
            headers={"content-type": "application/json; charset=utf-8"},
            request=request,
        )


def recorded_config(root: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The recorded ``/config`` answer, or ``None``."""
    path = Path(root) / "config.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
