"""Voice-activity detection on real rendered speech: regions, pauses, noise, and stream = batch decisions."""
from __future__ import annotations

import numpy as np
import soundfile as sf

from scribe.audio.vad import EnergyVad, VadOptions, speech_regions
from speech import concat_wavs, speak


def _two_phrases(tmp_path, gap=1.5):
    a = speak("The patient has had a cough for three days.")
    b = speak("She denies fever or chest pain.", voice="en-gb+f3")
    p = concat_wavs([a, b], tmp_path / "two.wav", gap_s=gap)
    x, sr = sf.read(p, dtype="float32")
    la = sf.info(a).duration
    return x, sr, la


def test_regions_follow_phrases_and_pauses(tmp_path):
    x, sr, la = _two_phrases(tmp_path)
    regions = speech_regions(x)
    assert regions, "no speech found"
    # no region spans the 1.5 s pause
    assert not any(s < la + 0.2 and e > la + 1.3 for s, e in regions)
    assert regions[0][0] < 0.3 and regions[-1][1] > len(x) / sr - 0.5
    total = sum(e - s for s, e in regions)
    assert 0.5 * (len(x) / sr - 1.5) < total < len(x) / sr


def test_robust_to_background_noise(tmp_path):
    x, sr, la = _two_phrases(tmp_path)
    rng = np.random.default_rng(0)
    noisy = x + rng.normal(0, 0.01, len(x)).astype(np.float32)   # ~ -40 dBFS hiss
    regions = speech_regions(noisy)
    assert not any(s < la + 0.2 and e > la + 1.3 for s, e in regions)
    assert sum(e - s for s, e in regions) < len(x) / sr - 1.0


def test_silence_has_no_speech():
    assert speech_regions(np.zeros(16000 * 3, np.float32)) == []


def test_streaming_decisions_equal_batch(tmp_path):
    x, _, _ = _two_phrases(tmp_path, gap=0.8)
    whole = EnergyVad()
    batch = whole.push(x) + whole.flush()
    inc = EnergyVad()
    out: list[bool] = []
    rng = np.random.default_rng(1)
    i = 0
    while i < len(x):
        n = int(rng.integers(80, 4000))   # odd chunk sizes, as a sound card delivers
        out += inc.push(x[i:i + n])
        i += n
    out += inc.flush()
    assert out == batch
    # decisions come out while audio is still arriving (not all at flush)
    assert inc.frames_out == len(batch)
    assert len(EnergyVad(VadOptions()).push(x[: len(x) // 2])) > 0
