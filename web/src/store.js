// Encrypted local storage: IndexedDB holds only AES-GCM ciphertext. The key comes from the passphrase through
// PBKDF2-SHA-256 (600,000 iterations, per-store random salt), is non-extractable, lives only in memory, and is
// dropped on lock. Each record is sealed with a fresh 96-bit IV and its id as additional data (a ciphertext cannot
// be moved to another id). Record ids are random UUIDs; nothing else is stored in clear.
// A sealed manifest (meta 'manifest': a write counter and each record's version, written in the same transaction
// as the record) detects a record deleted, rolled back to an older ciphertext, or added outside the app; the
// counter is also kept in localStorage, so rolling back the whole database alone is detected too. A store whose
// KDF parameters are gone while records (or the localStorage marker) remain is refused, never re-keyed.
export const PBKDF2_ITERATIONS = 600000;
const DB_NAME = 'scribe-web';
const VERIFIER = 'scribe-web store v1';
const enc = new TextEncoder();
const dec = new TextDecoder();

const MARK = 'scribe-web-store'; // localStorage: {created, counter}; no secrets

export class StoreError extends Error {}

function readMark(name) {
  try {
    return JSON.parse(globalThis.localStorage?.getItem(`${MARK}:${name}`) || 'null');
  } catch {
    return null;
  }
}

function writeMark(name, v) {
  try {
    globalThis.localStorage?.setItem(`${MARK}:${name}`, JSON.stringify(v));
  } catch {
    // storage full or disabled: the sealed manifest still detects single-record tampering
  }
}

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
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
    this.manifest = null;
    this.problems = [];
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

  // What the unlock screen should offer: 'new' (set-up), 'existing', or 'orphaned' (KDF parameters missing while
  // encrypted records or the created-marker remain: a new key could open none of them).
  async state() {
    const db = await openDb(this.dbName);
    const meta = await req(db.transaction('meta').objectStore('meta').get('kdf'));
    const count = await req(db.transaction('records').objectStore('records').count());
    db.close();
    if (meta) return 'existing';
    return count > 0 || readMark(this.dbName) ? 'orphaned' : 'new';
  }

  // create: true only from the set-up screen (which asks for the passphrase twice); unlocking never creates.
  async unlock(passphrase, { create = false } = {}) {
    const typed = String(passphrase ?? '');
    passphrase = typed.normalize('NFC');
    if (passphrase.length < 8 || !passphrase.trim()) throw new StoreError('passphrase must be at least 8 characters (not only spaces)');
    this.db = this.db || (await openDb(this.dbName));
    let meta = await req(this.db.transaction('meta').objectStore('meta').get('kdf'));
    if (!meta) {
      const st = await this.state();
      if (st === 'orphaned') {
        throw new StoreError('this store\'s key parameters are missing while encrypted notes (or traces of them) remain: ' +
          'refusing to create a new key, which could open none of them. Restore this browser\'s site data from a backup, ' +
          'or clear the site data to start over (every stored note is then lost).');
      }
      if (!create) throw new StoreError('no store yet: set one up first');
      const salt = crypto.getRandomValues(new Uint8Array(16));
      const key = await deriveKey(passphrase, salt, PBKDF2_ITERATIONS);
      meta = { salt, iterations: PBKDF2_ITERATIONS, alg: 'PBKDF2-SHA256/AES-GCM-256', verifier: await seal(key, 'verifier', VERIFIER), created: Date.now() };
      const manifest = { counter: 0, records: {} };
      const tx = this.db.transaction('meta', 'readwrite');
      tx.objectStore('meta').put(meta, 'kdf');
      tx.objectStore('meta').put(await seal(key, 'manifest', manifest), 'manifest');
      await done(tx);
      writeMark(this.dbName, { created: meta.created, counter: 0 });
      this.key = key;
      this.manifest = manifest;
      this.problems = [];
      return { created: true };
    }
    if (create) throw new StoreError('a store already exists here: unlock it instead');
    const key = await this.checkKey(typed, meta);
    this.key = key;
    await this.loadManifest();
    return { created: false, problems: this.problems };
  }

  // NFC first; a store created before normalisation may hold the key of the passphrase as typed.
  async checkKey(passphrase, meta) {
    const raw = String(passphrase ?? '');
    for (const p of new Set([raw.normalize('NFC'), raw])) {
      const key = await deriveKey(p, meta.salt, meta.iterations);
      try {
        if ((await open(key, meta.verifier)) === VERIFIER) return key;
      } catch {
        // try the next form
      }
    }
    throw new StoreError('wrong passphrase');
  }

  // Re-asks the passphrase (approval): true when it opens this store.
  async verify(passphrase) {
    this.requireKey();
    const meta = await req(this.db.transaction('meta').objectStore('meta').get('kdf'));
    if (!meta) throw new StoreError('this store\'s key parameters are missing');
    await this.checkKey(passphrase, meta);
    return true;
  }

  // Reads and checks the sealed manifest against the records and the localStorage counter; this.problems lists
  // what was found (one line each).
  async loadManifest() {
    const key = this.requireKey();
    const problems = [];
    const sealed = await req(this.db.transaction('meta').objectStore('meta').get('manifest'));
    const recs = await req(this.db.transaction('records').objectStore('records').getAll());
    let manifest = null;
    if (sealed) {
      try {
        manifest = await open(key, sealed);
      } catch {
        problems.push('the record manifest failed its integrity check');
      }
    }
    if (!manifest) {
      // a store from before the manifest: adopt what is there
      manifest = { counter: 0, records: {} };
      if (sealed || readMark(this.dbName)?.counter > 0) problems.push('the record manifest was missing or damaged: rebuilt from the records present (deleted records cannot be detected this time)');
      for (const r of recs) {
        try {
          manifest.records[r.id] = (await open(key, r))._v || 1;
        } catch {
          // damaged records are reported by list()
        }
      }
      this.manifest = manifest;
      await this.writeManifest();
    }
    this.manifest = manifest;
    const mark = readMark(this.dbName);
    if (mark && mark.counter > manifest.counter) {
      problems.push(`the store was rolled back: it is at write ${manifest.counter} but this browser saw write ${mark.counter}; recent changes are missing`);
    }
    const present = new Set(recs.map((r) => r.id));
    for (const id of Object.keys(manifest.records)) {
      if (!present.has(id)) problems.push(`encounter ${id.slice(0, 8)} was deleted outside the app`);
    }
    this.problems = problems;
  }

  async writeManifest(tx) {
    const own = !tx;
    tx = tx || this.db.transaction('meta', 'readwrite');
    tx.objectStore('meta').put(await seal(this.key, 'manifest', this.manifest), 'manifest');
    if (own) await done(tx);
  }

  lock() {
    this.key = null;
    this.manifest = null;
  }

  requireKey() {
    if (!this.key) throw new StoreError('the store is locked');
    return this.key;
  }

  // One change to the records and the sealed manifest's new state, in one IndexedDB transaction.
  async commit(records, change) {
    const next = { counter: this.manifest.counter + 1, records };
    const sealedManifest = await seal(this.key, 'manifest', next);
    const tx = this.db.transaction(['records', 'meta'], 'readwrite');
    change(tx.objectStore('records'));
    tx.objectStore('meta').put(sealedManifest, 'manifest');
    await done(tx);
    this.manifest = next;
    writeMark(this.dbName, { ...(readMark(this.dbName) || {}), counter: next.counter });
  }

  async put(record) {
    const key = this.requireKey();
    const id = record.id || crypto.randomUUID();
    const v = (this.manifest.records[id] || 0) + 1;
    const clean = { ...record };
    for (const k of ['stale', 'unknown', 'damaged']) delete clean[k]; // list()'s verdicts are not part of the record
    const sealed = await seal(key, id, { ...clean, id, _v: v });
    await this.commit({ ...this.manifest.records, [id]: v }, (records) => records.put(sealed));
    record._v = v;
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

  // Records, newest first; a damaged, rolled-back or unknown one comes back flagged ({damaged | stale | unknown}).
  async list() {
    const key = this.requireKey();
    const recs = await req(this.db.transaction('records').objectStore('records').getAll());
    const out = [];
    for (const r of recs) {
      let o;
      try {
        o = await open(key, r);
      } catch {
        out.push({ id: r.id, damaged: true });
        continue;
      }
      const want = this.manifest?.records[r.id];
      if (!want) o.unknown = true;
      else if ((o._v || 1) < want) o.stale = true;
      out.push(o);
    }
    return out.sort((a, b) => (b.updated || 0) - (a.updated || 0));
  }

  async delete(id) {
    this.requireKey();
    const records = { ...this.manifest.records };
    delete records[id];
    await this.commit(records, (store) => store.delete(id));
  }
}

// Locks after `minutes` without user activity (pointer, keys). beforeLock (async: saves pending typing) runs
// while the key is still there; onLock(reason) runs once per lock.
export function autoLock(store, minutes, onLock, { target = globalThis, beforeLock } = {}) {
  let timer = null;
  const arm = () => {
    clearTimeout(timer);
    if (!store.unlocked || !(minutes > 0)) return;
    timer = setTimeout(async () => {
      if (!store.unlocked) return;
      let saved = null;
      try {
        saved = await beforeLock?.();
      } catch (e) {
        saved = e;
      }
      store.lock();
      onLock({ auto: true, minutes, saved });
    }, minutes * 60000);
  };
  for (const ev of ['pointerdown', 'keydown', 'wheel', 'touchstart']) target.addEventListener(ev, arm, { passive: true });
  return { arm, stop: () => clearTimeout(timer) };
}
