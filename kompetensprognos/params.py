"""Report parameters: one validated model, loaded from ``params/<region>.yaml``.

:class:`Params` is the only place configuration is read. It is frozen and rejects unknown keys,
so a misspelt setting is an error, not a silent default. Codes must be quoted text in YAML: an
unquoted ``0114`` is read by YAML as a number (and ``0114`` even as the octal number 76), so
:func:`load_params` reports such values with the line to fix.

Examples
--------
>>> p = Params(region="skaraborg")
>>> p.period_start, p.period_end, p.data
(2023, 2030, 'demo')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kompetensprognos import regions
from kompetensprognos.config import BalanceParams, DemandConfig, SupplyParams
from kompetensprognos.errors import KompetensprognosError

__all__ = ["DEFAULT_PARAMS_DIR", "Params", "ParamsError", "load_params", "load_region_params"]

DEFAULT_PARAMS_DIR = Path("params")


class ParamsError(KompetensprognosError):
    """Invalid parameters; the message lists every problem with its file and key."""


class Params(BaseModel):
    """Parameters of one regional outlook report.

    Parameters
    ----------
    region : str
        Region id: ``fyrbodal``, ``goteborgsregionen``, ``sjuharad``, ``skaraborg``,
        ``vastra-gotaland`` (or ``delregionerna``).
    title : str, optional
        Report title; default "Kompetensprognos för <region name>".
    period_start, period_end : int
        Outlook period for recruitment need and balance (default 2023–2030).
    data : str
        ``"demo"`` (synthetic) or a dataset folder.
    demand : DemandConfig
        Demand model settings, including scenario adjustments.
    supply : SupplyParams
        Entry and retention shares.
    balance : BalanceParams
        Balance thresholds.
    n_sims : int
        Simulation draws for intervals and the probability of shortage.
    seed : int
        Random seed.
    backtest : bool
        Include the rolling-origin backtest.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    title: str | None = None
    period_start: int = Field(default=2023, ge=2015, le=2050)
    period_end: int = Field(default=2030, ge=2015, le=2060)
    data: str = "demo"
    demand: DemandConfig = Field(default_factory=DemandConfig)
    supply: SupplyParams = Field(default_factory=SupplyParams)
    balance: BalanceParams = Field(default_factory=BalanceParams)
    n_sims: int = Field(default=1000, ge=50, le=100_000)
    seed: int = 0
    backtest: bool = True

    @field_validator("region")
    @classmethod
    def _known_region(cls, v: str) -> str:
        if v not in regions.ALL_REGION_IDS:
            raise ValueError(
                f"unknown region {v!r}; use one of {', '.join(regions.ALL_REGION_IDS)}"
            )
        return v

    @model_validator(mode="after")
    def _period(self) -> Params:
        if self.period_start > self.period_end:
            raise ValueError(
                f"period_start {self.period_start} is after period_end {self.period_end}"
            )
        if self.demand.end_year < self.period_end:
            raise ValueError(
                f"demand.end_year {self.demand.end_year} is before period_end {self.period_end}"
            )
        return self

    @property
    def display_title(self) -> str:
        """The report title."""
        return self.title or f"Kompetensprognos för {regions.region_name(self.region)}"


def _describe(errors: Iterable[dict[str, Any]], source: str, raw: Any) -> list[str]:
    lines = []
    for e in errors:
        loc = ".".join(str(p) for p in e["loc"])
        value = e.get("input")
        hint = ""
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and e["type"] == "string_type"
        ):
            hint = " — codes must be quoted text in YAML, e.g. '0114' or '821' (unquoted, YAML reads a number)"
        if e["type"] == "extra_forbidden":
            hint = " — unknown key; check the spelling against docs/reports.md"
        lines.append(f"{source}: `{loc}`: {e['msg']} (got {value!r}){hint}")
    return lines


def _read_utf8(path: Path) -> str:
    """The text of a parameter file, which must be UTF-8 (a byte-order mark is allowed).

    Any other encoding is an error naming the line, not a guess: Latin-1 and UTF-8 differ only in
    å, ä, ö and the like, so a guessed encoding could silently garble a title.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParamsError(f"{path}: cannot read the parameter file: {exc.strerror}") from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise ParamsError(
            f"{path}: the file is saved as UTF-16 — save it as UTF-8 "
            "(an editor: Save with encoding → UTF-8)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        bad = data[exc.start : exc.start + 1]
        raise ParamsError(
            f"{path}, line {line}: the file is not UTF-8 (byte 0x{bad.hex()}, "
            f"{bad.decode('cp1252', errors='replace')!r} in Windows-1252/Latin-1) — save it as "
            "UTF-8 (an editor: Save with encoding → UTF-8); parameter files are always read as UTF-8"
        ) from None


def load_params(path: str | os.PathLike[str], **overrides: Any) -> Params:
    """Read and validate a parameter YAML file; ``overrides`` win over the file's values.

    Raises
    ------
    ParamsError
        Naming the file, the key and the fix for every problem.
    """
    path = Path(path)
    if not path.exists():
        raise ParamsError(f"parameter file {path} does not exist")
    try:
        raw = yaml.safe_load(_read_utf8(path)) or {}
    except yaml.YAMLError as exc:
        raise ParamsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ParamsError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return Params.model_validate(raw)
    except ValidationError as exc:
        raise ParamsError("\n".join(_describe(exc.errors(), str(path), raw))) from None


def load_region_params(
    region_ids: Sequence[str],
    params_dir: str | os.PathLike[str] = DEFAULT_PARAMS_DIR,
    **overrides: Any,
) -> dict[str, Params]:
    """Validate the parameter files of several regions at once, reporting every problem.

    A region without ``<params_dir>/<region>.yaml`` gets the defaults.
    """
    out: dict[str, Params] = {}
    problems: list[str] = []
    for r in region_ids:
        path = Path(params_dir) / f"{r}.yaml"
        try:
            if path.exists():
                p = load_params(path, **overrides)
                if p.region != r:
                    raise ParamsError(f"{path}: `region` is {p.region!r} but the file is for {r!r}")
                out[r] = p
            else:
                try:
                    out[r] = Params.model_validate(
                        {"region": r, **{k: v for k, v in overrides.items() if v is not None}}
                    )
                except ValidationError as exc:
                    raise ParamsError(
                        "\n".join(_describe(exc.errors(), f"region {r}", {}))
                    ) from None
        except ParamsError as exc:
            problems.append(str(exc))
    if problems:
        raise ParamsError("invalid parameters:\n" + "\n".join(problems))
    return out
