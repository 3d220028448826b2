// Encrypted local storage: IndexedDB holds only AES-GCM ciphertext. The key comes from the passphrase through
// PBKDF2-SHA-256 (600,000 iterations, per-store random salt), is non-extractable, lives only in memory, and is
// dropped on lock. Each record is sealed with a fresh 96-bit IV and its id as additional data (a ciphertext cannot
// be moved to another id). Record ids are random UUIDs; nothing else is stored in clear.
export const PBKDF2_ITERATIONS = 600000;
const DB_NAME = 'scribe-web';
const VERIFIER = 'scribe-web store v1';
const enc = new TextEncoder();
const dec = new TextDecoder();

export class StoreError extends Error {}

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function openDb(name = DB_NAME) {
  const r = indexedDB.open(name, 1);
  r.onupgradeneeded = () => {
    r.result.createObjectStore('meta');
    r.result.createObjectStore('records', { keyPath: 'id' });
  };
  return req(r);
}

async function deriveKey(passphrase, salt, iterations) {
  const base = await crypto.subtle.importKey('raw', enc.encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base,
    { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

async function seal(key, id, obj) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(id) }, key, enc.encode(JSON.stringify(obj)));
  return { id, iv, ct: new Uint8Array(ct) };
}

async function open(key, rec) {
  const pt = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: rec.iv, additionalData: enc.encode(rec.id) }, key, rec.ct);
  return JSON.parse(dec.decode(pt));
}

export class EncryptedStore {
  constructor(dbName = DB_NAME) {
    this.dbName = dbName;
    this.key = null;
    this.db = null;
  }

  get unlocked() {
    return this.key !== null;
  }

  async exists() {
    const db = await openDb(this.dbName);
    const meta = await req(db.transaction('meta').objectStore('meta').get('kdf'));
    db.close();
    return !!meta;
  }

  // First use creates the store with this passphrase; later uses must give the same one.
  async unlock(passphrase) {
    if (!passphrase || passphrase.length < 8) throw new StoreError('passphrase must be at least 8 characters');
    this.db = this.db || (await openDb(this.dbName));
    const metaStore = () => this.db.transaction('meta', 'readwrite').objectStore('meta');
    let meta = await req(this.db.transaction('meta').objectStore('meta').get('kdf'));
    if (!meta) {
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const key = await deriveKey(passphrase, salt, PBKDF2_ITERATIONS);
      meta = { salt, iterations: PBKDF2_ITERATIONS, alg: 'PBKDF2-SHA256/AES-GCM-256', verifier: await seal(key, 'verifier', VERIFIER), created: Date.now() };
      await req(metaStore().put(meta, 'kdf'));
      this.key = key;
      return { created: true };
    }
    const key = await deriveKey(passphrase, meta.salt, meta.iterations);
    try {
      if ((await open(key, meta.verifier)) !== VERIFIER) throw new Error();
    } catch {
      throw new StoreError('wrong passphrase');
    }
    this.key = key;
    return { created: false };
  }

  lock() {
    this.key = null;
  }

  requireKey() {
    if (!this.key) throw new StoreError('the store is locked');
    return this.key;
  }

  async put(record) {
    const key = this.requireKey();
    const id = record.id || crypto.randomUUID();
    const sealed = await seal(key, id, { ...record, id });
    await req(this.db.transaction('records', 'readwrite').objectStore('records').put(sealed));
    return id;
  }

  async get(id) {
    const key = this.requireKey();
    const rec = await req(this.db.transaction('records').objectStore('records').get(id));
    if (!rec) return null;
    try {
      return await open(key, rec);
    } catch {
      throw new StoreError(`record ${id} failed its integrity check`);
    }
  }

  async list() {
    const key = this.requireKey();
    const recs = await req(this.db.transaction('records').objectStore('records').getAll());
    const out = [];
    for (const r of recs) {
      try {
        out.push(await open(key, r));
      } catch {
        out.push({ id: r.id, damaged: true });
      }
    }
    return out.sort((a, b) => (b.updated || 0) - (a.updated || 0));
  }

  async delete(id) {
    this.requireKey();
    await req(this.db.transaction('records', 'readwrite').objectStore('records').delete(id));
  }
}

// Locks after `minutes` without user activity (pointer, keys). onLock runs once per lock.
export function autoLock(store, minutes, onLock, target = globalThis) {
  let timer = null;
  const arm = () => {
    clearTimeout(timer);
    if (!store.unlocked || !(minutes > 0)) return;
    timer = setTimeout(() => {
      store.lock();
      onLock();
    }, minutes * 60000);
  };
  for (const ev of ['pointerdown', 'keydown', 'wheel', 'touchstart']) target.addEventListener(ev, arm, { passive: true });
  return { arm, stop: () => clearTimeout(timer) };
}
