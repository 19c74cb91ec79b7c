"""kompetensprognos: regional competence-supply analysis for Västra Götaland.

Forecasts employment per occupation (SSYK 2012) and region, splits recruitment need into
expansion and replacement demand, projects education output into new-entrant supply,
and compares the two with calibrated uncertainty.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kompetensprognos")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
