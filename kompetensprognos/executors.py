"""Executors: where independent pieces of work run — in this process, or on a Dask cluster.

An executor has one job: ``map(fn, items)`` returns ``[fn(item) for item in items]`` in order.
:class:`LocalExecutor` runs them one after the other in this process (the default, no extra
dependencies); :class:`DaskExecutor` sends them to a ``distributed`` cluster — a scheduler at a
given address, or a :class:`distributed.LocalCluster` started on this machine. Results never
depend on the executor, only the wall time does. Used by :func:`kompetensprognos.scale.fit_partitioned`
and :class:`kompetensprognos.demand.DemandModel` (``executor=``); see ``docs/scale.md``.

``distributed`` is an optional dependency (``pip install 'kompetensprognos[dask]'``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any, Literal, Protocol, TypeVar, runtime_checkable

from kompetensprognos.errors import KompetensprognosError

__all__ = [
    "EXECUTOR_NAMES",
    "DaskExecutor",
    "Executor",
    "LocalExecutor",
    "get_executor",
]

T = TypeVar("T")
R = TypeVar("R")

EXECUTOR_NAMES: tuple[str, ...] = ("local", "dask")
"""Names accepted by :func:`get_executor`."""


@runtime_checkable
class Executor(Protocol):
    """Runs ``fn`` over ``items`` and returns the results in order."""

    name: str

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(item) for item in items]``, possibly in parallel."""
        ...

    def close(self) -> None:
        """Release workers and connections (a no-op for in-process executors)."""
        ...


class LocalExecutor:
    """In-process, sequential execution (the default).

    Examples
    --------
    >>> LocalExecutor().map(abs, [-1, 2, -3])
    [1, 2, 3]
    """

    name = "local"

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Apply ``fn`` to every item, one after the other."""
        return [fn(item) for item in items]

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:  # pragma: no cover - depends on the environment
        raise KompetensprognosError(
            "the dask executor needs the optional dependency `distributed` — install it with "
            "pip install 'kompetensprognos[dask]' (or use executor='local')"
        ) from None
    return distributed


class DaskExecutor:
    """Run work on a Dask ``distributed`` cluster.

    Parameters
    ----------
    address : str or distributed.Client, optional
        Scheduler address (``"tcp://10.0.0.5:8786"``) or an existing client (not closed by
        :meth:`close`). Default: start a :class:`distributed.LocalCluster` on this machine.
    n_workers : int, default 2
        Workers of the local cluster (ignored with ``address``).
    threads_per_worker : int, default 1
        Threads per local worker. One thread per worker process suits the forecasting models,
        which hold the GIL.
    processes : bool, default True
        Local workers as processes (parallel CPU work); ``False`` runs them as threads in this
        process (cheap to start; used by the tests).
    memory_limit : str or float, default "auto"
        Per-worker memory limit of the local cluster.
    **cluster_kwargs
        Passed to :class:`distributed.LocalCluster`.

    Examples
    --------
    >>> with DaskExecutor(n_workers=2) as ex:  # doctest: +SKIP
    ...     ex.map(abs, [-1, 2])
    [1, 2]
    """

    name = "dask"

    def __init__(
        self,
        address: str | Any | None = None,
        *,
        n_workers: int = 2,
        threads_per_worker: int = 1,
        processes: bool = True,
        memory_limit: str | float = "auto",
        **cluster_kwargs: Any,
    ) -> None:
        distributed = _import_distributed()
        self._cluster = None
        self._own_client = True
        if isinstance(address, distributed.Client):
            self.client = address
            self._own_client = False
        elif address is not None:
            self.client = distributed.Client(address)
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=threads_per_worker,
                processes=processes,
                memory_limit=memory_limit,
                dashboard_address=cluster_kwargs.pop("dashboard_address", None),
                **cluster_kwargs,
            )
            self.client = distributed.Client(self._cluster)

    @property
    def n_workers(self) -> int:
        """Workers currently connected to the scheduler."""
        return len(self.client.scheduler_info().get("workers", {}))

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """Scatter the items to the workers, apply ``fn`` to each and gather the results in order.

        A failing item raises its exception here, as :class:`LocalExecutor` would.
        """
        if not len(items):
            return []
        data = self.client.scatter(list(items), hash=False)
        futures = self.client.map(fn, data, pure=False)
        try:
            return list(self.client.gather(futures))
        finally:
            self.client.cancel(futures + data)

    def close(self) -> None:
        """Close the client and the local cluster this executor started."""
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def get_executor(
    executor: Literal["local", "dask"] | Executor | None = None, **kwargs: Any
) -> Executor:
    """An executor from its name (or the executor itself).

    Parameters
    ----------
    executor : {"local", "dask"}, Executor or None
        ``None`` and ``"local"``: :class:`LocalExecutor`; ``"dask"``: :class:`DaskExecutor`
        built with ``kwargs`` (e.g. ``address="tcp://host:8786"`` or ``n_workers=2``).
    **kwargs
        Settings of :class:`DaskExecutor`.

    Returns
    -------
    Executor
        Close it when done (``with get_executor("dask") as ex: ...``).

    Examples
    --------
    >>> get_executor().name
    'local'
    """
    if executor is None or executor == "local":
        return LocalExecutor()
    if executor == "dask":
        return DaskExecutor(**kwargs)
    if isinstance(executor, Executor):
        return executor
    raise KompetensprognosError(
        f"unknown executor {executor!r}; use one of: {', '.join(EXECUTOR_NAMES)}"
    )
