"""Signing keys: `keys.py generate` and build.py's refusal to sign with anything but the pinned release key."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "packaging"


def run(script: str, *args, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PKG / script), *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))


def one_line_error(r: subprocess.CompletedProcess, prog: str) -> str:
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{prog}: error: ") and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def test_generate_makes_a_private_0600_key_and_a_public_file(tmp_path):
    r = run("keys.py", "generate", "--out", tmp_path / "k")
    assert r.returncode == 0, r.stderr
    priv, pub = tmp_path / "k" / "scribe-release.key", tmp_path / "k" / "scribe-release.pub"
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in priv.read_bytes()
    hexline = [ln for ln in pub.read_text().splitlines() if not ln.startswith("#")][0]
    assert len(bytes.fromhex(hexline)) == 32
    shown = run("keys.py", "show", priv)
    assert shown.returncode == 0 and hexline in shown.stdout   # public half derived from the private key
    assert "refusing to overwrite" in one_line_error(run("keys.py", "generate", "--out", tmp_path / "k"), "keys.py")


def test_generate_refuses_to_put_a_private_key_in_a_git_tree(tmp_path):
    repo = tmp_path / "repo"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    msg = one_line_error(run("keys.py", "generate", "--out", repo / "keys"), "keys.py")
    assert "git working tree" in msg
    assert not (repo / "keys" / "scribe-release.key").exists()
    # an ignored folder is acceptable (e.g. a secrets mount inside a CI checkout)
    (repo / ".gitignore").write_text("secrets/\n")
    assert run("keys.py", "generate", "--out", repo / "secrets").returncode == 0


def test_passphrase_encrypts_the_private_key(tmp_path):
    env = {"SCRIBE_SIGNING_PASSPHRASE": "correct horse battery staple"}
    assert run("keys.py", "generate", "--out", tmp_path, env=env).returncode == 0
    priv = tmp_path / "scribe-release.key"
    assert b"ENCRYPTED PRIVATE KEY" in priv.read_bytes()
    assert run("keys.py", "show", priv, env=env).returncode == 0
    assert "SCRIBE_SIGNING_PASSPHRASE" in one_line_error(
        run("keys.py", "show", priv, env={"SCRIBE_SIGNING_PASSPHRASE": ""}), "keys.py")


def test_build_refuses_a_key_that_is_not_the_pinned_release_key(tmp_path):
    assert run("keys.py", "generate", "--out", tmp_path).returncode == 0
    r = run("build.py", "--out", tmp_path / "bundle", "--key", tmp_path / "scribe-release.key")
    msg = one_line_error(r, "build.py")
    assert "release-key.pub" in msg and "--test-key" in msg
    assert not (tmp_path / "bundle").exists()
    msg = one_line_error(run("build.py", "--out", tmp_path / "b2", "--test-key", env={"SCRIBE_SIGNING_KEY": ""}),
                         "build.py")
    assert "no signing key" in msg
