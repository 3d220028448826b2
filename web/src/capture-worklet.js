// Runs on the audio rendering thread: copy each 128-sample render quantum of channel 0 to the page.
// Batched to ~32 ms so the page gets ~30 messages a second, not 125.
class ScribeCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.buf = new Float32Array(512);
    this.n = 0;
  }

  process(inputs) {
    const ch = inputs[0] && inputs[0][0];
    if (ch) {
      this.buf.set(ch, this.n);
      this.n += ch.length;
      if (this.n + 128 > this.buf.length) {
        this.port.postMessage(this.buf.slice(0, this.n));
        this.n = 0;
      }
    }
    return true;
  }
}
registerProcessor('scribe-capture', ScribeCapture);
