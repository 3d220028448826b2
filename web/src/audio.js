// Audio in: WAV files decoded exactly (PCM16 / float32; integer samples / 32768 like soundfile), other formats
// through the browser's decoder; everything ends as 16 kHz mono Float32Array. Microphone: an AudioWorklet in an
// AudioContext running at 16 kHz, so the browser resamples the device rate; frames arrive on the page thread and
// are batched into segments by a small energy VAD (see segmenter).
export const SR = 16000;

export function parseWav(buf) {
  const dv = new DataView(buf);
  const tag = (o) => String.fromCharCode(dv.getUint8(o), dv.getUint8(o + 1), dv.getUint8(o + 2), dv.getUint8(o + 3));
  if (buf.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return null;
  let p = 12;
  let fmt = null;
  while (p + 8 <= buf.byteLength) {
    const id = tag(p);
    const size = dv.getUint32(p + 4, true);
    const body = p + 8;
    if (id === 'fmt ') {
      fmt = { format: dv.getUint16(body, true), channels: dv.getUint16(body + 2, true), rate: dv.getUint32(body + 4, true), bits: dv.getUint16(body + 14, true) };
      if (fmt.format === 0xfffe && size >= 40) fmt.format = dv.getUint16(body + 24, true);
    } else if (id === 'data' && fmt) {
      const n = Math.min(size, buf.byteLength - body);
      const bps = fmt.bits / 8;
      const frames = Math.floor(n / (bps * fmt.channels));
      const out = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        let acc = 0;
        for (let c = 0; c < fmt.channels; c++) {
          const o = body + (i * fmt.channels + c) * bps;
          if (fmt.format === 1 && fmt.bits === 16) acc += dv.getInt16(o, true) / 32768;
          else if (fmt.format === 3 && fmt.bits === 32) acc += dv.getFloat32(o, true);
          else if (fmt.format === 1 && fmt.bits === 32) acc += dv.getInt32(o, true) / 2147483648;
          else if (fmt.format === 1 && fmt.bits === 24) acc += ((dv.getUint8(o) | (dv.getUint8(o + 1) << 8) | (dv.getInt8(o + 2) << 16)) / 8388608);
          else if (fmt.format === 1 && fmt.bits === 8) acc += (dv.getUint8(o) - 128) / 128;
          else throw new Error(`WAV format ${fmt.format}/${fmt.bits}-bit is not supported`);
        }
        out[i] = acc / fmt.channels;
      }
      return { samples: out, rate: fmt.rate };
    }
    p = body + size + (size & 1);
  }
  throw new Error('WAV file has no audio data');
}

async function resample(samples, rate) {
  if (rate === SR) return samples;
  const ctx = new OfflineAudioContext(1, Math.ceil((samples.length * SR) / rate), SR);
  const b = ctx.createBuffer(1, samples.length, rate);
  b.copyToChannel(samples, 0);
  const src = ctx.createBufferSource();
  src.buffer = b;
  src.connect(ctx.destination);
  src.start();
  return (await ctx.startRendering()).getChannelData(0).slice();
}

export async function decodeFile(file) {
  const buf = await file.arrayBuffer();
  if (!buf.byteLength) throw new Error(`${file.name}: the file is empty`);
  const wav = parseWav(buf);
  if (wav) return resample(wav.samples, wav.rate);
  try {
    const ctx = new OfflineAudioContext(1, 1, SR);
    const audio = await ctx.decodeAudioData(buf);
    const mono = new Float32Array(audio.length);
    for (let c = 0; c < audio.numberOfChannels; c++) {
      const d = audio.getChannelData(c);
      for (let i = 0; i < d.length; i++) mono[i] += d[i] / audio.numberOfChannels;
    }
    return resample(mono, audio.sampleRate);
  } catch {
    throw new Error(`${file.name}: not an audio file this browser can decode`);
  }
}

// Microphone capture. onSegment(Float32Array) gets each utterance (ended by 0.6 s of quiet or 15 s of speech);
// onLevel(rms) drives the meter.
export async function startMic({ onSegment, onLevel }) {
  const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
  const ctx = new AudioContext({ sampleRate: SR });
  await ctx.audioWorklet.addModule(new URL('./capture-worklet.js', import.meta.url));
  const src = ctx.createMediaStreamSource(stream);
  const node = new AudioWorkletNode(ctx, 'scribe-capture');
  src.connect(node);
  const seg = new Segmenter(ctx.sampleRate, onSegment);
  node.port.onmessage = (e) => {
    const frame = e.data;
    let s = 0;
    for (let i = 0; i < frame.length; i++) s += frame[i] * frame[i];
    const rms = Math.sqrt(s / frame.length);
    onLevel?.(rms);
    seg.push(frame, rms);
  };
  return {
    rate: ctx.sampleRate,
    async stop() {
      seg.flush();
      node.port.onmessage = null;
      src.disconnect();
      stream.getTracks().forEach((t) => t.stop());
      await ctx.close();
    },
  };
}

export class Segmenter {
  constructor(rate, onSegment, { silenceSec = 0.6, maxSec = 15, threshold = 0.01 } = {}) {
    this.rate = rate;
    this.onSegment = onSegment;
    this.silence = silenceSec * rate;
    this.max = maxSec * rate;
    this.threshold = threshold;
    this.parts = [];
    this.len = 0;
    this.quiet = 0;
    this.voiced = false;
  }

  push(frame, rms) {
    const loud = rms > this.threshold;
    if (!this.voiced && !loud) {
      // keep ~0.5 s of lead-in so the first word is not clipped
      this.parts.push(frame.slice());
      this.len += frame.length;
      while (this.len > this.rate / 2 && this.parts.length > 1) this.len -= this.parts.shift().length;
      return;
    }
    this.voiced = true;
    this.parts.push(frame.slice());
    this.len += frame.length;
    this.quiet = loud ? 0 : this.quiet + frame.length;
    if (this.quiet >= this.silence || this.len >= this.max) this.flush();
  }

  flush() {
    if (this.voiced && this.len > this.rate / 4) {
      const out = new Float32Array(this.len);
      let o = 0;
      for (const p of this.parts) {
        out.set(p, o);
        o += p.length;
      }
      this.onSegment(out);
    }
    this.parts = [];
    this.len = 0;
    this.quiet = 0;
    this.voiced = false;
  }
}
