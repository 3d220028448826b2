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
import sys
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


# Audit events raised by CPython's C socket module itself (_socket), so no Python-level detour
# (`_socket.socket().connect`, `sendmsg`, `_socket.getaddrinfo`, reverse lookups) gets past them. Value: how to
# find (host, port) in the event's arguments.
_NET_EVENTS = {"socket.connect": "sock", "socket.sendto": "sock", "socket.sendmsg": "sock"}
_DNS_EVENTS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr", "socket.getnameinfo"}
_hook_on = False
_hook_added = False


def _audit_hook(event: str, args: tuple) -> None:
    # runs for every audited event in the process (imports, opens, …): leave at the first cheap test
    if not _hook_on or not event.startswith("socket."):
        return
    if event in _NET_EVENTS:
        sock, address = args[0], args[1]
        if address is None:          # sendmsg on a connected socket: its connect was checked
            return
        family = getattr(sock, "family", None)
        if family in (socket.AF_INET, socket.AF_INET6):
            _check_host("connect" if event == "socket.connect" else event.split(".")[1], address)
    elif event in _DNS_EVENTS:
        host = args[0]
        if event == "socket.getnameinfo":        # args: (sockaddr,)
            host = host[0] if isinstance(host, tuple) and host else host
        elif event == "socket.gethostbyaddr" and isinstance(host, tuple):
            host = host[0] if host else None
        if not _is_loopback(host):
            _refuse("dns", host, args[1] if event == "socket.getaddrinfo" and isinstance(args[1], int) else None)


def _check_host(kind: str, address) -> None:
    host, port = (address[0], address[1]) if isinstance(address, tuple) and len(address) >= 2 else (address, None)
    if not _is_loopback(host):
        _refuse(kind, host, port)


def install_guard() -> None:
    """Idempotent. Sets offline env vars, disables telemetry, patches the socket module and adds an audit hook
    on the C socket module's own events (an audit hook cannot be removed; `uninstall_guard` switches it off)."""
    global _hook_on, _hook_added
    for k, v in OFFLINE_ENV.items():
        os.environ[k] = v
    if not _hook_added:
        sys.addaudithook(_audit_hook)
        _hook_added = True
    _hook_on = True
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
    """For tests only: restore the socket module and switch the audit hook off."""
    global _hook_on
    _hook_on = False
    if not _orig:
        return
    s = socket.socket
    s.connect, s.connect_ex, s.sendto = _orig["connect"], _orig["connect_ex"], _orig["sendto"]
    socket.getaddrinfo = _orig["getaddrinfo"]
    socket.gethostbyname, socket.gethostbyname_ex = _orig["gethostbyname"], _orig["gethostbyname_ex"]
    _orig.clear()


def guard_installed() -> bool:
    return bool(_orig) and _hook_on


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


# TEST-NET-1 (RFC 5737): never routed. The probes below are built so that even an unguarded path fails inside
# this process before any packet or DNS query could leave (closed socket, numeric-only lookups).
_PROBE_HOST, _PROBE_PORT = "192.0.2.1", 9


def _probe_paths() -> dict[str, Callable[[], object]]:
    import _socket

    def closed(family=socket.AF_INET, kind=socket.SOCK_DGRAM, raw=False):
        s = (_socket.socket if raw else socket.socket)(family, kind)
        s.close()          # fd -1: an unguarded call ends in EBADF, never on the wire
        return s

    addr = (_PROBE_HOST, _PROBE_PORT)
    return {
        "connect": lambda: closed(kind=socket.SOCK_STREAM).connect(addr),
        "connect_ex": lambda: closed(kind=socket.SOCK_STREAM).connect_ex(addr),
        "_socket.connect": lambda: closed(kind=socket.SOCK_STREAM, raw=True).connect(addr),
        "sendto": lambda: closed().sendto(b"", addr),
        "sendmsg": lambda: closed().sendmsg([b""], [], 0, addr),
        "_socket.sendto": lambda: closed(raw=True).sendto(b"", addr),
        # lookups: numeric flags resolve locally if unguarded; the reverse/forward name lookups cannot be made
        # local, so their audit events are raised directly, exactly as CPython's _socket raises them
        "getaddrinfo": lambda: socket.getaddrinfo(_PROBE_HOST, _PROBE_PORT, flags=socket.AI_NUMERICHOST),
        "_socket.getaddrinfo": lambda: _socket.getaddrinfo(_PROBE_HOST, _PROBE_PORT, 0, 0, 0,
                                                           socket.AI_NUMERICHOST),
        "getnameinfo": lambda: socket.getnameinfo(addr, socket.NI_NUMERICHOST | socket.NI_NUMERICSERV),
        "gethostbyname": lambda: sys.audit("socket.gethostbyname", ("scribe-probe.invalid",)),
        "gethostbyaddr": lambda: sys.audit("socket.gethostbyaddr", (_PROBE_HOST,)),
    }


_DNS_PATHS = {"getaddrinfo", "_socket.getaddrinfo", "getnameinfo", "gethostbyname", "gethostbyaddr"}


def probe_network(timeout: float | None = None) -> dict:
    """Try every path the guard claims to block, each built to stay inside this process even if the guard let
    it through; report whether the guard refused each. Without the guard nothing is tried: it reports false.
    (`timeout` is accepted for existing callers; no probe waits on anything.)"""
    if not guard_installed():
        why = "guard not installed; nothing was tried"
        return {"network_blocked": False, "network_detail": why, "dns_blocked": False, "dns_detail": why,
                "paths": {}}
    paths: dict[str, str] = {}
    first: dict[bool, str] = {}
    for name, fn in _probe_paths().items():
        try:
            fn()
            paths[name] = "NOT refused"
        except NetworkBlockedError as e:   # recorded like any attempt: the audit trail shows the probe ran
            paths[name] = "refused"
            first.setdefault(name in _DNS_PATHS, str(e))
        except OSError as e:
            paths[name] = f"NOT refused by guard ({e.__class__.__name__})"
    net = {k: v for k, v in paths.items() if k not in _DNS_PATHS}
    dns = {k: v for k, v in paths.items() if k in _DNS_PATHS}
    bad_net = [k for k, v in net.items() if v != "refused"]
    bad_dns = [k for k, v in dns.items() if v != "refused"]
    return {"network_blocked": not bad_net,
            "network_detail": (f"{len(net)} paths refused ({first.get(False)})" if not bad_net
                               else "not refused: " + ", ".join(bad_net)),
            "dns_blocked": not bad_dns,
            "dns_detail": (f"{len(dns)} paths refused ({first.get(True)})" if not bad_dns
                           else "not refused: " + ", ".join(bad_dns)),
            "paths": paths}
