"""Every Python-level way out is refused, including the ones that bypass the `socket` module's Python layer
(`_socket` itself, `sendmsg`, reverse lookups); the self-check probes each path and never leaves the process."""
from __future__ import annotations

import _socket
import json
import shutil
import socket
import subprocess
import sys

import pytest

from scribe import privacy
from scribe.errors import NetworkBlockedError

PUBLIC = ("93.184.216.34", 443)
GAPS = {
    "udp sendmsg with an address": lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendmsg(
        [b"x"], [], 0, ("8.8.8.8", 53)),
    "_socket.socket().connect": lambda: _socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(PUBLIC),
    "_socket.socket().sendto": lambda: _socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", PUBLIC),
    "gethostbyaddr": lambda: socket.gethostbyaddr("8.8.8.8"),
    "getnameinfo": lambda: socket.getnameinfo(("8.8.8.8", 53), 0),
    "_socket.getaddrinfo": lambda: _socket.getaddrinfo("example.com", 443),
    "_socket.gethostbyname": lambda: _socket.gethostbyname("example.com"),
    "ipv6 connect": lambda: socket.socket(socket.AF_INET6, socket.SOCK_STREAM).connect(("2606:4700::1", 443)),
}


@pytest.mark.parametrize("path", sorted(GAPS))
def test_gap_is_closed(guard, path):
    n = len(privacy.attempts())
    with pytest.raises(NetworkBlockedError):
        GAPS[path]()
    assert len(privacy.attempts()) == n + 1          # recorded for the audit trail


def test_audit_hook_alone_holds(guard):
    """Even with the Python-level patches undone (as a library re-binding socket methods would), the hook holds."""
    s = socket.socket
    patched = (s.connect, s.sendto, socket.getaddrinfo)
    s.connect, s.sendto, socket.getaddrinfo = (privacy._orig["connect"], privacy._orig["sendto"],
                                               privacy._orig["getaddrinfo"])
    try:
        res = privacy.probe_network()
        assert res["network_blocked"] and res["dns_blocked"], res
        with pytest.raises(NetworkBlockedError):
            socket.create_connection(PUBLIC, timeout=0.2)
    finally:
        s.connect, s.sendto, socket.getaddrinfo = patched


def test_loopback_and_unix_sockets_still_work(guard):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    c = socket.create_connection(srv.getsockname(), timeout=2)
    c.close()
    srv.close()
    a, b = socket.socketpair()
    a.sendmsg([b"hi"])
    assert b.recv(2) == b"hi"
    a.close()
    b.close()
    assert socket.getnameinfo(("127.0.0.1", 80), socket.NI_NUMERICHOST)[0] == "127.0.0.1"


def test_probe_reports_every_path_refused(guard):
    res = privacy.probe_network()
    assert res["network_blocked"] and res["dns_blocked"]
    assert set(res["paths"]) >= {"connect", "_socket.connect", "sendto", "sendmsg", "getaddrinfo",
                                 "_socket.getaddrinfo", "getnameinfo", "gethostbyname", "gethostbyaddr"}
    assert set(res["paths"].values()) == {"refused"}


def test_probe_without_guard_tries_nothing_and_says_false():
    was = privacy.guard_installed()
    privacy.uninstall_guard()
    try:
        res = privacy.probe_network()
        assert res["network_blocked"] is False and res["dns_blocked"] is False and res["paths"] == {}
        # and each probe is local by construction: unguarded, it fails or resolves inside the process
        for name, fn in privacy._probe_paths().items():
            try:
                fn()
            except OSError as e:
                assert not isinstance(e, NetworkBlockedError)
    finally:
        if was:
            privacy.install_guard()


def test_unguarded_probes_make_no_connect_syscall(tmp_path):
    if not shutil.which("strace"):
        pytest.skip("strace not installed")
    out = tmp_path / "trace.txt"
    code = ("from scribe import privacy\nfor f in privacy._probe_paths().values():\n try: f()\n except OSError: pass\n"
            "print(privacy.probe_network()['network_blocked'])")
    r = subprocess.run(["strace", "-f", "-e", "trace=connect,sendto,sendmsg", "-o", str(out), sys.executable, "-c",
                        code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "False", r.stderr
    calls = [ln for ln in out.read_text().splitlines() if "inet_addr" in ln and "127.0.0.1" not in ln]
    # an unguarded probe reaches the kernel only on a closed descriptor: EBADF, nothing can leave
    assert calls and all("(-1," in ln and "EBADF" in ln for ln in calls), calls
