"""A small reader for PC-Axis (``.px``) files as downloaded from SCB's Statistikdatabasen.

The PX format is text: ``KEYWORD="value";`` statements, some with a variable in brackets
(``VALUES("region")="1480 Göteborg","1481 Mölndal";``), then ``DATA=`` with the cells in row-major
order over the ``STUB`` variables followed by the ``HEADING`` variables. ``CODEPAGE`` names the
encoding (SCB uses ``iso-8859-1`` or ``utf-8``). Missing cells are written as ``".."``, ``"..."``,
``"."`` or ``"-"`` (SCB: ``-`` means zero).

``pyaxis`` (PyPI) reads PX too but pulls in ``requests`` and ``pyjstat`` and drops ``CODES``; this
reader is ~200 lines, keeps codes as text and reports problems with line numbers.

Examples
--------
>>> text = '''CHARSET="ANSI";
... STUB="region";
... HEADING="år";
... VALUES("region")="0114 Upplands Väsby","1480 Göteborg";
... CODES("region")="0114","1480";
... VALUES("år")="2023","2024";
... DATA=
... 10 11
... ".." 21;'''
>>> px = parse_px(text)
>>> px.to_frame()[["region", "år", "value", "marker"]]
  region    år  value marker
0   0114  2023   10.0   None
1   0114  2024   11.0   None
2   1480  2023    NaN     ..
3   1480  2024   21.0   None
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from kompetensprognos.errors import KompetensprognosError

__all__ = ["MISSING_MARKERS", "PxFile", "parse_px", "read_px"]

#: Cell markers SCB uses for missing values ("-" is a true zero and is read as 0).
MISSING_MARKERS = frozenset({"..", "...", ".", '""', "", ":"})

_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)(?:\[([A-Za-z-]+)\])?(?:\((.*)\))?\s*$", re.DOTALL)


@dataclass
class PxFile:
    """A parsed PX file.

    Attributes
    ----------
    keywords : dict[str, list[str] | str]
        Every keyword without a variable (``TITLE``, ``UNITS``, ``CONTENTS`` ...), default language.
    stub, heading : list[str]
        Variables in row and column order.
    values, codes : dict[str, list[str]]
        Value texts and codes per variable (``codes`` only where the file has ``CODES``).
    data : numpy.ndarray
        The cells in row-major order (NaN where missing).
    markers : numpy.ndarray
        The raw marker for missing cells (``".."`` etc.), ``None`` elsewhere.
    """

    keywords: dict[str, list[str] | str] = field(default_factory=dict)
    stub: list[str] = field(default_factory=list)
    heading: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, list[str]] = field(default_factory=dict)
    data: np.ndarray = field(default_factory=lambda: np.array([]))
    markers: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))

    @property
    def variables(self) -> list[str]:
        """Stub then heading variables: the order of the data cells."""
        return [*self.stub, *self.heading]

    def to_frame(self) -> pd.DataFrame:
        """Long frame: per variable its code column (value text where no codes) and
        ``<var>_label``, then ``value`` (float, NaN for missing) and ``marker`` when any cell is
        missing."""
        sizes = [len(self.values[v]) for v in self.variables]
        n = math.prod(sizes)
        frame: dict[str, np.ndarray] = {}
        repeat = n
        for var, size in zip(self.variables, sizes, strict=True):
            repeat //= size
            idx = np.tile(np.repeat(np.arange(size), repeat), n // (size * repeat))
            codes = self.codes.get(var, self.values[var])
            frame[var] = np.asarray(codes, dtype=object)[idx]
            frame[f"{var}_label"] = np.asarray(self.values[var], dtype=object)[idx]
        frame["value"] = self.data
        out = pd.DataFrame(frame)
        if any(m is not None for m in self.markers):
            out["marker"] = self.markers
        return out


def _split_statements(head: str) -> list[tuple[str, int]]:
    """Split on ``;`` outside quotes; return (statement, line number)."""
    out: list[tuple[str, int]] = []
    buf: list[str] = []
    in_quote = False
    line = 1
    start = 1
    for ch in head:
        if ch == '"':
            in_quote = not in_quote
        if ch == "\n":
            line += 1
        if ch == ";" and not in_quote:
            text = "".join(buf).strip()
            if text:
                out.append((text, start))
            buf = []
            start = line
            continue
        if not buf and ch.isspace():
            start = line + (ch == "\n") * 0
        buf.append(ch)
    if "".join(buf).strip():
        out.append(("".join(buf).strip(), start))
    return out


def _parse_value(raw: str) -> list[str] | str:
    """``"a","b"`` → list; ``"abc"\\n"def"`` → one string (PX continues long strings that way)."""
    raw = raw.strip()
    if not raw.startswith('"'):
        return raw  # numbers, YES/NO, TLIST(...)
    items: list[str] = []
    current = ""
    pos = 0
    while pos < len(raw):
        if raw[pos] == '"':
            end = raw.index('"', pos + 1)
            current += raw[pos + 1 : end]
            pos = end + 1
        elif raw[pos] == ",":
            items.append(current)
            current = ""
            pos += 1
        else:
            pos += 1  # whitespace / newlines between continued strings
    items.append(current)
    return items if len(items) > 1 else items[0]


def _as_list(value: list[str] | str) -> list[str]:
    return value if isinstance(value, list) else [value]


def parse_px(text: str, *, name: str = "<px>") -> PxFile:
    """Parse the text of a PX file.

    Raises
    ------
    KompetensprognosError
        When the file has no ``DATA``, no ``VALUES`` for a variable, or the wrong number of cells —
        naming the file and what is wrong.
    """
    m = re.search(r"(^|;)\s*DATA\s*=", text)
    if not m:
        raise KompetensprognosError(f"{name}: no DATA= section — is this a PX file?")
    head, data_text = text[: m.end()], text[m.end() :]
    head = head[: head.rstrip().rfind("DATA")]
    px = PxFile()
    for statement, line in _split_statements(head):
        if "=" not in statement:
            raise KompetensprognosError(
                f"{name}, line {line}: cannot read {statement[:40]!r} (no '=')"
            )
        key_part, value_part = statement.split("=", 1)
        km = _KEY.match(key_part)
        if not km:
            raise KompetensprognosError(
                f"{name}, line {line}: bad keyword {key_part.strip()[:40]!r}"
            )
        key, lang, arg = km.group(1).upper(), km.group(2), km.group(3)
        if lang:
            continue  # other languages
        value = _parse_value(value_part)
        if arg is None:
            px.keywords[key] = value
            continue
        var = _parse_value(arg)
        var = var[0] if isinstance(var, list) else var
        if key == "VALUES":
            px.values[var] = _as_list(value)
        elif key == "CODES":
            px.codes[var] = _as_list(value)
    px.stub = _as_list(px.keywords.get("STUB", [])) if "STUB" in px.keywords else []
    px.heading = _as_list(px.keywords.get("HEADING", [])) if "HEADING" in px.keywords else []
    for var in px.variables:
        if var not in px.values:
            raise KompetensprognosError(f"{name}: variable {var!r} has no VALUES")
        if var in px.codes and len(px.codes[var]) != len(px.values[var]):
            raise KompetensprognosError(
                f"{name}: variable {var!r} has {len(px.codes[var])} CODES but {len(px.values[var])} VALUES"
            )
    tokens = re.findall(r'"[^"]*"|[^\s,;"]+', data_text.split(";")[0])
    n = math.prod(len(px.values[v]) for v in px.variables)
    if len(tokens) != n:
        raise KompetensprognosError(
            f"{name}: DATA has {len(tokens)} cells but the variables give {n} — the file is cut off or damaged"
        )
    values = np.full(n, np.nan)
    markers = np.full(n, None, dtype=object)
    for i, token in enumerate(tokens):
        bare = token.strip('"')
        if bare == "-":
            values[i] = 0.0
        elif bare in MISSING_MARKERS:
            markers[i] = bare or '""'
        else:
            try:
                values[i] = float(bare)
            except ValueError:
                raise KompetensprognosError(
                    f"{name}: DATA cell {i + 1} is {token!r}, not a number"
                ) from None
    px.data, px.markers = values, markers
    return px


def read_px(path: str | os.PathLike[str]) -> PxFile:
    """Read a PX file, decoding it with the ``CODEPAGE`` it names (default ``iso-8859-1``).

    Examples
    --------
    >>> px = read_px("TAB638.px")  # doctest: +SKIP
    >>> px.to_frame().head()  # doctest: +SKIP
    """
    raw = Path(path).read_bytes()
    probe = raw[:4000].decode("latin-1")
    m = re.search(r'CODEPAGE\s*=\s*"([^"]+)"', probe)
    encoding = m.group(1).strip().lower() if m else "iso-8859-1"
    if raw.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except (LookupError, UnicodeDecodeError):
        text = raw.decode("latin-1")
    return parse_px(text, name=str(path))
