// The page's handle on the worker: request/reply with ids, progress callbacks, and nothing heavy on this thread.
export class WorkerClient {
  constructor(url = new URL('./worker.js', import.meta.url)) {
    this.worker = new Worker(url, { type: 'module' });
    this.pending = new Map();
    this.seq = 0;
    this.ready = new Promise((resolve, reject) => {
      this.worker.addEventListener('error', (e) => reject(new Error(`worker failed to start: ${e.message || 'error'}`)), { once: true });
      this.worker.addEventListener('message', (e) => e.data.ready && resolve(), { once: true });
    });
    this.worker.onmessage = (ev) => {
      const { id, result, error, progress } = ev.data;
      const p = this.pending.get(id);
      if (!p) return;
      if (progress) return p.onProgress?.(progress);
      this.pending.delete(id);
      if (error) p.reject(new Error(error));
      else p.resolve(result);
    };
  }

  async call(type, payload, onProgress, transfer = []) {
    await this.ready;
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      this.worker.postMessage({ id, type, payload }, transfer);
    });
  }
}
