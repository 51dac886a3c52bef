"""Faults on purpose: a :class:`SiteServer` override that misbehaves like a real server.

Scripted faults answer the first requests of a path with a given sequence (``503`` then
``200``, a ``429`` with ``Retry-After``, a reset, a slow answer, the page under validators
that change at every request); random faults hit a
share of article requests, each path at most ``max_per_path`` times so every page is
reachable in the end. Deterministic for a seed. Used by tests and benchmarks alike.
"""

from __future__ import annotations

import email.utils
import itertools
import random
import re
import socket
import struct
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Literal

from sitecopy.server import SiteServer, send

FaultKind = Literal["status", "slow", "reset", "hang", "churn"]


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    body: bytes = b"<html><body>fault</body></html>"


def status(code: int, **headers: str) -> Fault:
    return Fault(
        "status", status=code, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


def slow(seconds: float) -> Fault:
    """Answer normally, but only after ``seconds``."""
    return Fault("slow", seconds=seconds)


def hang(seconds: float) -> Fault:
    """Say nothing for ``seconds`` (longer than the client's read timeout), then drop."""
    return Fault("hang", seconds=seconds)


def churn() -> Fault:
    """Answer with the page as it is, but under a new ``ETag`` and ``Last-Modified`` each
    time (a CMS that stamps its render, a cluster whose nodes tag alike pages unalike): a
    conditional request never gets a 304, and the body never changes."""
    return Fault("churn", status=200)


RESET = Fault("reset")


class FaultPlan:
    """Install with ``server.override = plan``; it records which faults it served."""

    def __init__(
        self,
        scripted: dict[str, list[Fault]] | None = None,
        *,
        seed: int = 0,
        random_faults: list[tuple[Fault, float]] | None = None,
        random_paths: str = r"-post\d+\.html",
        max_per_path: int = 2,
    ) -> None:
        self.scripted = {re.compile(k): list(v) for k, v in (scripted or {}).items()}
        self.random_faults = list(random_faults or [])
        self.random_paths = re.compile(random_paths)
        self.max_per_path = max_per_path
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._seen: dict[str, int] = defaultdict(int)
        self._faulted: dict[str, int] = defaultdict(int)
        self._churned = itertools.count(1)
        self.served: list[tuple[str, FaultKind, int]] = []

    def _pick(self, path: str) -> Fault | None:
        with self._lock:
            n = self._seen[path]
            self._seen[path] += 1
            for pattern, faults in self.scripted.items():
                if pattern.search(path):
                    return faults[n] if n < len(faults) else None
            if not self.random_faults or not self.random_paths.search(path):
                return None
            if self._faulted[path] >= self.max_per_path:
                return None
            roll = self._rng.random()
            for fault, share in self.random_faults:
                if roll < share:
                    self._faulted[path] += 1
                    return fault
                roll -= share
            return None

    def __call__(self, handler: BaseHTTPRequestHandler, server: SiteServer) -> bool:
        path = handler.path.split("?", 1)[0]
        fault = self._pick(path)
        if fault is None:
            return False
        self.served.append((path, fault.kind, fault.status))
        if fault.kind == "slow":
            time.sleep(fault.seconds)
            return False
        if fault.kind == "hang":
            time.sleep(fault.seconds)
            _reset(handler)
            return True
        if fault.kind == "reset":
            _reset(handler)
            return True
        if fault.kind == "churn":
            with self._lock:
                n = next(self._churned)
            validators = {
                "ETag": f'"churn-{n}"',
                "Last-Modified": email.utils.formatdate(time.time() + n, usegmt=True),
            }
            server.send_file(handler, server.resolve(handler.path), validators)
            return True
        send(handler, fault.status, fault.body, "text/html; charset=utf-8", fault.headers)
        return True


def _reset(handler: BaseHTTPRequestHandler) -> None:
    """Close with RST instead of FIN: the client sees 'connection reset by peer'."""
    handler.close_connection = True
    try:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
    except OSError:
        pass
    handler._status_sent = 0  # type: ignore[attr-defined]
