"""A thin client for SCB's PxWebApi 2 (``https://statistikdatabasen.scb.se/api/v2``).

What it does that a plain HTTP call does not:

* reads the limits the API states at ``/config`` (``maxDataCells``, ``maxCallsPerTimeWindow`` per
  ``timeWindow`` seconds) and keeps to them: queries over the cell limit are split into several
  calls, and calls are throttled with a sliding window;
* retries on 429 and 5xx with exponential backoff, honouring ``Retry-After``;
* sends long selections as POST (IIS rejects long GET URLs);
* turns the API's ProblemDetails errors (RFC 7807: ``title``/``status``/``detail``) and network
  failures into :class:`PxWebError` with a plain-words message;
* parses JSON-stat2 into a long frame with codes as text (leading zeros kept);
* caches raw responses on disk under a fingerprint of table id + query, so re-runs and interrupted
  downloads do not download again.

``sleep`` and ``clock`` are injectable so tests never wait. ``pxwebpy`` (PyPI) does much of this
but is built on ``requests``/``requests-cache`` with an in-memory cache, a module-level
``time.sleep`` and no transport hook, and returns labels *or* codes per column; see
``docs/data-sources.md`` for why this package keeps its own ~500 lines instead.

Examples
--------
>>> from kompetensprognos.sources.pxweb import PxWebClient
>>> with PxWebClient() as scb:  # doctest: +SKIP
...     meta = scb.metadata("TAB638")
...     frame = scb.data("TAB638", {"Region": ["1480"], "Alder": ["30"], "Kon": ["1", "2"],
...                                 "ContentsCode": ["BE0101N1"], "Tid": ["2023", "2024"]})
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import math
import os
import re
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import pandas as pd

from kompetensprognos.errors import KompetensprognosError

__all__ = [
    "DEFAULT_BASE_URL",
    "ApiConfig",
    "MalformedResponseError",
    "PxWebClient",
    "PxWebError",
    "PxWebUnreachableError",
    "Query",
    "RateLimiter",
    "ResponseCache",
    "TableInfo",
    "TableMetadata",
    "Variable",
    "count_cells",
    "fingerprint",
    "jsonstat2_to_frame",
    "split_selection",
]

DEFAULT_BASE_URL = "https://statistikdatabasen.scb.se/api/v2"
_USER_AGENT = "kompetensprognos-pxweb-client"
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})

Selection = Mapping[str, Sequence[str]]


# --- errors ------------------------------------------------------------------------------------


class PxWebError(KompetensprognosError):
    """The API refused a request or answered with something unusable.

    Attributes
    ----------
    status : int | None
        HTTP status, when there was a response.
    title, detail : str
        From the API's ProblemDetails body when it sent one.
    url : str
        The request URL (without the query string).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str = "",
        detail: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.detail = detail
        self.url = url


class PxWebUnreachableError(PxWebError):
    """The host could not be reached at all (offline, DNS failure, refused connection)."""


class MalformedResponseError(PxWebError):
    """The API answered 200 but the body is not what the format promises."""


def unreachable_message(base_url: str) -> str:
    """The one message shown when the API cannot be reached.

    Examples
    --------
    >>> unreachable_message("https://statistikdatabasen.scb.se/api/v2")
    'cannot reach statistikdatabasen.scb.se — use --data demo or a dataset folder'
    """
    host = urlsplit(base_url).hostname or base_url
    return f"cannot reach {host} — use --data demo or a dataset folder"


# --- configuration and throttling ---------------------------------------------------------------


@dataclass(frozen=True)
class ApiConfig:
    """The limits and facts the API states at ``/config``.

    Examples
    --------
    >>> ApiConfig.from_json({"maxDataCells": 150000, "maxCallsPerTimeWindow": 3, "timeWindow": 1})
    ApiConfig(max_data_cells=150000, max_calls_per_time_window=3, time_window=1.0, api_version='', license='', default_language='sv', data_formats=())
    """

    max_data_cells: int = 150_000
    max_calls_per_time_window: int = 3
    time_window: float = 1.0
    api_version: str = ""
    license: str = ""
    default_language: str = "sv"
    data_formats: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> ApiConfig:
        """Build from the ``/config`` response; raises :class:`MalformedResponseError` if unusable."""
        try:
            return cls(
                max_data_cells=int(doc["maxDataCells"]),
                max_calls_per_time_window=int(doc["maxCallsPerTimeWindow"]),
                time_window=float(doc["timeWindow"]),
                api_version=str(doc.get("apiVersion", "")),
                license=str(doc.get("license", "")),
                default_language=str(doc.get("defaultLanguage", "sv")),
                data_formats=tuple(doc.get("dataFormats", ()) or ()),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedResponseError(
                f"the API's /config answer lacks a usable {exc} — is this a PxWebApi 2 server?"
            ) from None


class RateLimiter:
    """Sliding-window throttle: at most ``max_calls`` calls in any ``window`` seconds.

    Parameters
    ----------
    max_calls : int
        Calls allowed per window (``maxCallsPerTimeWindow``); 0 or less disables throttling.
    window : float
        Window length in seconds (``timeWindow``).
    clock, sleep : callable
        Monotonic clock and sleep function; inject fakes in tests.

    Examples
    --------
    >>> t = [0.0]
    >>> limiter = RateLimiter(2, 1.0, clock=lambda: t[0], sleep=lambda s: t.__setitem__(0, t[0] + s))
    >>> for _ in range(3):
    ...     limiter.acquire()
    >>> t[0]
    1.0
    """

    def __init__(
        self,
        max_calls: int,
        window: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_calls = max_calls
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()

    def acquire(self) -> None:
        """Block (via ``sleep``) until a call is allowed, then record it."""
        if self.max_calls <= 0:
            return
        while True:
            now = self._clock()
            while self._calls and now - self._calls[0] >= self.window:
                self._calls.popleft()
            if len(self._calls) < self.max_calls:
                self._calls.append(now)
                return
            self._sleep(max(self.window - (now - self._calls[0]), 1e-3))


# --- metadata ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableInfo:
    """One table as listed by ``/tables`` (search results) or ``/tables/{id}``."""

    id: str
    label: str
    first_period: str = ""
    last_period: str = ""
    variable_names: tuple[str, ...] = ()
    updated: str = ""
    discontinued: bool = False
    path: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TableInfo:
        """Build from one element of ``tables`` in a ``/tables`` answer."""
        paths = doc.get("paths") or [[]]
        return cls(
            id=str(doc["id"]),
            label=str(doc.get("label") or ""),
            first_period=str(doc.get("firstPeriod") or ""),
            last_period=str(doc.get("lastPeriod") or ""),
            variable_names=tuple(doc.get("variableNames") or ()),
            updated=str(doc.get("updated") or ""),
            discontinued=bool(doc.get("discontinued") or False),
            path=tuple(str(p.get("id", "")) for p in paths[0]) if paths else (),
        )


@dataclass(frozen=True)
class Variable:
    """One dimension of a table: its code, label and the values it offers (codes as text)."""

    code: str
    label: str
    values: tuple[str, ...]
    value_labels: Mapping[str, str] = field(default_factory=dict)
    elimination: bool = False
    time: bool = False
    contents: bool = False
    codelists: tuple[str, ...] = ()

    def label_of(self, code: str) -> str:
        """The value label of ``code`` (the code itself if it has none)."""
        return self.value_labels.get(code, code)


@dataclass(frozen=True)
class TableMetadata:
    """A table's metadata from ``/tables/{id}/metadata`` (JSON-stat2 with ``extension``)."""

    table_id: str
    label: str
    variables: tuple[Variable, ...]
    updated: str = ""
    notes: tuple[str, ...] = ()
    source: str = ""

    def variable(self, code: str) -> Variable:
        """The variable with this code (case-insensitive)."""
        for v in self.variables:
            if v.code.lower() == code.lower():
                return v
        raise KeyError(
            f"table {self.table_id} has no variable {code!r}; it has "
            + ", ".join(v.code for v in self.variables)
        )

    def find(self, *patterns: str) -> Variable | None:
        """First variable whose code or label matches one of the regexes (case-insensitive)."""
        for pattern in patterns:
            rx = re.compile(pattern, re.IGNORECASE)
            for v in self.variables:
                if rx.search(v.code) or rx.search(v.label):
                    return v
        return None

    @property
    def time_variable(self) -> Variable | None:
        """The time dimension (role ``time``), if any."""
        return next((v for v in self.variables if v.time), None)

    @classmethod
    def from_json(cls, table_id: str, doc: Mapping[str, Any]) -> TableMetadata:
        """Parse a metadata answer; raises :class:`MalformedResponseError` if it is not JSON-stat2."""
        try:
            roles = doc.get("role") or {}
            time_ids = set(roles.get("time") or ())
            metric_ids = set(roles.get("metric") or ())
            variables = []
            for dim_id in doc["id"]:
                dim = doc["dimension"][dim_id]
                codes = _category_codes(dim["category"])
                ext = dim.get("extension") or {}
                variables.append(
                    Variable(
                        code=str(dim_id),
                        label=str(dim.get("label") or dim_id),
                        values=tuple(codes),
                        value_labels={
                            str(k): str(v) for k, v in (dim["category"].get("label") or {}).items()
                        },
                        elimination=bool(ext.get("elimination", False)),
                        time=dim_id in time_ids,
                        contents=dim_id in metric_ids,
                        codelists=tuple(str(c["id"]) for c in ext.get("codelists") or ()),
                    )
                )
        except (KeyError, TypeError, AttributeError) as exc:
            raise MalformedResponseError(
                f"metadata for table {table_id} is not valid JSON-stat2 (missing {exc})"
            ) from None
        notes = doc.get("note") or ()
        if isinstance(notes, str):
            notes = (notes,)
        return cls(
            table_id=table_id,
            label=str(doc.get("label") or ""),
            variables=tuple(variables),
            updated=str(doc.get("updated") or ""),
            notes=tuple(str(n) for n in notes),
            source=str(doc.get("source") or ""),
        )


def _category_codes(category: Mapping[str, Any]) -> list[str]:
    """Category codes in JSON-stat order (``index`` may be a list, a dict or absent)."""
    index = category.get("index")
    if isinstance(index, list):
        return [str(c) for c in index]
    if isinstance(index, dict):
        return [str(c) for c, _ in sorted(index.items(), key=lambda kv: kv[1])]
    labels = category.get("label") or {}
    if isinstance(labels, dict) and labels:
        return [str(c) for c in labels]
    raise KeyError("category.index")


# --- queries, splitting, fingerprints ----------------------------------------------------------


def count_cells(selection: Selection) -> int:
    """Number of data cells a selection of explicit codes returns (product of the sizes).

    Examples
    --------
    >>> count_cells({"Region": ["1480", "1481"], "Tid": ["2023", "2024", "2025"]})
    6
    """
    return math.prod(len(v) for v in selection.values()) if selection else 0


def split_selection(selection: Selection, max_cells: int) -> list[dict[str, list[str]]]:
    """Split a selection into parts of at most ``max_cells`` cells each.

    The largest dimension is cut first, into as few chunks as possible, recursively (the same
    strategy as pxwebpy), so the number of calls stays near ``ceil(cells / max_cells)``.
    A selection that cannot be cut further (every dimension has one value) is returned as is.

    Examples
    --------
    >>> parts = split_selection({"Region": ["1", "2", "3", "4"], "Tid": ["2023", "2024"]}, 4)
    >>> [p["Region"] for p in parts]
    [['1', '2'], ['3', '4']]
    """
    sel = {k: list(v) for k, v in selection.items()}
    total = count_cells(sel)
    if total <= max_cells:
        return [sel]
    splittable = [k for k, v in sel.items() if len(v) > 1]
    if not splittable:
        return [sel]
    largest = max(splittable, key=lambda k: len(sel[k]))
    others = total // len(sel[largest])
    chunk = max(max_cells // others, 1)
    parts: list[dict[str, list[str]]] = []
    values = sel[largest]
    for start in range(0, len(values), chunk):
        part = dict(sel)
        part[largest] = values[start : start + chunk]
        parts.extend(split_selection(part, max_cells))
    return parts


def fingerprint(
    table_id: str,
    selection: Selection,
    *,
    codelists: Mapping[str, str] | None = None,
    output_format: str = "json-stat2",
    language: str = "sv",
) -> str:
    """SHA-256 of table id + query: the cache key of one response.

    Examples
    --------
    >>> a = fingerprint("TAB638", {"Tid": ["2024"], "Region": ["1480"]})
    >>> a == fingerprint("tab638", {"Region": ["1480"], "Tid": ["2024"]})
    True
    >>> len(a)
    64
    """
    doc = {
        "table": table_id.upper(),
        "selection": {k: list(v) for k, v in sorted(selection.items())},
        "codelists": dict(sorted((codelists or {}).items())),
        "format": output_format,
        "lang": language,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


@dataclass(frozen=True)
class Query:
    """One data call: a table and an explicit selection small enough for one response."""

    table_id: str
    selection: Mapping[str, tuple[str, ...]]
    codelists: Mapping[str, str] = field(default_factory=dict)
    output_format: str = "json-stat2"
    language: str = "sv"

    @property
    def cells(self) -> int:
        """Number of cells this call returns."""
        return count_cells(self.selection)

    @property
    def fingerprint(self) -> str:
        """Cache key: see :func:`fingerprint`."""
        return fingerprint(
            self.table_id,
            self.selection,
            codelists=self.codelists,
            output_format=self.output_format,
            language=self.language,
        )

    def body(self) -> dict[str, Any]:
        """The POST body (``VariablesSelection``)."""
        selection = []
        for code, values in self.selection.items():
            item: dict[str, Any] = {"variableCode": code, "valueCodes": list(values)}
            if code in self.codelists:
                item["codelist"] = self.codelists[code]
            selection.append(item)
        return {"selection": selection}

    def params(self) -> dict[str, str]:
        """The same selection as GET query parameters (``valuecodes[VAR]=a,b``)."""
        params = {"lang": self.language, "outputFormat": self.output_format}
        for code, values in self.selection.items():
            params[f"valuecodes[{code}]"] = ",".join(values)
        for code, codelist in self.codelists.items():
            params[f"codelist[{code}]"] = codelist
        return params


# --- on-disk cache -----------------------------------------------------------------------------


class ResponseCache:
    """Raw responses on disk, one file per fingerprint; writes are atomic.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     cache = ResponseCache(d)
    ...     cache.put("TAB1", "ab12", b"{}")
    ...     cache.get("TAB1", "ab12")
    b'{}'
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def path(self, table_id: str, key: str) -> Path:
        """File holding the response for ``key``."""
        safe = re.sub(r"[^A-Za-z0-9_-]", "_", table_id)
        return self.directory / safe / f"{key}.json"

    def get(self, table_id: str, key: str) -> bytes | None:
        """The cached bytes, or ``None``."""
        path = self.path(table_id, key)
        return path.read_bytes() if path.exists() else None

    def put(self, table_id: str, key: str, content: bytes) -> None:
        """Store ``content`` atomically (temp file + rename), so a crash never leaves half a file."""
        path = self.path(table_id, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".part-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# --- JSON-stat2 --------------------------------------------------------------------------------


def jsonstat2_to_frame(doc: Mapping[str, Any], *, labels: bool = False) -> pd.DataFrame:
    """Turn a JSON-stat2 dataset into a long frame: one column per dimension plus ``value``.

    Dimension columns hold the category *codes* as text (``"0114"`` stays ``"0114"``);
    ``value`` is float with NaN for missing cells. With ``labels=True`` a ``<dim>_label`` column
    follows each dimension. When the dataset has ``status`` flags a ``status`` column is added.

    Raises
    ------
    MalformedResponseError
        When required keys are missing or the number of values does not match the dimensions.

    Examples
    --------
    >>> doc = {"version": "2.0", "class": "dataset", "id": ["Region", "Tid"], "size": [2, 1],
    ...        "dimension": {"Region": {"category": {"index": {"0114": 0, "1480": 1}}},
    ...                      "Tid": {"category": {"index": {"2024": 0}}}},
    ...        "value": [10, None]}
    >>> jsonstat2_to_frame(doc)
      Region   Tid  value
    0   0114  2024   10.0
    1   1480  2024    NaN
    """
    try:
        ids = [str(i) for i in doc["id"]]
        sizes = [int(s) for s in doc["size"]]
        dims = doc["dimension"]
        codes = [_category_codes(dims[i]["category"]) for i in ids]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedResponseError(f"not a JSON-stat2 dataset (missing or bad {exc})") from None
    if len(ids) != len(sizes) or any(len(c) != s for c, s in zip(codes, sizes, strict=True)):
        raise MalformedResponseError(
            "JSON-stat2 dataset is inconsistent: dimension sizes "
            f"{sizes} do not match their category counts {[len(c) for c in codes]}"
        )
    n = math.prod(sizes)
    values = _dense(doc.get("value"), n, "value", numeric=True)
    frame: dict[str, Any] = {}
    repeat_after = n
    for dim_id, dim_codes, size in zip(ids, codes, sizes, strict=True):
        # row-major order: the last dimension varies fastest
        repeat_after //= size
        idx = np.tile(np.repeat(np.arange(size), repeat_after), n // (size * repeat_after))
        arr = np.asarray(dim_codes, dtype=object)[idx]
        frame[dim_id] = arr
        if labels:
            lab = dims[dim_id]["category"].get("label") or {}
            frame[f"{dim_id}_label"] = np.asarray([lab.get(c, c) for c in dim_codes], dtype=object)[
                idx
            ]
    frame["value"] = values
    if doc.get("status") is not None:
        frame["status"] = _dense(doc["status"], n, "status", numeric=False)
    return pd.DataFrame(frame)


def _dense(raw: Any, n: int, what: str, *, numeric: bool) -> np.ndarray:
    """JSON-stat allows arrays, sparse {index: value} objects, or (for status) one string."""
    if raw is None:
        raise MalformedResponseError(f"JSON-stat2 dataset has no {what!r}")
    if isinstance(raw, str) and not numeric:
        return np.full(n, raw, dtype=object)
    if isinstance(raw, list):
        if len(raw) != n:
            raise MalformedResponseError(
                f"JSON-stat2 dataset has {len(raw)} {what}s but its dimensions give {n} cells"
            )
        items: Iterable[tuple[int, Any]] = enumerate(raw)
    elif isinstance(raw, dict):
        try:
            items = [(int(k), v) for k, v in raw.items()]
        except ValueError:
            raise MalformedResponseError(f"JSON-stat2 {what} has a non-integer index") from None
        if any(not 0 <= i < n for i, _ in items):
            raise MalformedResponseError(f"JSON-stat2 {what} index out of range 0..{n - 1}")
    else:
        raise MalformedResponseError(f"JSON-stat2 {what} must be an array or object")
    if numeric:
        out = np.full(n, np.nan)
        for i, v in items:
            if v is None:
                continue
            try:
                out[i] = float(v)
            except (TypeError, ValueError):
                raise MalformedResponseError(f"JSON-stat2 value {v!r} is not a number") from None
        return out
    out_obj = np.full(n, None, dtype=object)
    for i, v in items:
        out_obj[i] = v
    return out_obj


# --- the client --------------------------------------------------------------------------------


class PxWebClient:
    """Client for a PxWebApi 2 server (SCB's by default).

    Parameters
    ----------
    base_url : str
        API root, e.g. ``https://statistikdatabasen.scb.se/api/v2``.
    language : str
        ``"sv"`` (default; SCB's value texts are Swedish) or ``"en"``.
    transport : httpx.BaseTransport, optional
        For tests: ``httpx.MockTransport(handler)``.
    timeout : float
        Seconds per request.
    max_retries : int
        Retries after a 429, a 5xx or a broken connection (not after 4xx or an unreachable host).
    backoff : float
        First wait in seconds when no ``Retry-After`` is given; doubles each retry (capped at
        ``max_backoff``).
    max_url_length : int
        Selections whose GET URL would be longer are sent as POST.
    sleep, clock : callable
        Injectable ``time.sleep`` / ``time.monotonic``.
    config : ApiConfig, optional
        Skip reading ``/config`` (tests, or servers without it).

    Examples
    --------
    >>> import httpx
    >>> def handler(request):
    ...     return httpx.Response(200, json={"maxDataCells": 10, "maxCallsPerTimeWindow": 3,
    ...                                      "timeWindow": 1})
    >>> client = PxWebClient(transport=httpx.MockTransport(handler))
    >>> client.config.max_data_cells
    10
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        language: str = "sv",
        transport: httpx.BaseTransport | None = None,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff: float = 2.0,
        max_backoff: float = 120.0,
        max_url_length: int = 2000,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        config: ApiConfig | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.language = language
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_url_length = max_url_length
        self._sleep = sleep
        self._clock = clock
        self._http = httpx.Client(
            transport=transport,
            timeout=timeout,
            headers={"User-Agent": _USER_AGENT, "Accept": "application/json"},
            follow_redirects=True,
        )
        self._config = config
        self._limiter: RateLimiter | None = None
        self._metadata: dict[str, TableMetadata] = {}
        self._codelists: dict[str, dict[str, Any]] = {}
        #: number of HTTP requests actually sent (cache hits excluded); handy in tests and logs
        self.requests_sent = 0

    # context manager -------------------------------------------------------------------------
    def __enter__(self) -> PxWebClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    # low level -------------------------------------------------------------------------------
    @property
    def host(self) -> str:
        """Host name of the API, for messages."""
        return urlsplit(self.base_url).hostname or self.base_url

    @property
    def config(self) -> ApiConfig:
        """The API's limits, read from ``/config`` on first use."""
        if self._config is None:
            response = self._request("GET", "/config", throttle=False)
            self._config = ApiConfig.from_json(_json(response, "/config"))
        return self._config

    @property
    def limiter(self) -> RateLimiter:
        """The throttle, set from :attr:`config`."""
        if self._limiter is None:
            cfg = self.config
            self._limiter = RateLimiter(
                cfg.max_calls_per_time_window, cfg.time_window, clock=self._clock, sleep=self._sleep
            )
        return self._limiter

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        throttle: bool = True,
        what: str = "",
    ) -> httpx.Response:
        url = self.base_url + path
        attempt = 0
        while True:
            if throttle:
                self.limiter.acquire()
            try:
                self.requests_sent += 1
                response = self._http.request(method, url, params=params, json=json_body)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
                raise PxWebUnreachableError(unreachable_message(self.base_url), url=url) from exc
            except httpx.TransportError as exc:  # read timeout, connection reset mid-answer
                if attempt >= self.max_retries:
                    raise PxWebError(
                        f"the connection to {self.host} broke off {attempt + 1} times "
                        f"({type(exc).__name__}); try again later — parts already downloaded are kept",
                        url=url,
                    ) from exc
                self._sleep(self._backoff(attempt))
                attempt += 1
                continue
            if response.is_success:
                return response
            if response.status_code in _RETRY_STATUSES and attempt < self.max_retries:
                self._sleep(self._retry_after(response) or self._backoff(attempt))
                attempt += 1
                continue
            raise self._problem(response, what or path, retries=attempt)

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff * 2**attempt, self.max_backoff))

    def _retry_after(self, response: httpx.Response) -> float | None:
        value = response.headers.get("Retry-After")
        if not value:
            return None
        try:
            return min(max(float(value), 0.0), self.max_backoff)
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return min(max((when - datetime.now(UTC)).total_seconds(), 0.0), self.max_backoff)

    def _problem(self, response: httpx.Response, what: str, *, retries: int) -> PxWebError:
        """A ProblemDetails (or any error) response in plain words."""
        title = detail = ""
        try:
            body = response.json()
            if isinstance(body, dict):
                title = str(body.get("title") or "")
                detail = str(body.get("detail") or "")
                errors = body.get("errors")
                if not detail and isinstance(errors, dict):  # ASP.NET validation problem
                    detail = "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items())
        except (json.JSONDecodeError, UnicodeDecodeError):
            detail = response.text.strip()[:200]
        status = response.status_code
        reason = title or response.reason_phrase or "error"
        said = f"{self.host} answered {status} {reason}"
        if detail:
            said += f": {detail}"
        hints = {
            400: "the query does not fit the table — check variable and value codes against "
            f"`metadata` for {what}",
            403: "the query asks for more cells than the API allows; select fewer values",
            404: f"{what} does not exist (any more) — SCB renames tables; find the current id with "
            "a table search",
            429: f"still too many requests after {retries} retries; wait a minute and run again "
            "(parts already downloaded are kept)",
        }
        hint = hints.get(status)
        if status in (400, 403) and _TOO_MANY_CELLS.search(f"{title} {detail}"):
            # SCB answers "too many cells" with 400 (not 403 as older PxWeb servers did)
            hint = hints[403] + (
                f" (the client splits at maxDataCells="
                f"{self._config.max_data_cells if self._config else '?'} from /config; "
                "the server counted more — report this with the `--plan` output)"
            )
        if hint is None and status >= 500:
            hint = f"the server failed after {retries} retries; try again later (parts already downloaded are kept)"
        message = f"{said} — {hint}" if hint else said
        return PxWebError(message, status=status, title=title, detail=detail, url=str(response.url))

    # endpoints -------------------------------------------------------------------------------
    def search_tables(
        self,
        query: str,
        *,
        past_days: int | None = None,
        include_discontinued: bool = False,
        page_size: int = 100,
        max_pages: int = 5,
    ) -> list[TableInfo]:
        """Search tables (``/tables?query=``), following pages up to ``max_pages``.

        Examples
        --------
        >>> client.search_tables("folkmängd region ålder kön")  # doctest: +SKIP
        [TableInfo(id='TAB638', label='Folkmängden efter region, civilstånd, ålder och kön. År 1968-2024', ...)]
        """
        out: list[TableInfo] = []
        for page in range(1, max_pages + 1):
            params = {
                "lang": self.language,
                "query": query,
                "pageSize": str(page_size),
                "pageNumber": str(page),
            }
            if past_days:
                params["pastDays"] = str(past_days)
            if include_discontinued:
                params["includeDiscontinued"] = "true"
            doc = _json(
                self._request("GET", "/tables", params=params, what="table search"), "/tables"
            )
            try:
                out.extend(TableInfo.from_json(t) for t in doc["tables"])
                total_pages = int((doc.get("page") or {}).get("totalPages", 1))
            except (KeyError, TypeError, ValueError) as exc:
                raise MalformedResponseError(f"table search answer lacks {exc}") from None
            if page >= total_pages:
                break
        return out

    def table(self, table_id: str) -> TableInfo:
        """Facts about one table (``/tables/{id}``)."""
        doc = _json(
            self._request(
                "GET",
                f"/tables/{table_id}",
                params={"lang": self.language},
                what=f"table {table_id}",
            ),
            f"/tables/{table_id}",
        )
        try:
            return TableInfo.from_json(doc)
        except KeyError as exc:
            raise MalformedResponseError(f"table answer for {table_id} lacks {exc}") from None

    def metadata(self, table_id: str) -> TableMetadata:
        """A table's variables and values (``/tables/{id}/metadata``), cached per client."""
        key = table_id.upper()
        if key not in self._metadata:
            path = f"/tables/{table_id}/metadata"
            doc = _json(
                self._request(
                    "GET", path, params={"lang": self.language}, what=f"table {table_id}"
                ),
                path,
            )
            self._metadata[key] = TableMetadata.from_json(table_id, doc)
        return self._metadata[key]

    def codelist(self, codelist_id: str) -> dict[str, Any]:
        """A codelist (value set or aggregation), e.g. ``vs_RegionKommun07`` (``/codelists/{id}``)."""
        if codelist_id not in self._codelists:
            path = f"/codelists/{codelist_id}"
            self._codelists[codelist_id] = _json(
                self._request(
                    "GET", path, params={"lang": self.language}, what=f"codelist {codelist_id}"
                ),
                path,
            )
        return self._codelists[codelist_id]

    # data ------------------------------------------------------------------------------------
    def expand_selection(
        self,
        table_id: str,
        selection: Selection,
        *,
        codelists: Mapping[str, str] | None = None,
    ) -> dict[str, list[str]]:
        """Replace wildcard expressions by explicit codes so cells can be counted and split.

        Supported: ``*``, ``prefix*``, ``*suffix``, ``*infix*``, ``from(code)``, ``to(code)``,
        ``range(a,b)`` (in the table's value order). ``top(n)``/``bottom(n)`` are not expanded
        (their order semantics are not specified in the OpenAPI spec): list the codes. Eliminable variables left out of the
        selection count as one cell; a mandatory variable left out is an error (the API would use
        an unpredictable default selection).
        """
        meta = self.metadata(table_id)
        codelists = dict(codelists or {})
        out: dict[str, list[str]] = {}
        for code, wanted in selection.items():
            var = meta.variable(code)
            if code in codelists:
                cl = self.codelist(codelists[code])
                available = [str(v["code"]) for v in cl.get("values", ())]
            else:
                available = list(var.values)
            out[var.code] = _expand(list(wanted), available, var.code, table_id)
        missing = [v.code for v in meta.variables if v.code not in out and not v.elimination]
        if missing:
            raise KompetensprognosError(
                f"selection for table {table_id} leaves out {', '.join(missing)}, which cannot be "
                "eliminated — select values for them (e.g. ['*'])"
            )
        return out

    def plan(
        self,
        table_id: str,
        selection: Selection,
        *,
        codelists: Mapping[str, str] | None = None,
        output_format: str = "json-stat2",
    ) -> list[Query]:
        """Split a selection into calls that each stay under the API's cell limit."""
        explicit = self.expand_selection(table_id, selection, codelists=codelists)
        return [
            Query(
                table_id=table_id,
                selection={k: tuple(v) for k, v in part.items()},
                codelists=dict(codelists or {}),
                output_format=output_format,
                language=self.language,
            )
            for part in split_selection(explicit, self.config.max_data_cells)
        ]

    def fetch_raw(
        self, query: Query, *, cache: ResponseCache | None = None, refresh: bool = False
    ) -> bytes:
        """Bytes of one call's answer, from the cache when present (unless ``refresh``)."""
        key = query.fingerprint
        if cache is not None and not refresh:
            hit = cache.get(query.table_id, key)
            if hit is not None:
                return hit
        path = f"/tables/{query.table_id}/data"
        params = query.params()
        url_length = len(str(httpx.URL(self.base_url + path, params=params)))
        if url_length > self.max_url_length:
            response = self._request(
                "POST",
                path,
                params={"lang": query.language, "outputFormat": query.output_format},
                json_body=query.body(),
                what=f"table {query.table_id}",
            )
        else:
            response = self._request("GET", path, params=params, what=f"table {query.table_id}")
        content = response.content
        if query.output_format == "json-stat2":
            # parse before caching so a malformed body is never stored as if it were good
            jsonstat2_to_frame(_json(response, path))
        if cache is not None:
            cache.put(query.table_id, key, content)
        return content

    def fetch_frame(
        self,
        query: Query,
        *,
        cache: ResponseCache | None = None,
        refresh: bool = False,
        labels: bool = False,
    ) -> pd.DataFrame:
        """One call's answer as a long frame (JSON-stat2 only)."""
        content = self.fetch_raw(query, cache=cache, refresh=refresh)
        try:
            doc = json.loads(content)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise MalformedResponseError(
                f"answer for table {query.table_id} is not JSON (cached copy damaged? re-run with --refresh)"
            ) from None
        return jsonstat2_to_frame(doc, labels=labels)

    def data(
        self,
        table_id: str,
        selection: Selection,
        *,
        codelists: Mapping[str, str] | None = None,
        labels: bool = False,
        cache: ResponseCache | None = None,
        refresh: bool = False,
    ) -> pd.DataFrame:
        """Fetch a selection as one long frame, split into as many calls as the limits require.

        Parameters
        ----------
        table_id : str
            E.g. ``"TAB638"``.
        selection : mapping of variable code to value codes or expressions
            E.g. ``{"Region": ["14*"], "Tid": ["2023", "2024"]}``.
        codelists : mapping, optional
            Codelist per variable, e.g. ``{"Alder": "agg_Ålder10årJ"}``.
        labels : bool
            Add ``<dim>_label`` columns.
        cache : ResponseCache, optional
            Reuse and store raw answers.
        refresh : bool
            Ignore cached answers (and overwrite them).

        Returns
        -------
        pandas.DataFrame
            One column per dimension (codes as text) and ``value`` (float).

        Examples
        --------
        >>> client.data("TAB638", {"Region": ["1480"], "Civilstand": ["*"], "Alder": ["30"],
        ...                        "Kon": ["1"], "ContentsCode": ["BE0101N1"], "Tid": ["2024"]})  # doctest: +SKIP
        """
        frames = [
            self.fetch_frame(q, cache=cache, refresh=refresh, labels=labels)
            for q in self.plan(table_id, selection, codelists=codelists)
        ]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        start = response.text[:80].strip().replace("\n", " ")
        raise MalformedResponseError(
            f"answer from {what} is not JSON (starts with {start!r}); the API may be down for "
            "maintenance — try again later",
            status=response.status_code,
            url=str(response.url),
        ) from None


_TOO_MANY_CELLS = re.compile(r"cell|too many|too large|exceed|för många", re.IGNORECASE)

_FUNC = re.compile(r"^(from|to|range)\((.*)\)$", re.IGNORECASE)


def _expand(wanted: list[str], available: list[str], var: str, table_id: str) -> list[str]:
    out: list[str] = []
    for expr in wanted:
        m = _FUNC.match(expr.strip())
        if expr == "*":
            picked = available
        elif m:
            fn, arg = m.group(1).lower(), m.group(2)
            picked = _expand_function(fn, arg, available, var, table_id)
        elif expr.startswith("*") and expr.endswith("*") and len(expr) > 2:
            picked = [c for c in available if expr[1:-1] in c]
        elif expr.endswith("*"):
            picked = [c for c in available if c.startswith(expr[:-1])]
        elif expr.startswith("*"):
            picked = [c for c in available if c.endswith(expr[1:])]
        else:
            if expr not in available:
                raise KompetensprognosError(
                    f"table {table_id} has no value {expr!r} for variable {var}; "
                    f"it offers e.g. {', '.join(available[:8])}"
                )
            picked = [expr]
        out.extend(picked)
    return list(dict.fromkeys(out))  # keep order, drop repeats


def _expand_function(fn: str, arg: str, available: list[str], var: str, table_id: str) -> list[str]:
    args = [a.strip().strip("'\"") for a in arg.split(",")]

    def pos(code: str) -> int:
        if code not in available:
            raise KompetensprognosError(f"table {table_id} has no value {code!r} for {var}")
        return available.index(code)

    if fn == "from":
        return available[pos(args[0]) :]
    if fn == "to":
        return available[: pos(args[0]) + 1]
    return available[pos(args[0]) : pos(args[1]) + 1]
