"""Real data: connectors to SCB (PxWebApi 2) and Arbetsförmedlingen, and importers for files
downloaded by hand (SCB CSV/Excel/PX, Skolverket exports).

Each source maps onto the contract tables of :mod:`kompetensprognos.schemas`; see
``docs/data-sources.md``. Submodules are imported lazily by the CLI so that ``import
kompetensprognos`` never touches the network or heavy optional code.
"""

from __future__ import annotations

from kompetensprognos.sources.pxweb import (
    DEFAULT_BASE_URL,
    MalformedResponseError,
    PxWebClient,
    PxWebError,
    PxWebUnreachableError,
    ResponseCache,
    jsonstat2_to_frame,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "MalformedResponseError",
    "PxWebClient",
    "PxWebError",
    "PxWebUnreachableError",
    "ResponseCache",
    "jsonstat2_to_frame",
]
