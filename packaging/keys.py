#!/usr/bin/env python3
"""Release signing keys (Ed25519) for Scribe bundles.

    python packaging/keys.py generate [--out DIR] [--name scribe-release]   # new key pair (private file mode 0600)
    python packaging/keys.py show KEY_OR_PUB                                  # public key hex + fingerprint
    python packaging/keys.py pin KEY                                          # write packaging/release-key.pub

Tiny configuration: `generate --out /tmp/k` makes a throwaway pair (what the tests do).

The private key never enters the repository: `generate` refuses to write one inside a git working tree unless the
path is git-ignored, and nothing in packaging/ reads it from the tree. Set SCRIBE_SIGNING_PASSPHRASE to encrypt it
(PKCS#8, scrypt-based best available encryption). The public half is committed as packaging/release-key.pub
(`pin`) and stamped into each bundle's install.py by build.py.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["generate", "load_private", "public_raw", "read_public", "fingerprint", "sign", "KeyError_"]

HERE = Path(__file__).resolve().parent
RELEASE_PUB = HERE / "release-key.pub"
DEFAULT_DIR = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "scribe-signing"
PASS_ENV = "SCRIBE_SIGNING_PASSPHRASE"


class KeyError_(Exception):
    """One-line key problem (exit 2)."""


def fingerprint(public: bytes) -> str:
    # same formula as install.py's fingerprint(): the tests check they agree
    h = hashlib.sha256(public).hexdigest()[:32]
    return ":".join(h[i:i + 4] for i in range(0, 32, 4))


def _in_git_unignored(path: Path) -> bool:
    d = path.parent
    while not d.exists() and d != d.parent:
        d = d.parent
    try:
        top = subprocess.run(["git", "-C", str(d), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    except OSError:
        return False
    if top.returncode != 0:
        return False
    ign = subprocess.run(["git", "-C", top.stdout.strip(), "check-ignore", "-q", str(path)], capture_output=True)
    return ign.returncode != 0


def generate(out: Path, name: str = "scribe-release") -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    out = Path(out).resolve()
    priv_p, pub_p = out / f"{name}.key", out / f"{name}.pub"
    if _in_git_unignored(priv_p):
        raise KeyError_(f"{priv_p}: inside a git working tree and not ignored: private keys never go near the "
                        f"repository; use --out outside it (default {DEFAULT_DIR})")
    for p in (priv_p, pub_p):
        if p.exists():
            raise KeyError_(f"{p}: exists; refusing to overwrite a key")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pw = os.environ.get(PASS_ENV)
    enc = serialization.BestAvailableEncryption(pw.encode()) if pw else serialization.NoEncryption()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    fd = os.open(priv_p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    _write_pub(pub_p, public_raw(key))
    return priv_p, pub_p


def _write_pub(path: Path, raw: bytes) -> None:
    path.write_text(f"# Scribe release signing key (Ed25519, raw public key hex); fingerprint {fingerprint(raw)}\n"
                    f"{raw.hex()}\n")


def load_private(path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise KeyError_(f"{path}: cannot read signing key ({e.strerror})") from None
    pw = os.environ.get(PASS_ENV)
    try:
        key = serialization.load_pem_private_key(data, password=pw.encode() if pw else None)
    except TypeError:
        raise KeyError_(f"{path}: key is encrypted: set {PASS_ENV}") from None
    except ValueError:
        raise KeyError_(f"{path}: not a PEM private key, or wrong {PASS_ENV}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"{path}: not an Ed25519 key")
    return key


def public_raw(key) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def read_public(path: Path) -> bytes:
    """A .pub file (hex, '#' comments) or a private key file."""
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError):
        raise KeyError_(f"{path}: cannot read key") from None
    if "PRIVATE KEY" in text:
        return public_raw(load_private(path))
    hexs = "".join(ln.strip() for ln in text.splitlines() if not ln.strip().startswith("#"))
    try:
        raw = bytes.fromhex(hexs)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise KeyError_(f"{path}: not an Ed25519 public key (want 64 hex digits)")
    return raw


def sign(key, data: bytes) -> bytes:
    return key.sign(data)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python packaging/keys.py", description="Scribe release signing keys.")
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    g = sub.add_parser("generate", help="make a new Ed25519 key pair")
    g.add_argument("--out", type=Path, default=DEFAULT_DIR, help=f"folder for NAME.key/NAME.pub (default {DEFAULT_DIR})")
    g.add_argument("--name", default="scribe-release", help="file stem (default scribe-release)")
    s = sub.add_parser("show", help="print a key's public hex and fingerprint")
    s.add_argument("key", type=Path, help="NAME.key or NAME.pub")
    p = sub.add_parser("pin", help=f"commit-ready: write {RELEASE_PUB.name} from a key (the release key)")
    p.add_argument("key", type=Path, help="NAME.key or NAME.pub")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "generate":
            priv, pub = generate(args.out, args.name)
            raw = read_public(pub)
            print(f"private key: {priv} (mode 0600{', encrypted' if os.environ.get(PASS_ENV) else ', NOT encrypted: set ' + PASS_ENV + ' to encrypt'})")
            print(f"public key:  {pub}\nfingerprint: {fingerprint(raw)}")
        elif args.cmd == "show":
            raw = read_public(args.key)
            print(f"{raw.hex()}\nfingerprint: {fingerprint(raw)}")
        else:
            raw = read_public(args.key)
            _write_pub(RELEASE_PUB, raw)
            print(f"wrote {RELEASE_PUB} (fingerprint {fingerprint(raw)}); commit it and publish the fingerprint")
        return 0
    except KeyError_ as e:
        print(f"keys.py: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
