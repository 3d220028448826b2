"""Store benchmark: what encryption, the KDF and crash safety cost, against the same code on unencrypted SQLite.

    .venv/bin/python bench/store.py [--notes 200] [--crash-runs 100] [--note-words 400]

Tiny configuration: `--notes 20 --crash-runs 5 --wal-damage-runs 5`. Measures, on a real file in a temporary folder:
  saves/s     (median of interleaved rounds) records.create_note (one BEGIN IMMEDIATE transaction: note + version + encounter + audit event,
              WAL, synchronous=FULL) on SQLCipher  vs  the identical code on the same sqlcipher3 module without a
              key (plain SQLite: the peer)
  open        Store.open with the production KDF (PBKDF2-HMAC-SHA512, 256,000 iterations) and with a raw key
              (no KDF): the difference is the KDF's cost; plus the page-HMAC + quick_check cost on open
  kdf peers   Argon2id (cryptography; m=64 MiB, t=3, p=4 and OWASP m=19 MiB, t=2) for the same passphrase
  crash       a child process saving notes is SIGKILLed at random moments; after each kill the store is opened,
              checked, and every note whose save had returned is compared by sha256 (losses must be 0)
  wal damage  the same, then the WAL left behind is byte-flipped, truncated or deleted: every reported save must
              be found, or its loss reported at unlock (commit anchor); silent losses must be 0
Prints a table and a final JSON line; writes bench/results/store.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scribe.store import Store, StoreOptions, records  # noqa: E402
from scribe.store.db import DEFAULT_KDF_ITER, Database  # noqa: E402
from scribe.store.migrations import migrate  # noqa: E402
from scribe.types import Note  # noqa: E402

PASS = "bench passphrase for the store"
sys.path.insert(0, str(ROOT / "tools"))
from crash_writer import RAW_KEY as RAW, kill_during_writes  # noqa: E402  (the crash test's writer too)
WORDS = ["fever", "cough", "38.1", "mg", "plan", "review", "amoxicillin", "daily", "pain", "throat"]


def _note(rnd: random.Random, words: int) -> Note:
    body = " ".join(rnd.choice(WORDS) for _ in range(words))
    return Note("soap", {"plan": body}, markdown="# SOAP\n" + body)


def _plain_db(path: Path) -> Database:
    """The peer: the same module and code path, no key → ordinary unencrypted SQLite with the same pragmas."""
    import sqlcipher3
    conn = sqlcipher3.connect(str(path), isolation_level=None, check_same_thread=False)
    for p in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON", "secure_delete = ON",
              "temp_store = MEMORY"):
        conn.execute(f"PRAGMA {p}")
    db = Database(path, conn, StoreOptions())
    migrate(db)
    return db


def bench_saves(db: Database, n: int, words: int) -> float:
    rnd = random.Random(7)
    enc = records.create_encounter(db, None, "bench", "soap", actor="bench")
    notes = [_note(rnd, words) for _ in range(n)]
    t0 = time.perf_counter()
    for nt in notes:
        records.create_note(db, enc.id, nt, actor="bench")
    return n / (time.perf_counter() - t0)


def bench_open(path: Path, reps: int, **kw) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        st = Store.open(path, PASS, **kw)
        times.append(time.perf_counter() - t0)
        st.db.close()
    return statistics.median(times)


def bench_argon2() -> dict[str, float]:
    try:
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
    except ImportError:
        return {}
    out = {}
    for name, kw in (("argon2id_m64MiB_t3_p4", dict(iterations=3, lanes=4, memory_cost=65536)),
                     ("argon2id_m19MiB_t2_p1", dict(iterations=2, lanes=1, memory_cost=19456))):
        ts = []
        for _ in range(3):
            t0 = time.perf_counter()
            Argon2id(salt=os.urandom(16), length=32, **kw).derive(PASS.encode())
            ts.append(time.perf_counter() - t0)
        out[name] = statistics.median(ts)
    return out


def bench_crash(folder: Path, runs: int) -> dict:
    db = folder / "crash.db"
    Store.create(db, "", raw_key=RAW, actor="crash").db.close()
    rnd = random.Random(99)
    committed: dict[int, str] = {}
    losses = integrity_failures = 0
    t0 = time.perf_counter()
    for run in range(runs):
        for nid, ver, sha in kill_during_writes(db, run, rnd.uniform(0.0, 0.25)):
            if ver == 1:
                committed[nid] = sha
        try:
            st = Store.open(db, "", raw_key=RAW, actor="verifier")
        except Exception:
            integrity_failures += 1
            continue
        try:
            if st.integrity_problems() or not st.verify_audit().ok:
                integrity_failures += 1
            with st.db.read() as cur:
                stored = {n: h for n, h in cur.execute("SELECT note_id, sha256 FROM note_versions WHERE version=1")}
            losses += sum(1 for nid, sha in committed.items() if stored.get(nid) != sha)
        finally:
            st.db.close()
    return {"runs": runs, "notes_committed": len(committed), "losses": losses,
            "integrity_failures": integrity_failures, "seconds": round(time.perf_counter() - t0, 1)}


def _damage_wal(db: Path, rnd: random.Random, case: str) -> str:
    """One torn-write case on the WAL the killed writer left: a byte flip at a random offset, a truncation at a
    random length, or deletion. Returns the case's name ('none' if there was no WAL to damage)."""
    wal = Path(str(db) + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return "none"
    size = wal.stat().st_size
    if case == "delete":
        wal.unlink()
    elif case == "truncate":
        os.truncate(wal, rnd.randrange(0, size))
    else:
        data = bytearray(wal.read_bytes())
        data[rnd.randrange(size)] ^= 1 << rnd.randrange(8)
        wal.write_bytes(bytes(data))
    return case


def bench_wal_damage(folder: Path, runs: int) -> dict:
    """Kill the writer, damage its WAL, reopen. Every save it reported must be found, or its loss must be
    reported at unlock (the commit anchor); an open that succeeds with a reported save missing is a silent loss."""
    from scribe.errors import IntegrityError
    db = folder / "wal.db"
    Store.create(db, "", raw_key=RAW, actor="crash").db.close()
    rnd = random.Random(7)
    reported: dict[int, str] = {}
    found = detected_runs = lost_detected = lost_silent = 0
    cases: dict[str, int] = {}
    for run in range(runs):
        for nid, ver, sha in kill_during_writes(db, 1000 + run, rnd.uniform(0.02, 0.25)):
            if ver == 1:
                reported[nid] = sha
        case = _damage_wal(db, rnd, ("flip", "truncate", "delete", "flip")[run % 4])   # every case, in turn
        cases[case] = cases.get(case, 0) + 1
        try:
            st = Store.open(db, "", raw_key=RAW, actor="verifier")
            refused = False
        except IntegrityError:
            st, refused = Store.open(db, "", raw_key=RAW, actor="verifier", recover=True), True
            detected_runs += 1
        try:
            with st.db.read() as cur:
                stored = {n: h for n, h in cur.execute("SELECT note_id, sha256 FROM note_versions WHERE version=1")}
        finally:
            st.db.close()
        missing = [n for n, h in reported.items() if stored.get(n) != h]
        found += len(reported) - len(missing)
        if refused:
            lost_detected += len(missing)
        else:
            lost_silent += len(missing)
        for n in missing:        # counted once; the store now (after recovery) no longer holds them
            reported.pop(n)
    for p in folder.glob("wal.db.recover-*"):
        import shutil
        shutil.rmtree(p, ignore_errors=True)
    return {"runs": runs, "cases": cases, "notes_reported_saved": found + lost_detected + lost_silent,
            "notes_found": found, "runs_loss_detected": detected_runs, "losses_detected": lost_detected,
            "losses_undetected": lost_silent}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notes", type=int, default=200, help="notes saved per save benchmark (default 200)")
    ap.add_argument("--note-words", type=int, default=400, help="words per note (default 400, ~2.5 KB)")
    ap.add_argument("--open-reps", type=int, default=5, help="opens timed per configuration (median)")
    ap.add_argument("--crash-runs", type=int, default=100, help="SIGKILL runs (default 100; 0 skips)")
    ap.add_argument("--wal-damage-runs", type=int, default=100,
                    help="SIGKILL + damaged/truncated/deleted WAL runs (default 100; 0 skips)")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "store.json", help="results JSON")
    args = ap.parse_args()
    print(f"config: notes={args.notes} words={args.note_words} open_reps={args.open_reps} "
          f"crash_runs={args.crash_runs} kdf_iter={DEFAULT_KDF_ITER} cpus={os.cpu_count()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="scribe-bench-") as tmp:
        tmp = Path(tmp)
        # interleaved rounds: on a shared machine the disk's and CPU's load drifts; alternating cancels the drift
        st = Store.create(tmp / "enc.db", PASS, actor="bench")
        plain = _plain_db(tmp / "plain.db")
        rounds = max(1, min(10, args.notes // 10))
        per = max(1, args.notes // rounds)
        enc_r, plain_r = [], []
        for _ in range(rounds):
            enc_r.append(bench_saves(st.db, per, args.note_words))
            plain_r.append(bench_saves(plain, per, args.note_words))
        enc_sps, plain_sps = statistics.median(enc_r), statistics.median(plain_r)
        st.close()
        plain.close()
        size_mb = (tmp / "enc.db").stat().st_size / 1e6
        open_kdf = bench_open(tmp / "enc.db", args.open_reps)
        open_kdf_nocheck = bench_open(tmp / "enc.db", args.open_reps, options=StoreOptions(check_integrity=False))
        # raw-key twin of the same data: sqlcipher_export under a raw key
        raw_db = tmp / "raw.db"
        Store.create(raw_db, "", raw_key=RAW, actor="bench").db.close()
        rs = Store.open(raw_db, "", raw_key=RAW)
        bench_saves(rs.db, args.notes, args.note_words)
        rs.db.close()
        t = []
        for _ in range(args.open_reps):
            t0 = time.perf_counter()
            s2 = Store.open(raw_db, "", raw_key=RAW)
            t.append(time.perf_counter() - t0)
            s2.db.close()
        open_raw = statistics.median(t)
        argon = bench_argon2()
        crash = bench_crash(tmp, args.crash_runs) if args.crash_runs else None
        wal = bench_wal_damage(tmp, args.wal_damage_runs) if args.wal_damage_runs else None

    kdf_cost = open_kdf - open_raw
    rows = [
        ("saves/s, SQLCipher (WAL, FULL sync)", f"{enc_sps:.1f}"),
        ("saves/s, plain SQLite peer (same code)", f"{plain_sps:.1f}"),
        ("ratio encrypted/plain", f"{enc_sps / plain_sps:.2f}"),
        (f"open with KDF, {args.notes}-note store ({size_mb:.1f} MB)", f"{open_kdf * 1000:.0f} ms"),
        ("open with KDF, no integrity check", f"{open_kdf_nocheck * 1000:.0f} ms"),
        ("open with raw key (no KDF)", f"{open_raw * 1000:.0f} ms"),
        (f"KDF cost (PBKDF2-SHA512 x{DEFAULT_KDF_ITER})", f"{kdf_cost * 1000:.0f} ms"),
        ("integrity check cost on open", f"{(open_kdf - open_kdf_nocheck) * 1000:.0f} ms"),
    ] + [(f"peer KDF {k}", f"{v * 1000:.0f} ms") for k, v in argon.items()]
    if crash:
        rows += [("crash runs (SIGKILL)", str(crash["runs"])), ("notes verified after kills",
                                                                str(crash["notes_committed"])),
                 ("losses", str(crash["losses"])), ("integrity failures", str(crash["integrity_failures"]))]
    if wal:
        rows += [("WAL damage runs (SIGKILL + flip/truncate/delete)", str(wal["runs"])),
                 ("  notes reported saved / found", f"{wal['notes_reported_saved']} / {wal['notes_found']}"),
                 ("  losses detected at unlock (runs)", f"{wal['losses_detected']} ({wal['runs_loss_detected']})"),
                 ("  losses undetected (silent)", str(wal["losses_undetected"]))]
    w = max(len(r[0]) for r in rows)
    print(f"{'measure':{w}}  value")
    for k, v in rows:
        print(f"{k:{w}}  {v}")
    res = {"bench": "store", "saves_per_s": round(enc_sps, 1), "peer_plain_saves_per_s": round(plain_sps, 1),
           "ratio_vs_plain": round(enc_sps / plain_sps, 3), "open_s_kdf": round(open_kdf, 3),
           "open_s_kdf_no_check": round(open_kdf_nocheck, 3), "open_s_raw_key": round(open_raw, 3),
           "kdf_cost_s": round(kdf_cost, 3), "kdf": f"PBKDF2-HMAC-SHA512 x{DEFAULT_KDF_ITER}",
           "peer_kdf_s": {k: round(v, 3) for k, v in argon.items()}, "store_mb": round(size_mb, 2),
           "notes": args.notes, "note_words": args.note_words, "crash": crash, "wal_damage": wal,
           "cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=2) + "\n")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
