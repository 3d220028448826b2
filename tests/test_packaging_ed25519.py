"""The installer's pure-Python Ed25519 verifier against RFC 8032 vectors and the `cryptography` library (OpenSSL)."""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PKG = Path(__file__).resolve().parent.parent / "packaging"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"_pkg_test_{name}", PKG / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


inst = _load("install")
keys = _load("keys")

# RFC 8032 section 7.1, TEST 1, 2 and 3: (secret seed, public key, message, signature)
RFC_VECTORS = [
    ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
    ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]


def _raw_pub(k: Ed25519PrivateKey) -> bytes:
    return k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@pytest.mark.parametrize("seed,pub,msg,sig", RFC_VECTORS)
def test_rfc8032_vectors(seed, pub, msg, sig):
    k = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(seed))
    # the vectors as written here are what OpenSSL derives and signs (Ed25519 is deterministic)
    assert _raw_pub(k).hex() == pub
    assert k.sign(bytes.fromhex(msg)).hex() == sig
    assert inst.ed25519_verify(bytes.fromhex(pub), bytes.fromhex(msg), bytes.fromhex(sig))
    assert not inst.ed25519_verify(bytes.fromhex(pub), bytes.fromhex(msg) + b"\0", bytes.fromhex(sig))


def test_agrees_with_openssl_on_random_keys_and_rejects_changes():
    for i in range(24):
        k = Ed25519PrivateKey.generate()
        pub, msg = _raw_pub(k), os.urandom(i * 37)
        sig = k.sign(msg)
        assert inst.ed25519_verify(pub, msg, sig)
        for pos in (0, 31, 32, 63):   # R and S halves
            bad = bytearray(sig)
            bad[pos] ^= 0x01
            assert not inst.ed25519_verify(pub, msg, bytes(bad))
        if msg:
            assert not inst.ed25519_verify(pub, bytes([msg[0] ^ 1]) + msg[1:], sig)
        other = _raw_pub(Ed25519PrivateKey.generate())
        assert not inst.ed25519_verify(other, msg, sig)


def test_rejects_malleable_and_malformed_signatures():
    k = Ed25519PrivateKey.generate()
    pub, msg = _raw_pub(k), b"bundle.json bytes"
    sig = k.sign(msg)
    s = int.from_bytes(sig[32:], "little")
    # S + L verifies under the bare group equation; RFC 8032 requires rejecting it (so does OpenSSL)
    malleated = sig[:32] + (s + inst._L).to_bytes(32, "little")
    assert not inst.ed25519_verify(pub, msg, malleated)
    assert not inst.ed25519_verify(pub, msg, sig[:63])
    assert not inst.ed25519_verify(pub[:31], msg, sig)
    assert not inst.ed25519_verify(pub, msg, b"\0" * 64)
    # a y coordinate >= p is a non-canonical encoding: not a point
    assert inst._decompress((2 ** 255 - 1).to_bytes(32, "little")) is None


def test_fingerprints_agree_between_keys_and_installer():
    pub = _raw_pub(Ed25519PrivateKey.generate())
    assert inst.fingerprint(pub) == keys.fingerprint(pub)
    assert len(inst.fingerprint(pub).split(":")) == 8
