"""Execution backends: where games, self-play workers and rollout workers run.

Two styles of work share one interface, in three backends (:data:`BACKENDS`):

* **Stateless jobs** — ``backend.map_games(fn, jobs)`` runs a picklable module-level
  ``fn`` over ``jobs`` and returns the results in job order (evaluation matches:
  :func:`selfplay.match.play_match`).
* **Stateful workers** — ``backend.worker_pool(factory, count)`` starts ``count``
  workers, worker ``i`` holding ``factory(i, incarnation)`` (its envs, search and
  network) for the life of the pool.  ``pool.broadcast(value, name)`` publishes a value
  (the weights of a generation) once; before a worker runs its next job it receives
  every slot it has not seen through its ``load_<name>(value)`` method (a restarted
  worker gets them all).  ``pool.submit(fn, *args, worker=i)`` queues
  ``fn(worker_object, *args)``; ``pool.results()`` yields each job's
  :class:`JobResult` as it completes; ``pool.gather()`` returns them in ticket order.

Backends:

* :class:`SerialBackend` — in this process; a pool's jobs run when their results are
  asked for (so a learner that submits, trains, then collects sees what a parallel pool
  would give).
* :class:`ProcessBackend` — spawned processes, pipes, payloads pickled once per
  generation.
* :class:`RayBackend` — Ray tasks and actors: ``ray.put`` once per generation, passed
  to the actors by reference.  It joins the cluster at ``address`` (or
  ``RAY_ADDRESS``), else starts a local instance (no dashboard, a small object store,
  token auth off so nothing is written into the home directory).  Ray is the optional
  extra ``simarena[ray]``; nothing else imports it.

Faults: a worker process or actor that dies is restarted (a fresh
``factory(i, incarnation + 1)``); the jobs it held come back as ``lost`` results, never
half-delivered; a job running past ``job_timeout`` seconds has its worker killed and
restarted the same way (a new worker's first job gets ``startup_timeout`` seconds more,
for its imports and JIT loads), and ``results(timeout=...)`` raises :class:`PoolTimeout` rather
than wait forever.  A worker whose job raises gives a :class:`WorkerError` that names
the worker, the job and the exception.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import signal
import socket
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import wait as wait_ready
from typing import Any, Protocol, TypeVar

from sim.board.base import is_int

J = TypeVar("J")
R = TypeVar("R")

BACKENDS = ("serial", "process", "ray")
DEFAULT_OBJECT_STORE = 200 * 1024 * 1024  # bytes: Ray's default is 30% of RAM
RAY_INSTALL = "pip install 'simarena[ray]'"
MAX_DEATHS = 3  # a worker dying this often in a row without finishing a job is broken
STARTUP_SECONDS = 120.0  # added to job_timeout for a new worker's first job (imports, JIT)

# A worker factory: factory(index, incarnation) -> the worker's object.
Factory = Callable[[int, int], Any]


class BackendError(RuntimeError):
    """A backend cannot start: Ray missing, a cluster unreachable, an unknown name."""


class WorkerError(RuntimeError):
    """A worker's job raised: ``worker`` and ``ticket`` name it, ``error`` is the
    exception's type and message, ``remote_traceback`` where it happened."""

    def __init__(self, worker: int, ticket: int, error: str, remote_traceback: str = "") -> None:
        super().__init__(f"worker {worker} failed on job {ticket}: {error}")
        self.worker = worker
        self.ticket = ticket
        self.error = error
        self.remote_traceback = remote_traceback


class PoolTimeout(TimeoutError):
    """No job of a pool finished within the time the caller gave."""


@dataclass(frozen=True)
class JobResult:
    """What a job gave: ``value``, or ``lost`` (its worker died or timed out; ``reason``
    says which) with no value at all."""

    ticket: int
    worker: int
    value: Any = None
    lost: bool = False
    reason: str = ""


# ---- the worker side (shared by every backend) ------------------------------------------
def _describe(e: BaseException) -> tuple[str, str]:
    return f"{type(e).__name__}: {e}", "".join(traceback.format_exception(e))


def limit_threads(threads: int) -> None:
    """One worker, ``threads`` CPU threads: what its numerical libraries may use. (The
    factory's module, torch with it, is imported by the time this runs in a worker.)"""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)


class WorkerHost:
    """Holds one worker's object; runs its jobs after applying the broadcasts it lacks.

    A factory that raises is reported by every job (a worker that cannot start must not
    look like one that died, or it would be restarted forever)."""

    def __init__(self, factory: Factory, index: int, incarnation: int) -> None:
        self.index = index
        self.incarnation = incarnation
        self.obj: Any = None
        self.init_error: tuple[str, str] | None = None
        try:
            self.obj = factory(index, incarnation)
        except Exception as e:
            self.init_error = _describe(e)

    def run(self, fn: Callable, args: tuple, updates: list[tuple[str, Any]]) -> Any:
        """``fn(obj, *args)`` after ``obj.load_<name>(value)`` for each update; raises."""
        if self.init_error is not None:
            raise _RemoteError(f"could not start: {self.init_error[0]}", self.init_error[1])
        for name, value in updates:
            loader = getattr(self.obj, f"load_{name}", None)
            if loader is None:
                raise AttributeError(
                    f"{type(self.obj).__name__} has no load_{name}() for broadcast {name!r}"
                )
            loader(value)
        return fn(self.obj, *args)

    def pid(self) -> int:
        return os.getpid()


class _RemoteError(Exception):
    def __init__(self, message: str, remote_traceback: str = "") -> None:
        super().__init__(message)
        self.remote_traceback = remote_traceback


class ProbeWorker:
    """A worker that only reports where it runs and what it was sent: for checking a
    cluster (``probe`` on every worker), measuring a backend's overhead, and tests."""

    def __init__(self, index: int, incarnation: int) -> None:
        self.index, self.incarnation = index, incarnation
        self.weights: Any = None
        self.loads = 0

    def load_weights(self, value: Any) -> None:
        self.weights = value
        self.loads += 1


def probe(worker: ProbeWorker, sleep: float = 0.0) -> tuple:
    """(index, incarnation, last weights, weight loads, pid, host) after ``sleep`` s."""
    time.sleep(sleep)
    return (worker.index, worker.incarnation, worker.weights, worker.loads, os.getpid(),
            socket.gethostname())  # fmt: skip


def probe_raise(worker: ProbeWorker) -> None:
    """A job that fails (to see how a worker's error reads)."""
    raise ValueError(f"boom in {worker.index}")


# ---- pools -------------------------------------------------------------------------------
@dataclass
class _Slot:
    """The parent's view of one worker."""

    index: int
    incarnation: int = 0
    seen: dict[str, int] = field(default_factory=dict)  # broadcast name -> generation
    queue: deque = field(default_factory=deque)  # (ticket, fn, args) not yet sent
    inflight: int | None = None  # the ticket it is running
    started: float = 0.0  # perf_counter when the in-flight job was sent
    handle: Any = None  # process or actor
    conn: Any = None  # pipe end (process backend)
    ref: Any = None  # object ref of the in-flight job (Ray backend)
    deaths: int = 0  # deaths since its last finished job
    fresh: bool = True  # not yet finished a job: its first one includes its start-up


class WorkerPool:
    """``count`` stateful workers (see the module docstring); a context manager."""

    kind = "base"

    def __init__(
        self, factory: Factory, count: int, threads: int = 1, job_timeout: float | None = None
    ) -> None:
        if not is_int(count) or count < 1:
            raise ValueError(f"{type(self).__name__}: count must be an int >= 1, got {count!r}")
        if not is_int(threads) or threads < 1:
            raise ValueError(f"{type(self).__name__}: threads must be an int >= 1, got {threads!r}")
        if job_timeout is not None and not job_timeout > 0:
            raise ValueError(f"{type(self).__name__}: job_timeout must be > 0, got {job_timeout!r}")
        if not callable(factory):
            raise ValueError(f"{type(self).__name__}: factory must be callable, got {factory!r}")
        self.factory = factory
        self.count = int(count)
        self.threads = int(threads)
        self.job_timeout = job_timeout
        self.startup_timeout = STARTUP_SECONDS
        self.slots = [_Slot(i) for i in range(self.count)]
        self.generations: dict[str, int] = {}
        self.restarts = 0
        self.lost = 0
        self._next_ticket = 0
        self._done: dict[int, JobResult] = {}  # finished, not yet handed out by gather
        self._closed = False
        for slot in self.slots:
            self._start(slot)

    # -- what each backend provides
    def _start(self, slot: _Slot) -> None:
        raise NotImplementedError

    def _send(self, slot: _Slot, ticket: int, fn: Callable, args: tuple, names: list[str]):
        raise NotImplementedError

    def _publish(self, name: str, value: Any) -> None:
        raise NotImplementedError

    def _wait(self, timeout: float) -> list[JobResult]:
        """Finished jobs (possibly none within ``timeout``); may raise WorkerError."""
        raise NotImplementedError

    def _stop(self, slot: _Slot, kill: bool) -> None:
        raise NotImplementedError

    def pids(self) -> list[int]:
        """The process id of each worker (for monitoring and tests)."""
        raise NotImplementedError

    # -- the interface
    def broadcast(self, value: Any, name: str = "weights") -> None:
        """Publish ``value`` once; each worker loads it (``load_<name>``) before its next job."""
        self._check_open()
        if not name.isidentifier():
            raise ValueError(f"broadcast name must be an identifier, got {name!r}")
        self._publish(name, value)
        self.generations[name] = self.generations.get(name, 0) + 1

    def submit(self, fn: Callable, *args: Any, worker: int | None = None) -> int:
        """Queue ``fn(worker_object, *args)`` on ``worker`` (the least busy when None);
        its ticket. ``fn`` must be a picklable module-level function."""
        self._check_open()
        if worker is None:
            slot = min(self.slots, key=lambda s: len(s.queue) + (s.inflight is not None))
        elif is_int(worker) and 0 <= worker < self.count:
            slot = self.slots[int(worker)]
        else:
            raise ValueError(f"worker must be in 0..{self.count - 1}, got {worker!r}")
        ticket = self._next_ticket
        self._next_ticket += 1
        slot.queue.append((ticket, fn, args))
        self._dispatch(slot)
        return ticket

    @property
    def pending(self) -> int:
        """Jobs submitted whose results have not come back."""
        return sum(len(s.queue) + (s.inflight is not None) for s in self.slots)

    def results(self, timeout: float | None = None) -> Iterator[JobResult]:
        """Each pending job's result as it completes (lost ones included), until none is
        pending. :class:`PoolTimeout` when ``timeout`` seconds pass with none finishing."""
        while self._done:
            yield self._done.pop(min(self._done))
        yield from self._stream(timeout)

    def gather(
        self, tickets: Sequence[int] | None = None, timeout: float | None = None
    ) -> list[JobResult]:
        """The results of ``tickets`` (all pending when None), in ticket order; the
        others that finish meanwhile are kept for later calls."""
        wanted = set(self._all_pending() if tickets is None else tickets)
        got = {t: self._done.pop(t) for t in list(self._done) if t in wanted}
        if len(got) < len(wanted):
            for result in self._stream(timeout):
                if result.ticket in wanted:
                    got[result.ticket] = result
                else:
                    self._done[result.ticket] = result
                if len(got) == len(wanted):
                    break
        missing = wanted - set(got)
        if missing:
            raise ValueError(f"{self.kind} pool: no job with ticket(s) {sorted(missing)}")
        return [got[t] for t in sorted(got)]

    def _stream(self, timeout: float | None) -> Iterator[JobResult]:
        while self.pending:
            deadline = time.perf_counter() + (math.inf if timeout is None else timeout)
            while True:
                for slot in self.slots:
                    self._dispatch(slot)
                finished = self._expire()
                if finished:
                    break
                now = time.perf_counter()
                step = min(deadline - now, self._next_expiry() - now, 1.0)
                finished = self._wait(max(0.0, step))
                if finished:
                    break
                if time.perf_counter() >= deadline:
                    raise PoolTimeout(
                        f"{self.kind} pool: no job finished within {timeout:g} s "
                        f"({self.pending} pending)"
                    )
            yield from finished

    def close(self) -> None:
        """Stop every worker (jobs in flight are dropped); idempotent."""
        if self._closed:
            return
        self._closed = True
        for slot in self.slots:
            self._stop(slot, kill=False)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten pool must not leave processes behind
        try:
            self.close()
        except Exception:
            pass

    # -- bookkeeping shared by the backends
    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"{self.kind} pool: closed")

    def _all_pending(self) -> list[int]:
        out = [t for s in self.slots for t, _, _ in s.queue]
        out += [s.inflight for s in self.slots if s.inflight is not None]
        return out + list(self._done)

    def _dispatch(self, slot: _Slot) -> None:
        if slot.inflight is not None or not slot.queue:
            return
        ticket, fn, args = slot.queue.popleft()
        names = [n for n, g in self.generations.items() if slot.seen.get(n) != g]
        # A new worker's first job also waits for it to start (imports, JIT loads).
        grace = self.startup_timeout if slot.fresh else 0.0
        slot.inflight, slot.started = ticket, time.perf_counter() + grace
        self._send(slot, ticket, fn, args, names)
        for n in names:
            slot.seen[n] = self.generations[n]

    def _finish(self, slot: _Slot, ok: bool = True) -> int:
        if ok:
            slot.deaths = 0
            slot.fresh = False
        ticket = slot.inflight
        slot.inflight = None
        slot.ref = None
        return ticket

    def _restart(self, slot: _Slot, reason: str) -> JobResult:
        """The worker is gone: a fresh one in its place; its job comes back lost."""
        ticket = self._finish(slot, ok=False)
        self._stop(slot, kill=True)
        slot.deaths += 1
        if slot.deaths > MAX_DEATHS:
            raise WorkerError(
                slot.index, ticket,
                f"{reason}, {slot.deaths} times in a row without finishing a job: giving up "
                "(a worker that cannot start? see its output above)",
            )  # fmt: skip
        slot.incarnation += 1
        slot.seen = {}
        slot.fresh = True
        self.restarts += 1
        self.lost += 1
        self._start(slot)
        print(
            f"{self.kind} pool: worker {slot.index} {reason}; restarted, job {ticket} lost",
            file=sys.stderr,
        )
        return JobResult(ticket, slot.index, lost=True, reason=reason)

    def _next_expiry(self) -> float:
        if self.job_timeout is None:
            return math.inf
        starts = [s.started for s in self.slots if s.inflight is not None]
        return min(starts) + self.job_timeout if starts else math.inf

    def _expire(self) -> list[JobResult]:
        if self.job_timeout is None:
            return []
        now = time.perf_counter()
        return [
            self._restart(slot, f"timed out after {self.job_timeout:g} s")
            for slot in self.slots
            if slot.inflight is not None and now - slot.started > self.job_timeout
        ]


class SerialPool(WorkerPool):
    """Workers in this process; a job runs when results are asked for."""

    kind = "serial"

    def _start(self, slot: _Slot) -> None:
        slot.handle = WorkerHost(self.factory, slot.index, slot.incarnation)

    def _publish(self, name: str, value: Any) -> None:
        setattr(self, f"_value_{name}", value)

    def _send(self, slot, ticket, fn, args, names) -> None:
        slot.ref = (fn, args, [(n, getattr(self, f"_value_{n}")) for n in names])

    def _wait(self, timeout: float) -> list[JobResult]:
        busy = [s for s in self.slots if s.inflight is not None]
        slot = min(busy, key=lambda s: s.inflight)
        fn, args, updates = slot.ref
        ticket = self._finish(slot)
        torch = sys.modules.get("torch")
        threads = torch.get_num_threads() if torch else 0
        try:
            if torch:  # what a worker process would use: the same arithmetic
                torch.set_num_threads(self.threads)
            value = slot.handle.run(fn, args, updates)
        except Exception as e:
            message, tb = _describe(e)
            raise WorkerError(slot.index, ticket, message, tb) from e
        finally:
            if torch:
                torch.set_num_threads(threads)
        return [JobResult(ticket, slot.index, value)]

    def _stop(self, slot: _Slot, kill: bool) -> None:
        slot.handle = None

    def pids(self) -> list[int]:
        return [os.getpid()] * self.count


# ---- processes ---------------------------------------------------------------------------
def _process_main(conn, factory: Factory, index: int, incarnation: int, threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the learner's to handle
    limit_threads(threads)
    host = WorkerHost(factory, index, incarnation)
    values: dict[str, Any] = {}
    while True:
        try:
            message = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return  # the parent is gone
        if message[0] == "stop":
            return
        _, ticket, fn, args, updates = message
        try:
            for name, blob in updates:
                values[name] = pickle.loads(blob)
            value = host.run(fn, args, [(n, values.pop(n)) for n, _ in updates])
            reply = ("ok", ticket, value)
        except Exception as e:
            message, tb = _describe(e)
            reply = ("error", ticket, (message, getattr(e, "remote_traceback", "") or tb))
        try:
            blob = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # an unpicklable result is the job's error, not a crash
            message, tb = _describe(e)
            blob = pickle.dumps(("error", ticket, (f"result not picklable: {message}", tb)))
        conn.send_bytes(blob)


class ProcessPool(WorkerPool):
    """Workers in spawned processes; a broadcast is pickled once, sent to each worker
    with its next job (plain pickle: tensors go by value, not shared-memory handles)."""

    kind = "process"

    def __init__(self, *args: Any, start_method: str = "spawn", **kwargs: Any) -> None:
        self._context = multiprocessing.get_context(start_method)
        self._blobs: dict[str, bytes] = {}
        super().__init__(*args, **kwargs)

    def _start(self, slot: _Slot) -> None:
        parent, child = self._context.Pipe()
        process = self._context.Process(
            target=_process_main,
            args=(child, self.factory, slot.index, slot.incarnation, self.threads),
            daemon=True,
            name=f"simarena-worker-{slot.index}",
        )
        process.start()
        child.close()
        slot.handle, slot.conn = process, parent

    def _publish(self, name: str, value: Any) -> None:
        self._blobs[name] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)

    def _send(self, slot, ticket, fn, args, names) -> None:
        updates = [(n, self._blobs[n]) for n in names]
        message = pickle.dumps(("job", ticket, fn, args, updates), pickle.HIGHEST_PROTOCOL)
        try:
            slot.conn.send_bytes(message)
        except (BrokenPipeError, OSError):
            pass  # the process is dead: _wait sees its sentinel and restarts it

    def _wait(self, timeout: float) -> list[JobResult]:
        busy = {s.index: s for s in self.slots if s.inflight is not None}
        waitables = {}
        for s in busy.values():
            waitables[s.conn] = s
            waitables[s.handle.sentinel] = s
        ready = wait_ready(list(waitables), timeout)
        out: list[JobResult] = []
        for slot in {waitables[r].index: waitables[r] for r in ready}.values():
            reply = None
            try:
                if slot.conn.poll():
                    reply = pickle.loads(slot.conn.recv_bytes())
            except (EOFError, OSError, pickle.UnpicklingError):
                slot.handle.join(timeout=2.0)  # the pipe closed: the process is ending
            if reply is None:
                if slot.handle.is_alive():
                    continue
                code = slot.handle.exitcode
                out.append(self._restart(slot, f"died (exit code {code})"))
                continue
            status, ticket, payload = reply
            self._finish(slot)
            if status == "error":
                raise WorkerError(slot.index, ticket, *payload)
            out.append(JobResult(ticket, slot.index, payload))
        return out

    def _stop(self, slot: _Slot, kill: bool) -> None:
        process, conn = slot.handle, slot.conn
        if process is None:
            return
        if not kill and process.is_alive():
            if not self._closed:
                try:
                    conn.send_bytes(pickle.dumps(("stop",)))
                except (BrokenPipeError, OSError):
                    pass
            process.join(timeout=5.0 if slot.inflight is None else 0.2)
        if process.is_alive():
            process.kill()
        process.join(timeout=5.0)
        conn.close()
        slot.handle = slot.conn = None

    def pids(self) -> list[int]:
        return [s.handle.pid for s in self.slots]

    def close(self) -> None:
        if not self._closed:  # ask them all first: they exit in parallel
            for slot in self.slots:
                if slot.conn is not None and slot.inflight is None:
                    try:
                        slot.conn.send_bytes(pickle.dumps(("stop",)))
                    except (BrokenPipeError, OSError):
                        pass
        super().close()


# ---- Ray ---------------------------------------------------------------------------------
def import_ray():
    """The ``ray`` module, or a :class:`BackendError` saying how to install it."""
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # else 2.60 writes a token into HOME
    try:
        import ray
    except ImportError as e:
        raise BackendError(
            f"backend 'ray' needs Ray, which is not installed ({e}); {RAY_INSTALL}"
        ) from None
    return ray


def _check_reachable(address: str, seconds: float = 3.0) -> None:
    """Fail fast on a host:port nobody listens at (ray.init would retry for a minute)."""
    if address == "auto" or "://" in address:
        return
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise BackendError(f"Ray address {address!r} is not host:port (nor 'auto', ray://...)")
    try:
        socket.create_connection((host, int(port)), timeout=seconds).close()
    except OSError as e:
        raise BackendError(
            f"cannot reach the Ray cluster at {address!r} ({e}); start it with "
            "`ray start --head` there, or check --ray-address / RAY_ADDRESS"
        ) from None


def _ray_chunk(fn: Callable, jobs: list) -> list:
    return [fn(job) for job in jobs]


_RAY_REMOTES: dict[str, Any] = {}


def _remote(ray, name: str, target: Any, **options: Any):
    if name not in _RAY_REMOTES:
        _RAY_REMOTES[name] = ray.remote(**options)(target) if options else ray.remote(target)
    return _RAY_REMOTES[name]


class _RayHost(WorkerHost):
    """The actor class: a WorkerHost that fetches broadcasts by reference."""

    def __init__(self, factory: Factory, index: int, incarnation: int, threads: int) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        limit_threads(threads)
        super().__init__(factory, index, incarnation)

    def run_job(self, fn: Callable, args: tuple, updates: list[tuple[str, list]]) -> Any:
        import ray

        # Each ref is wrapped in a list, so Ray passes the ref and we fetch it only here.
        values = [(name, ray.get(box[0])) for name, box in updates]
        try:
            return self.run(fn, args, values)
        except Exception as e:
            message, tb = _describe(e)
            raise _RemoteError(message, getattr(e, "remote_traceback", "") or tb) from None


class RayPool(WorkerPool):
    """Workers as Ray actors (``threads`` CPUs each); broadcasts go by reference."""

    kind = "ray"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.ray = import_ray()
        if not self.ray.is_initialized():
            raise BackendError("RayPool: Ray is not initialized (use RayBackend.worker_pool)")
        self._refs: dict[str, Any] = {}
        super().__init__(*args, **kwargs)

    def _start(self, slot: _Slot) -> None:
        cls = _remote(self.ray, "host", _RayHost)
        options = {"num_cpus": self.threads, "max_restarts": 0, "max_task_retries": 0}
        slot.handle = cls.options(**options).remote(
            self.factory, slot.index, slot.incarnation, self.threads
        )

    def _publish(self, name: str, value: Any) -> None:
        self._refs[name] = self.ray.put(value)

    def _send(self, slot, ticket, fn, args, names) -> None:
        updates = [(n, [self._refs[n]]) for n in names]
        slot.ref = slot.handle.run_job.remote(fn, args, updates)

    def _wait(self, timeout: float) -> list[JobResult]:
        ray = self.ray
        by_ref = {s.ref: s for s in self.slots if s.inflight is not None}
        ready, _ = ray.wait(list(by_ref), num_returns=1, timeout=timeout)
        out = []
        for ref in ready:
            slot = by_ref[ref]
            try:
                value = ray.get(ref)
            except ray.exceptions.RayActorError as e:
                reason = type(e).__name__
                out.append(self._restart(slot, f"died ({reason})"))
                continue
            except ray.exceptions.RayTaskError as e:
                ticket = self._finish(slot)
                cause = e.cause if isinstance(e.cause, Exception) else e
                tb = getattr(cause, "remote_traceback", "") or str(e)
                message = str(cause) if isinstance(cause, _RemoteError) else _describe(cause)[0]
                raise WorkerError(slot.index, ticket, message, tb) from None
            out.append(JobResult(self._finish(slot), slot.index, value))
        return out

    def _stop(self, slot: _Slot, kill: bool) -> None:
        if slot.handle is not None:
            try:
                self.ray.kill(slot.handle, no_restart=True)
            except Exception:
                pass  # already gone, or Ray already shut down
            slot.handle = None

    def pids(self) -> list[int]:
        return self.ray.get([s.handle.pid.remote() for s in self.slots])

    def actor(self, worker: int):
        """The actor handle of ``worker`` (for ``ray.kill`` in tests and operations)."""
        return self.slots[worker].handle


# ---- backends ----------------------------------------------------------------------------
class Backend(Protocol):
    """Runs ``fn`` over ``jobs`` and returns the results in job order."""

    def map_games(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]: ...


class _BackendBase:
    name = "base"
    workers = 1

    def worker_pool(
        self,
        factory: Factory,
        count: int | None = None,
        threads: int = 1,
        job_timeout: float | None = None,
    ) -> WorkerPool:
        """``count`` stateful workers (this backend's ``workers`` when None)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the backend holds (nothing by default)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SerialBackend(_BackendBase):
    """Runs the jobs one after another in this process."""

    name = "serial"

    def map_games(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]:
        return [fn(job) for job in jobs]

    def worker_pool(self, factory, count=None, threads=1, job_timeout=None) -> SerialPool:
        return SerialPool(factory, 1 if count is None else count, threads, job_timeout)


class ProcessBackend(_BackendBase):
    """Runs the jobs on a pool of ``workers`` processes (``fn`` and jobs must pickle).

    The pool starts on the first call and is kept until :meth:`close` (or the end of a
    ``with`` block), so workers pay their imports and Numba cache loads once.  Workers
    are started with ``start_method`` ("spawn" by default: safe with the threads of
    Numba and torch in the parent).  Jobs go in chunks, so players shared by the jobs
    of one chunk are pickled once per chunk.  As with any spawned pool, a script that
    uses it must start under ``if __name__ == "__main__":``.
    """

    name = "process"

    def __init__(self, workers: int = 2, start_method: str | None = "spawn") -> None:
        if not is_int(workers) or workers < 1:
            raise ValueError(f"ProcessBackend: workers must be an int >= 1, got {workers!r}")
        self.workers = int(workers)
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context(self.start_method)
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    def map_games(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]:
        if not jobs:
            return []
        chunk = max(1, math.ceil(len(jobs) / (4 * self.workers)))
        return list(self._executor().map(fn, jobs, chunksize=chunk))

    def worker_pool(self, factory, count=None, threads=1, job_timeout=None) -> ProcessPool:
        return ProcessPool(
            factory, self.workers if count is None else count, threads, job_timeout,
            start_method=self.start_method or "spawn",
        )  # fmt: skip

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


class RayBackend(_BackendBase):
    """Ray tasks (``map_games``) and actors (``worker_pool``).

    Args:
        workers: parallel jobs of ``map_games`` (it sends ``4 * workers`` chunks) and the
            default size of a pool.
        address: a cluster to join (``host:port``, ``auto``, ``ray://...``); None reads
            ``RAY_ADDRESS``, and without it a local instance starts.
        num_cpus: CPUs of a local instance (default: enough for ``workers``, at least the
            machine's).
        object_store_memory: bytes of a local instance's object store.

    Ray stays up if it was already initialized (a test fixture, a notebook): then
    :meth:`close` stops only the actors this backend started; otherwise it shuts Ray down.
    """

    name = "ray"

    def __init__(
        self,
        workers: int = 2,
        address: str | None = None,
        num_cpus: int | None = None,
        object_store_memory: int = DEFAULT_OBJECT_STORE,
    ) -> None:
        if not is_int(workers) or workers < 1:
            raise ValueError(f"RayBackend: workers must be an int >= 1, got {workers!r}")
        self.workers = int(workers)
        self.ray = ray = import_ray()
        self._owns = False
        self._pools: list[RayPool] = []
        address = address or os.environ.get("RAY_ADDRESS") or None
        self.address = address
        if address:  # even when connected: asking for a cluster nobody runs is an error
            _check_reachable(address)
        if ray.is_initialized():
            return
        options: dict[str, Any] = {
            "include_dashboard": False,
            "log_to_driver": True,
            "logging_level": "WARNING",
        }
        if address:
            try:
                ray.init(address=address, **options)
            except Exception as e:  # ConnectionError, RuntimeError: name the address
                raise BackendError(f"cannot join the Ray cluster at {address!r}: {e}") from None
        else:
            cpus = num_cpus or max(os.cpu_count() or 1, self.workers)
            # "local": a new instance, even where `ray start` left one running here.
            ray.init(
                address="local", num_cpus=cpus, object_store_memory=object_store_memory,
                **options,
            )  # fmt: skip
        self._owns = True

    def map_games(self, fn: Callable[[J], R], jobs: Sequence[J]) -> list[R]:
        if not jobs:
            return []
        ray = self.ray
        chunk = max(1, math.ceil(len(jobs) / (4 * self.workers)))
        task = _remote(ray, "chunk", _ray_chunk)
        fn_ref = ray.put(fn)
        refs = [task.remote(fn_ref, list(jobs[i : i + chunk])) for i in range(0, len(jobs), chunk)]
        out: list = []
        for k, ref in enumerate(refs):
            try:
                out.extend(ray.get(ref))
            except ray.exceptions.RayTaskError as e:  # name the chunk (task) and its first job
                cause = e.cause if isinstance(e.cause, Exception) else e
                raise WorkerError(k, k * chunk, _describe(cause)[0], str(e)) from None
        return out

    def worker_pool(self, factory, count=None, threads=1, job_timeout=None) -> RayPool:
        count = self.workers if count is None else count
        if is_int(count) and is_int(threads):
            self._check_resources(count * threads)
        pool = RayPool(factory, count, threads, job_timeout)
        self._pools.append(pool)
        return pool

    def _check_resources(self, cpus: int) -> None:
        have = self.ray.cluster_resources().get("CPU", 0)
        if have < cpus:
            raise BackendError(
                f"the Ray cluster has {have:g} CPUs; the pool asks for {cpus} "
                "(workers x threads): its actors would never start"
            )

    def close(self) -> None:
        for pool in self._pools:
            pool.close()
        self._pools = []
        if self._owns and self.ray.is_initialized():
            self.ray.shutdown()
        self._owns = False


def make_backend(name: str, workers: int = 2, ray_address: str | None = None) -> _BackendBase:
    """The backend called ``name`` (one of :data:`BACKENDS`)."""
    if name == "serial":
        return SerialBackend()
    if name == "process":
        return ProcessBackend(workers)
    if name == "ray":
        return RayBackend(workers, address=ray_address)
    raise BackendError(f"unknown backend {name!r}; choose from {list(BACKENDS)}")
