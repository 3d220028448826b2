"""In-process network lockdown. The only module that touches sockets.

`install_guard()` runs first in `python -m scribe` (before models, Qt or ML libraries load). It refuses every
non-loopback connect/sendto and every DNS lookup of a non-local name at the socket and getaddrinfo level,
sets the offline switches of every ML library in use, and turns runtime telemetry off. Each refused attempt is
recorded (host, port, kind; never payload) and handed to listeners (the store writes it to the audit log).

Scope, honestly: this guards Python code in this process. Native code that opens its own sockets would bypass
it; the test suite runs a whole `dictate` under strace to show none does.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

from .errors import NetworkBlockedError

__all__ = ["install_guard", "uninstall_guard", "guard_installed", "attempts", "add_listener", "Attempt",
           "OFFLINE_ENV", "probe_network", "disable_telemetry", "connect_audit", "offline_env_ok"]

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1", "DISABLE_TELEMETRY": "1", "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "ORT_DISABLE_TELEMETRY": "1", "TOKENIZERS_PARALLELISM": "false", "QT_NETWORK_DISABLE": "1",
}
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback", ""}


@dataclass
class Attempt:
    kind: str      # "connect" | "dns" | "sendto"
    host: str
    port: int | None
    at: float


_lock = threading.Lock()
_attempts: list[Attempt] = []
_listeners: list[Callable[[Attempt], None]] = []
_orig: dict[str, object] = {}
_audited = 0   # attempts[:_audited] have been handed to an audit sink


def _is_loopback(host: object) -> bool:
    if host is None:
        return True
    h = host.decode() if isinstance(host, bytes) else str(host)
    if h.lower() in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(h.split("%")[0]).is_loopback
    except ValueError:
        return False


def _record(kind: str, host: object, port: object) -> None:
    a = Attempt(kind, str(host), int(port) if isinstance(port, int) else None, time.time())
    with _lock:
        _attempts.append(a)
        listeners = list(_listeners)
    for cb in listeners:
        try:
            cb(a)
        except Exception:
            pass  # a failing audit listener must never open the door


def _refuse(kind: str, host: object, port: object = None):
    _record(kind, host, port)
    raise NetworkBlockedError(f"Scribe is offline: {kind} to {host}{'' if port is None else ':' + str(port)} refused")


def _check_addr(sock: socket.socket, address, kind: str) -> None:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return  # AF_UNIX and friends never leave the machine
    host, port = (address[0], address[1]) if isinstance(address, tuple) and len(address) >= 2 else (address, None)
    if not _is_loopback(host):
        _refuse(kind, host, port)


def install_guard() -> None:
    """Idempotent. Sets offline env vars, disables telemetry and patches the socket module."""
    for k, v in OFFLINE_ENV.items():
        os.environ[k] = v
    if _orig:
        return
    s = socket.socket
    _orig.update(connect=s.connect, connect_ex=s.connect_ex, sendto=s.sendto, getaddrinfo=socket.getaddrinfo,
                 gethostbyname=socket.gethostbyname, gethostbyname_ex=socket.gethostbyname_ex,
                 create_connection=socket.create_connection)

    def connect(self, address):
        _check_addr(self, address, "connect")
        return _orig["connect"](self, address)

    def connect_ex(self, address):
        _check_addr(self, address, "connect")
        return _orig["connect_ex"](self, address)

    def sendto(self, data, *args):
        _check_addr(self, args[-1], "sendto")
        return _orig["sendto"](self, data, *args)

    def getaddrinfo(host, port, *a, **k):
        if not _is_loopback(host):
            _refuse("dns", host, port if isinstance(port, int) else None)
        return _orig["getaddrinfo"](host, port, *a, **k)

    def gethostbyname(host):
        if not _is_loopback(host):
            _refuse("dns", host)
        return _orig["gethostbyname"](host)

    def gethostbyname_ex(host):
        if not _is_loopback(host):
            _refuse("dns", host)
        return _orig["gethostbyname_ex"](host)

    s.connect, s.connect_ex, s.sendto = connect, connect_ex, sendto
    socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex = getaddrinfo, gethostbyname, gethostbyname_ex
    disable_telemetry()


def uninstall_guard() -> None:
    """For tests only: restore the socket module."""
    if not _orig:
        return
    s = socket.socket
    s.connect, s.connect_ex, s.sendto = _orig["connect"], _orig["connect_ex"], _orig["sendto"]
    socket.getaddrinfo = _orig["getaddrinfo"]
    socket.gethostbyname, socket.gethostbyname_ex = _orig["gethostbyname"], _orig["gethostbyname_ex"]
    _orig.clear()


def guard_installed() -> bool:
    return bool(_orig)


def attempts() -> list[Attempt]:
    with _lock:
        return list(_attempts)


def add_listener(cb: Callable[[Attempt], None]) -> Callable[[], None]:
    with _lock:
        _listeners.append(cb)

    def remove() -> None:
        with _lock:
            if cb in _listeners:
                _listeners.remove(cb)
    return remove


def connect_audit(record: Callable[[Attempt], None]) -> Callable[[], None]:
    """Hand every refused attempt to `record` (the unlocked store's audit log) exactly once: the attempts made
    while no store was open (start-up, locked screen) are replayed now, later ones as they happen.
    Returns a function that disconnects the sink (on lock)."""
    global _audited
    delivering = threading.Lock()

    def deliver(_a: Attempt | None = None) -> None:
        global _audited
        with delivering:
            while True:
                with _lock:
                    if _audited >= len(_attempts):
                        return
                    a = _attempts[_audited]
                    _audited += 1
                try:
                    record(a)
                except Exception:
                    with _lock:
                        _audited -= 1  # not recorded: keep it for the next sink
                    return

    remove = add_listener(deliver)
    deliver()
    return remove


def offline_env_ok() -> dict[str, bool]:
    """Which offline/telemetry variables are set as the guard sets them (for selfcheck)."""
    return {k: os.environ.get(k) == v for k, v in OFFLINE_ENV.items()}


def disable_telemetry() -> None:
    """Both runtimes have a switch; ORT's is Windows ETW, turned off anyway. Only if already importable."""
    for mod in ("onnxruntime", "onnxruntime_genai"):
        try:
            m = __import__(mod)
            fn = getattr(m, "disable_telemetry_events", None)
            if fn:
                fn()
        except Exception:
            pass


def probe_network(host: str = "93.184.216.34", port: int = 443, name: str = "example.com",
                  timeout: float = 2.0) -> dict:
    """Really try an outbound TCP connect and a DNS lookup; report whether the guard refused each."""
    out: dict = {}
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
        out["network_blocked"], out["network_detail"] = False, "connected"
    except NetworkBlockedError as e:
        out["network_blocked"], out["network_detail"] = True, str(e)
    except OSError as e:
        # refused by the OS, not by us: the guard did not hold
        out["network_blocked"], out["network_detail"] = False, f"not refused by guard ({e.__class__.__name__})"
    finally:
        sock.close()
    try:
        socket.getaddrinfo(name, 443)
        out["dns_blocked"], out["dns_detail"] = False, "resolved"
    except NetworkBlockedError as e:
        out["dns_blocked"], out["dns_detail"] = True, str(e)
    except OSError as e:
        out["dns_blocked"], out["dns_detail"] = False, f"not refused by guard ({e.__class__.__name__})"
    return out
