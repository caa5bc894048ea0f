"""Scale-out on Dask: a sweep's steps evaluated in chunks across the workers of a ``dask.distributed`` cluster.

The plan and the dataset are scattered to every worker once per sweep (the FRF plan is ~130 KB). A
worker keeps the plan in a registry of its own keyed by the plan's digest, so the machinery built from
it (lowered, compiled, cached by the plan object) is built once per worker process and serves every
chunk and every later sweep of that plan; the baseline run is kept between the chunks of one sweep.
Each task carries only its chunk of consecutive steps, evaluates them with
:func:`planlang.bulk.step_results` and sends back only each step's totals, as four exact integers
(the present cells' sum as numerator and denominator, the missing cells, the cells); its cells too
only when they are to be written out.
Chunks are taken back in order, with a bounded number in flight, so the answer is the one a single
process gives, step for step, and memory stays bounded however many steps there are.

``dask.distributed`` is imported only here, and only when a sweep asks for workers.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import uuid
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction

from ..diagnostics import InputError
from .bulk import Step, step_results
from .totals import Total

__all__ = ["cluster", "distributed_results", "CONNECT_SECONDS"]

CONNECT_SECONDS = 10  # how long to wait for a scheduler named with --scheduler


@contextlib.contextmanager
def cluster(workers: int | None = None, scheduler: str | None = None, timeout: float = CONNECT_SECONDS):
    """A Dask client: of a new local cluster of ``workers`` processes, or of the scheduler at ``scheduler``."""
    from distributed import Client, LocalCluster

    logging.getLogger("distributed").setLevel(logging.ERROR)  # its retries and shutdown notes are not the user's business
    if scheduler is not None:
        _check_address(scheduler)
        try:
            client = Client(scheduler, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as error:
            raise InputError(f"cannot reach a Dask scheduler at {scheduler!r} within {timeout:g} s ({error})",
                             "--scheduler", "start one with `dask scheduler` and give the address it prints, "
                                            "such as tcp://127.0.0.1:8786") from None
        with client:
            yield client
        return
    # the scheduler's HTTP server listens even without a dashboard: on a free local port, not on 8787 (which another
    # cluster may hold, and then Dask warns)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR) as local, Client(local, set_as_default=False) as client:
        yield client


def _check_address(address: str) -> None:
    """Refuse an address no Dask transport reads before a client is made of it (a half-made client fails again at exit)."""
    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if not location:
            raise ValueError("no host")
        if scheme in ("tcp", "tls", "ws", "wss"):
            parse_host_port(location, default_port=8786)
    except (ValueError, TypeError) as error:
        raise InputError(f"{address!r} is not a Dask scheduler address ({error})", "--scheduler",
                         "give the address the scheduler prints, such as tcp://127.0.0.1:8786") from None


_PLANS: dict[str, object] = {}  # on a worker: the plans it has been sent, by digest (the newest few)
_KEEP = 4


def _registered(plan):
    """The worker's own copy of a plan of this digest: the first one it was sent, whose built machinery it keeps."""
    held = _PLANS.pop(plan.digest, plan)
    _PLANS[plan.digest] = held  # newest last
    while len(_PLANS) > _KEEP:
        del _PLANS[next(iter(_PLANS))]
    return held


def _packed(total: Total) -> tuple[int, int, int, int]:
    """A total as four integers: the present cells' sum as numerator and denominator, the missing cells, the cells."""
    present = total.present if total.present is not None else 0
    return present.numerator, present.denominator, total.missing, total.cells


def _unpacked(numbers: tuple[int, int, int, int]) -> Total:
    numerator, denominator, missing, cells = numbers
    return Total.of_sum(Fraction(numerator, denominator), missing, cells)


def _chunk(plan, dataset, steps: list[Step], outputs: Sequence[str], backend: str, cells: bool) -> list[tuple]:
    """What a worker does with one chunk: each step's totals of the asked outputs as integers, and their cells
    when they are to be written out (the steps themselves stay with the caller)."""
    plan = _registered(plan)
    return [({name: _packed(result.total(name)) for name in outputs}, dict(result.by_output) if cells else None)
            for result in step_results(plan, dataset, steps, outputs, backend)]


class _Shipped:
    """A step's results as a worker sent them back: the totals, and the cells when they were asked for."""

    def __init__(self, step: Step, totals: dict, by_output: dict | None):
        self.step, self.by_output = step, by_output
        self.totals = {name: _unpacked(numbers) for name, numbers in totals.items()}

    def total(self, output: str) -> Total:
        return self.totals[output]

    def cells(self, output: str) -> list:
        return self.by_output[output]


def distributed_results(client, plan, dataset, steps: Iterable[Step], outputs: Sequence[str], backend: str = "exact",
                        chunk: int = 16, cells: bool = True) -> Iterator["_Shipped"]:
    """:func:`planlang.bulk.step_results` across the cluster's workers, in the order of ``steps``: each
    step's totals, and its cells when ``cells`` (only ``--out`` needs them; totals are much less to send)."""
    # keys of their own each sweep: a key named by the digest alone is released by the last sweep's futures
    # while this one scatters it again, and the scheduler may then forget it ("lost dependencies"); the
    # worker's registry, not the key, is what keeps one plan per digest
    sweep = uuid.uuid4().hex
    named = {f"planlang-plan-{plan.digest[:16]}-{sweep}": plan, f"planlang-data-{sweep}": dataset}
    plan_on_workers, data_on_workers = client.scatter(named, broadcast=True, hash=False).values()
    ahead = 2 * max(1, len(client.nthreads()))
    pending: deque = deque()
    steps = iter(steps)

    def submit() -> bool:
        part = list(itertools.islice(steps, chunk))
        if part:
            pending.append((part, client.submit(_chunk, plan_on_workers, data_on_workers, part, list(outputs), backend,
                                                cells, pure=False)))
        return bool(part)

    while len(pending) < ahead and submit():
        pass
    while pending:
        part, future = pending.popleft()
        found = future.result()
        submit()
        for step, (totals, by_output) in zip(part, found):
            yield _Shipped(step, totals, by_output)
