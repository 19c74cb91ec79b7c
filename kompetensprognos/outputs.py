"""The output contract of a region: which tables a run writes, in report order.

Shared by the orchestrator (:mod:`kompetensprognos.pipeline`), which produces them, and the
notebook API (:mod:`kompetensprognos.report`), which writes and reads them; the column contracts
of each table are documented in ``docs/demand.md``, ``docs/supply.md`` and ``docs/balance.md``.

Examples
--------
>>> TABLE_NAMES[:2]
('employment_forecast', 'recruitment_need')
"""

from __future__ import annotations

__all__ = ["CODE_COLUMNS", "CONTEXT_FILE", "TABLE_NAMES"]

#: Tables written per region, in report order.
TABLE_NAMES: tuple[str, ...] = (
    "employment_forecast",
    "recruitment_need",
    "backtest",
    "education_output",
    "supply",
    "balance",
    "balance_education",
    "labour_supply",
    "supply_flows",
    "balance_backtest",
    "notes",
)

#: Columns that hold codes and are read back as text (leading zeros kept).
CODE_COLUMNS: dict[str, type] = {
    "region": str,
    "ssyk": str,
    "education": str,
    "type": str,
    "section": str,
    "channel": str,
    "group": str,
}

#: The file beside a region's tables that says how they were made (parameters, data, version).
CONTEXT_FILE = "context.json"
