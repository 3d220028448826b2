#!/usr/bin/env bash
# Re-render samples/dictation.wav (the headless demo's bundled dictation) from samples/dictation.txt.
# espeak-ng (US English, 155 wpm) → sox: 16 kHz, mono, 16-bit, 0.3 s lead-in and tail. Output is committed.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
espeak-ng -v en-us -s 155 -w "$tmp/raw.wav" -f dictation.txt
sox "$tmp/raw.wav" -r 16000 -c 1 -b 16 dictation.wav pad 0.3 0.3
soxi -D dictation.wav
