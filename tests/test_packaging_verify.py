"""Installer refusals on small synthetic bundles (fast): every tampering is one line naming the file, exit 2, and
nothing is written to the prefix. The same refusals on the real bundle are in test_packaging_bundle.py (slow)."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

INSTALL = Path(__file__).resolve().parent.parent / "packaging" / "install.py"
PLATFORM = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)


def _pub(k) -> str:
    return k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def sign_manifest(bundle: Path, key, man: dict) -> None:
    raw = (json.dumps(man, indent=1) + "\n").encode()
    (bundle / "bundle.json").write_bytes(raw)
    (bundle / "bundle.json.sig").write_text(base64.b64encode(key.sign(raw)).decode() + "\n")


def tiny_app_wheel(version: str = "0.0.0") -> bytes:
    """A real, installable `scribe` wheel of a few hundred bytes: lets the whole install path run in seconds."""
    import io
    import zipfile
    files = {"scribe/__init__.py": f"__version__ = {version!r}\n".encode(),
             "scribe/__main__.py": b"import sys\nprint('tiny scribe', *sys.argv[1:])\n",
             f"scribe-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: scribe\nVersion: {version}\n".encode(),
             f"scribe-{version}.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                                                  b"Tag: py3-none-any\n"}
    record = "".join(f"{n},sha256={base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()},"
                     f"{len(d)}\n" for n, d in files.items()) + f"scribe-{version}.dist-info/RECORD,,\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, d in files.items():
            z.writestr(n, d)
        z.writestr(f"scribe-{version}.dist-info/RECORD", record)
    return buf.getvalue()


def make_bundle(root: Path, key, platform: str = PLATFORM, extra_entries: list | None = None,
                version: str = "0.0.0", name: str = "bundle") -> Path:
    b = root / name
    files = {"wheels/demo-1.0-py3-none-any.whl": os.urandom(4096), "models/m/manifest.json": b'{"name": "m"}\n',
             "models/m/weights.bin": os.urandom(10000), "templates/soap.yaml": b"id: soap\n"}
    if version != "0.0.0":
        files = {k: v for k, v in files.items() if "demo" not in k}
        files[f"wheels/scribe-{version}-py3-none-any.whl"] = tiny_app_wheel(version)
    for rel, data in files.items():
        (b / rel).parent.mkdir(parents=True, exist_ok=True)
        (b / rel).write_bytes(data)
    entries = [{"path": rel, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)} for rel, d in files.items()]
    man = {"format": "scribe-bundle/1", "app": {"name": "scribe", "version": version}, "platform": platform,
           "python": "%d.%d" % sys.version_info[:2], "files": entries + (extra_entries or [])}
    sign_manifest(b, key, man)
    return b


def run_installer(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(INSTALL), *map(str, args)], capture_output=True, text=True)


@pytest.fixture()
def key():
    return Ed25519PrivateKey.generate()


def assert_refused(r: subprocess.CompletedProcess, names: str, prefix: Path | None = None) -> None:
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("install.py: error: "), r.stderr
    assert names in lines[0]
    assert "Traceback" not in r.stderr
    if prefix is not None:
        assert not prefix.exists(), "a refused bundle must leave nothing installed"


def test_untouched_bundle_verifies(tmp_path, key):
    b = make_bundle(tmp_path, key)
    r = run_installer(b, "--verify-only", "--pubkey", _pub(key))
    assert r.returncode == 0, r.stderr
    assert "verified: scribe 0.0.0" in r.stdout
    # the same key as a keys.py-style .pub file (comment line + hex)
    (tmp_path / "k.pub").write_text(f"# Scribe release signing key\n{_pub(key)}\n")
    r = run_installer(b, "--verify-only", "--pubkey", tmp_path / "k.pub")
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("rel", ["wheels/demo-1.0-py3-none-any.whl", "models/m/weights.bin", "templates/soap.yaml"])
def test_flipped_byte_is_refused_naming_the_file(tmp_path, key, rel):
    b = make_bundle(tmp_path, key)
    data = bytearray((b / rel).read_bytes())
    data[len(data) // 2] ^= 0x01
    (b / rel).write_bytes(bytes(data))
    prefix = tmp_path / "prefix"
    assert_refused(run_installer(b, "--prefix", prefix, "--pubkey", _pub(key)), rel, prefix)


def test_tampered_manifest_is_refused(tmp_path, key):
    b = make_bundle(tmp_path, key)
    raw = (b / "bundle.json").read_bytes().replace(b'"0.0.0"', b'"0.0.1"')
    (b / "bundle.json").write_bytes(raw)
    prefix = tmp_path / "prefix"
    assert_refused(run_installer(b, "--prefix", prefix, "--pubkey", _pub(key)), "bundle.json.sig", prefix)


def test_signature_from_another_key_is_refused(tmp_path, key):
    b = make_bundle(tmp_path, key)
    other = Ed25519PrivateKey.generate()
    (b / "bundle.json.sig").write_text(base64.b64encode(other.sign((b / "bundle.json").read_bytes())).decode())
    prefix = tmp_path / "prefix"
    assert_refused(run_installer(b, "--prefix", prefix, "--pubkey", _pub(key)), "does not match its signature", prefix)
    (b / "bundle.json.sig").write_text("not base64 at all!\n")
    assert_refused(run_installer(b, "--verify-only", "--pubkey", _pub(key)), "bundle.json.sig")


def test_missing_extra_and_symlinked_files_are_refused(tmp_path, key):
    b = make_bundle(tmp_path, key)
    prefix = tmp_path / "prefix"
    (b / "models/m/weights.bin").rename(tmp_path / "weights.bin")
    assert_refused(run_installer(b, "--prefix", prefix, "--pubkey", _pub(key)), "models/m/weights.bin: missing",
                   prefix)
    (b / "models/m/weights.bin").symlink_to(tmp_path / "weights.bin")
    assert_refused(run_installer(b, "--prefix", prefix, "--pubkey", _pub(key)), "symlink refused", prefix)
    (b / "models/m/weights.bin").unlink()
    (tmp_path / "weights.bin").rename(b / "models/m/weights.bin")
    # an unlisted wheel would otherwise be visible to pip --find-links
    (b / "wheels" / "evil-9.9-py3-none-any.whl").write_bytes(b"PK")
    assert_refused(run_installer(b, "--prefix", prefix, "--pubkey", _pub(key)),
                   "evil-9.9-py3-none-any.whl: not listed", prefix)
    (b / "bundle.json.sig").unlink()
    assert_refused(run_installer(b, "--prefix", prefix, "--pubkey", _pub(key)), "bundle.json.sig: missing", prefix)


@pytest.mark.parametrize("bad", ["../outside.txt", "/etc/passwd", "models/../../x", "C:/x", "a\\b"])
def test_validly_signed_unsafe_paths_are_refused(tmp_path, key, bad):
    # defence in depth: even the holder of the key cannot make the installer read outside the bundle
    b = make_bundle(tmp_path, key, extra_entries=[{"path": bad, "sha256": "0" * 64, "size": 0}])
    assert_refused(run_installer(b, "--verify-only", "--pubkey", _pub(key)), "unsafe path")


@pytest.mark.parametrize("entry", [{"path": "x", "sha256": "0" * 64, "size": "10"},
                                   {"path": "x", "sha256": "abc", "size": 1},
                                   {"path": "templates/soap.yaml", "sha256": "0" * 64, "size": 1}])
def test_validly_signed_malformed_entries_are_refused_without_traceback(tmp_path, key, entry):
    b = make_bundle(tmp_path, key, extra_entries=[entry])
    assert_refused(run_installer(b, "--verify-only", "--pubkey", _pub(key)), "bad or duplicate entry")


def test_bundle_for_another_platform_is_refused_before_install(tmp_path, key):
    other = "windows" if PLATFORM != "windows" else "linux"
    b = make_bundle(tmp_path, key, platform=other)
    assert run_installer(b, "--verify-only", "--pubkey", _pub(key)).returncode == 0  # verifying elsewhere is fine
    prefix = tmp_path / "prefix"
    assert_refused(run_installer(b, "--prefix", prefix, "--pubkey", _pub(key)), f"bundle is for {other}", prefix)


def test_source_installer_has_no_pinned_key_and_says_so(tmp_path, key):
    b = make_bundle(tmp_path, key)
    assert_refused(run_installer(b, "--verify-only"), "--pubkey")
    assert_refused(run_installer(b, "--verify-only", "--pubkey", "00" * 32), "not a valid Ed25519 key")


def test_refuses_to_install_over_or_uninstall_a_foreign_folder(tmp_path, key):
    b = make_bundle(tmp_path, key)
    foreign = tmp_path / "documents"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    assert_refused(run_installer(b, "--prefix", foreign, "--pubkey", _pub(key)), "not a Scribe installation")
    assert_refused(run_installer("--uninstall", "--prefix", foreign), "not a Scribe installation")
    assert (foreign / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_a_failed_install_rolls_back_and_restores_the_previous_one(tmp_path, key):
    # the synthetic bundle verifies but its wheels cannot be installed: the failure comes late (after the prefix
    # and a virtualenv exist), which is exactly when a half-written prefix would otherwise be left behind
    b = make_bundle(tmp_path, key)
    fresh = tmp_path / "fresh"
    r = run_installer(b, "--prefix", fresh, "--pubkey", _pub(key))
    assert_refused(r, "pip install scribe==0.0.0", fresh)
    empty = tmp_path / "empty"
    empty.mkdir()   # an operator-made, empty folder is used, and emptied again on failure
    assert_refused(run_installer(b, "--prefix", empty, "--pubkey", _pub(key)), "pip install")
    assert empty.is_dir() and not list(empty.iterdir())
    empty.rmdir()
    old = tmp_path / "old"
    old.mkdir()
    (old / "install-record.json").write_text('{"entries": ["venv"]}')
    (old / "venv").mkdir()
    (old / "venv" / "still-here").write_text("previous version")
    assert_refused(run_installer(b, "--prefix", old, "--pubkey", _pub(key)), "pip install")
    assert (old / "venv" / "still-here").read_text() == "previous version"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "old"]   # no staging or .previous left over


@pytest.mark.slow
def test_install_upgrade_and_uninstall_with_a_tiny_app(tmp_path, key):
    """The whole success path (venv, offline pip, launcher, record, upgrade in place, uninstall) on a tiny wheel."""
    prefix = tmp_path / "prefix"
    r = run_installer(make_bundle(tmp_path, key, version="1.0.0", name="b1"), "--prefix", prefix, "--pubkey", _pub(key))
    assert r.returncode == 0, r.stderr
    rec = json.loads((prefix / "install-record.json").read_text())
    assert rec["app"]["version"] == "1.0.0" and rec["selfcheck"] == "absent"   # the tiny app has no selfcheck
    assert (prefix / "models/m/weights.bin").exists() and (prefix / "templates/soap.yaml").exists()
    assert (prefix / "lib/install.py").read_bytes() == INSTALL.read_bytes()   # the installer that ran
    out = subprocess.run([prefix / "bin/scribe", "hello"], capture_output=True, text=True)
    assert out.stdout.strip() == "tiny scribe hello"
    (prefix / "notes-of-mine.txt").write_text("kept")   # something the installer did not put there
    r = run_installer(make_bundle(tmp_path, key, version="1.1.0", name="b2"), "--prefix", prefix, "--pubkey", _pub(key))
    assert r.returncode == 0, r.stderr
    assert json.loads((prefix / "install-record.json").read_text())["app"]["version"] == "1.1.0"
    assert not [p for p in tmp_path.iterdir() if ".previous-" in p.name]
    r = subprocess.run([prefix / "bin/scribe-uninstall"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert (prefix / "notes-of-mine.txt").read_text() == "kept"   # carried over the upgrade, kept by uninstall
    assert sorted(p.name for p in prefix.iterdir()) == ["notes-of-mine.txt"]
