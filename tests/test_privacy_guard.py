"""Network lockdown, tried for real: with the guard on, a connect to a public address and a DNS lookup both fail
with the guard's error (before any packet is sent), loopback still works, attempts land in the audit trail, and
`selfcheck --json` reports it all. Under strace, the refused attempts never reach the kernel."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from scribe import privacy
from scribe.config import DEFAULT_ASR_MODEL
from scribe.errors import NetworkBlockedError

PASS = "privacy test passphrase"


def test_public_connect_and_dns_refused_by_guard(guard):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    with pytest.raises(NetworkBlockedError, match="offline"):
        s.connect(("1.1.1.1", 443))
    s.close()
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    with pytest.raises(NetworkBlockedError):
        s6.connect(("2606:4700:4700::1111", 443, 0, 0))
    s6.close()
    with pytest.raises(NetworkBlockedError):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(NetworkBlockedError):
        socket.gethostbyname("pypi.org")
    with pytest.raises(NetworkBlockedError):
        socket.create_connection(("example.org", 80), timeout=2)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    with pytest.raises(NetworkBlockedError):
        u.sendto(b"x", ("8.8.8.8", 53))
    u.close()
    kinds = {(a.kind, a.host) for a in privacy.attempts()}
    assert ("connect", "1.1.1.1") in kinds and ("dns", "example.com") in kinds and ("sendto", "8.8.8.8") in kinds


def test_loopback_still_works(guard):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    c = socket.create_connection(("localhost", port), timeout=5)
    conn, _ = srv.accept()
    c.sendall(b"ping")
    assert conn.recv(4) == b"ping"
    for x in (c, conn, srv):
        x.close()


def test_offline_variables_set(guard):
    assert all(privacy.offline_env_ok().values())
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_blocked_attempts_are_audited_once(guard, tmp_path, scribe_home):
    from scribe.app import ScribeApp
    from scribe.config import Settings
    s = Settings()
    s.autolock_minutes = 0
    with pytest.raises(NetworkBlockedError):
        socket.getaddrinfo("attempt-while-locked.example", 80)   # before unlock: replayed at unlock
    app = ScribeApp(s, db_path=tmp_path / "p.db")
    app.create_store(PASS)
    try:
        with pytest.raises(NetworkBlockedError):
            socket.socket().connect(("203.0.113.7", 8443))          # while unlocked: recorded as it happens
        evs = [e for e in app.audit_events() if e.action == "network-blocked"]
        hosts = [e.detail["host"] for e in evs]
        assert "attempt-while-locked.example" in hosts and "203.0.113.7" in hosts
        assert hosts.count("203.0.113.7") == 1 and hosts.count("attempt-while-locked.example") == 1
        assert app.verify_audit().ok
    finally:
        app.lock()


def _cli_env(home: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "SCRIBE_DB"}
    env.update(SCRIBE_HOME=str(home), SCRIBE_PASSPHRASE=PASS, **extra)
    return env


def test_selfcheck_json(tmp_path):
    home = tmp_path / "h"
    env = _cli_env(home)
    r = subprocess.run([sys.executable, "-m", "scribe", "store", "init"], env=env, capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "scribe", "selfcheck", "--json"], env=env, capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, timeout=300)
    out = json.loads(r.stdout)
    assert out["network_blocked"] is True and out["dns_blocked"] is True
    assert "offline" in out["details"]["network"] and "offline" in out["details"]["dns"]
    assert out["guard_installed"] and out["offline_env"]
    assert "CPUExecutionProvider" in out["providers"]
    assert out["models"][DEFAULT_ASR_MODEL] == "verified"
    assert out["store_integrity"]["pages_ok"] and out["store_integrity"]["audit_ok"]
    assert r.returncode == (0 if out["ok"] else 2)
    # the probes themselves were recorded in the store's audit trail
    r = subprocess.run([sys.executable, "-m", "scribe", "audit", "log", "--json"], env=env, capture_output=True,
                       text=True, stdin=subprocess.DEVNULL, timeout=120)
    evs = [json.loads(x) for x in r.stdout.splitlines()]
    assert {e["detail"].get("kind") for e in evs if e["action"] == "network-blocked"} >= {"connect", "dns"}


_CONNECT = re.compile(r"connect\(\d+, \{sa_family=(AF_INET6?),(.*?)\}")


def non_loopback_connects(trace: str) -> list[str]:
    """connect() syscalls to anything but loopback (AF_UNIX and friends are local by construction)."""
    bad = []
    for m in _CONNECT.finditer(trace):
        fam, rest = m.group(1), m.group(2)
        if fam == "AF_INET":
            addr = re.search(r'inet_addr\("([^"]+)"\)', rest)
            if not addr or not addr.group(1).startswith("127."):
                bad.append(m.group(0))
        else:
            addr = re.search(r'inet_pton\(AF_INET6, "([^"]+)"', rest)
            a = addr.group(1) if addr else ""
            if a not in ("::1",) and not a.startswith("::ffff:127."):
                bad.append(m.group(0))
    return bad


def test_strace_parser_sees_a_real_connect(tmp_path):
    """The parser is not vacuous: an unguarded process's real (failing) connect to a public address is caught."""
    if not shutil.which("strace"):
        pytest.skip("strace not installed")
    out = tmp_path / "t.txt"
    code = "import socket; s=socket.socket(); s.settimeout(0.2)\ntry: s.connect(('192.0.2.1', 9))\nexcept OSError: pass"
    subprocess.run(["strace", "-f", "-e", "trace=connect", "-o", str(out), sys.executable, "-c", code], timeout=60)
    assert non_loopback_connects(out.read_text())


def test_selfcheck_under_strace_makes_no_connect(tmp_path):
    if not shutil.which("strace"):
        pytest.skip("strace not installed")
    out = tmp_path / "trace.txt"
    r = subprocess.run(["strace", "-f", "-e", "trace=connect", "-o", str(out), sys.executable, "-m", "scribe",
                        "selfcheck", "--json"], env=_cli_env(tmp_path / "h"), capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=300)
    assert json.loads(r.stdout)["network_blocked"] is True
    assert non_loopback_connects(out.read_text()) == []
