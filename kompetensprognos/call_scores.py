"""Scores of balance calls against a known outcome: balanced accuracy and Brier score.

One rule for the call backtest (:func:`kompetensprognos.balance_calls.score_calls`, the
benchmark) and the report's evidence section (:func:`kompetensprognos.pages.call_scores`). Kept
apart from the model code, so a report kernel can score calls without importing it.

Only occupations whose truth and call are both assessed (brist / balans / överskott) count.
Balanced accuracy is the mean recall over the truth's classes; the Brier score compares the
probability of shortage with ``truth == brist`` (a method without probabilities counts 1 for a
called shortage, else 0).

Examples
--------
>>> c = pd.DataFrame({"origin": 2018, "status": ["brist", "balans"], "p_shortage": [0.8, 0.2],
...     "truth_status": ["brist", "balans"], "carry_status": ["balans", "balans"]})
>>> s = score_calls(c, by=("origin",), total="all").round(3)
>>> s.query("origin == 'all'")[["method", "balanced_accuracy", "brier"]].values.tolist()
[['centred', 1.0, 0.04], ['carry_forward', 0.5, 0.5]]
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from kompetensprognos.labels import STATUS_ORDER

__all__ = ["CALL_METHODS", "score_calls"]

#: Method -> (status column, probability column or None: the status read as 0/1), in table order.
CALL_METHODS: dict[str, tuple[str, str | None]] = {
    "centred": ("status", "p_shortage"),
    "carry_forward": ("carry_status", None),
    "centred_with_today": ("today_status", "today_p_shortage"),
    "model_alone": ("model_alone_status", "model_alone_p_shortage"),
    "graduates_only": ("old_status", "old_p_shortage"),
}


def score_calls(
    calls: pd.DataFrame,
    *,
    by: Sequence[str] = ("region", "origin"),
    total: str = "all",
    methods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Balanced accuracy and Brier score per group of ``by`` and method, and over all rows.

    Parameters
    ----------
    calls : pandas.DataFrame
        ``truth_status`` and each method's status (and probability) columns
        (:data:`CALL_METHODS`); methods whose status column is absent are left out.
    by : sequence of str
        Group columns; the row over all calls carries ``total`` in each of them.
    total : str
        Label of the row over all calls.
    methods : sequence of str, optional
        Methods to score (default: every one of :data:`CALL_METHODS`).

    Returns
    -------
    pandas.DataFrame
        ``*by, method, n, balanced_accuracy, brier``.
    """
    by = list(by)
    names = list(methods) if methods is not None else list(CALL_METHODS)
    grouped = [(k if isinstance(k, tuple) else (k,), g) for k, g in calls.groupby(by, sort=True)]
    rows = []
    for key, grp in [*grouped, ((total,) * len(by), calls)]:
        for name in names:
            scol, pcol = CALL_METHODS[name]
            if scol not in grp.columns:
                continue
            g = grp[grp["truth_status"].isin(STATUS_ORDER) & grp[scol].isin(STATUS_ORDER)]
            if g.empty:
                continue
            recalls = [
                (g.loc[g["truth_status"] == cls, scol] == cls).mean()
                for cls in STATUS_ORDER
                if (g["truth_status"] == cls).any()
            ]
            called = (g[scol] == "brist").astype(float)
            p = called if pcol is None or pcol not in g else g[pcol].astype(float).fillna(called)
            brier = float(((p - (g["truth_status"] == "brist")) ** 2).mean())
            rows.append((*key, name, len(g), float(sum(recalls) / len(recalls)), brier))
    return pd.DataFrame(rows, columns=[*by, "method", "n", "balanced_accuracy", "brier"])
