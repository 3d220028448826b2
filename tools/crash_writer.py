"""A store writer to be SIGKILLed: the child of the crash-safety test and of bench/store.py.

    .venv/bin/python tools/crash_writer.py DB SEED     # saves notes in a loop until killed

It opens the store with a raw 256-bit key (the crash test is about transactions, WAL and fsync, which the key
derivation does not touch) and prints `note_id version sha256` right after each save's commit returns, so the
parent knows exactly which saves it may expect to find after the kill. `kill_during_writes` runs one such child.
"""
from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["RAW_KEY", "kill_during_writes", "main"]

RAW_KEY = bytes(range(32))
ROOT = Path(__file__).resolve().parent.parent


def main(db: str, seed: int) -> None:
    sys.path.insert(0, str(ROOT))
    from scribe.store import Store, StoreOptions, records
    from scribe.types import Note
    # the parent checks integrity after every kill; the child need not repeat it on open
    st = Store.open(db, "", raw_key=RAW_KEY, actor="crash", options=StoreOptions(check_integrity=False))
    rnd = random.Random(seed)
    print("ready", flush=True)
    while True:
        enc = records.create_encounter(st.db, None, "crash", "soap", actor="crash")
        body = " ".join(rnd.choice(["fever", "cough", "38.1", "mg", "plan", "review"])
                        for _ in range(rnd.randint(5, 1500)))
        rec = records.create_note(st.db, enc.id, Note("soap", {"plan": body}, markdown="# N\n" + body), actor="crash")
        print(f"{rec.id} {rec.current_version} {rec.current.sha256}", flush=True)
        if rnd.random() < 0.5:
            rec = records.save_edit(st.db, rec.id, rec.markdown + "\nedited " + str(rnd.random()), actor="crash")
            print(f"{rec.id} {rec.current_version} {rec.current.sha256}", flush=True)


def kill_during_writes(db: Path, seed: int, delay: float) -> list[tuple[int, int, str]]:
    """Start a writer, SIGKILL it `delay` seconds after it is ready; return the saves it reported as returned."""
    proc = subprocess.Popen([sys.executable, __file__, str(db), str(seed)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    first = proc.stdout.readline().decode().strip()
    if first != "ready":
        raise RuntimeError("crash writer did not start: " + proc.stderr.read().decode()[-2000:])
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    buf, fd = b"", proc.stdout.fileno()
    while select.select([fd], [], [], 0.5)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
    proc.stdout.close()
    proc.stderr.close()
    if proc.returncode != -signal.SIGKILL:
        raise RuntimeError(f"crash writer ended with {proc.returncode}, not SIGKILL")
    out = []
    for ln in buf.decode().splitlines():
        nid, ver, sha = ln.split()
        out.append((int(nid), int(ver), sha))
    return out


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
