// Where a partial note JSON stands and how to close it: a port of scribe/notes/jsonstate.py (same rules, so a
// note cut by the token budget closes the same way in both builds).
export class JsonTracker {
  constructor() {
    this.text = '';
    this.stack = [];
    this.inString = false;
    this.escape = false;
    this.stringIsKey = false;
    this.stringStart = -1;
    this.keyBuf = [];
    this.currentKey = null;
    this.lastSig = '';
  }

  feed(piece) {
    for (const ch of piece) {
      const i = this.text.length;
      this.text += ch;
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (ch === '\\') this.escape = true;
        else if (ch === '"') {
          this.inString = false;
          if (this.stringIsKey) this.currentKey = this.keyBuf.join('');
          this.lastSig = '"';
        } else if (this.stringIsKey) this.keyBuf.push(ch);
        continue;
      }
      if (ch === '"') {
        this.inString = true;
        this.stringStart = i;
        this.stringIsKey = this.stack.length === 1 && this.stack[0] === '{' && (this.lastSig === '{' || this.lastSig === ',');
        this.keyBuf = [];
      } else if (ch === '{' || ch === '[') {
        this.stack.push(ch);
        this.lastSig = ch;
      } else if (ch === '}' || ch === ']') {
        this.stack.pop();
        this.lastSig = ch;
      } else if (ch === ',' || ch === ':') this.lastSig = ch;
    }
  }

  get done() {
    return this.text.trim().length > 0 && this.stack.length === 0 && !this.inString;
  }

  get inValueString() {
    return this.inString && !this.stringIsKey;
  }

  closingForSection() {
    if (!this.inValueString || this.escape) return null;
    return '"' + (this.stack.length && this.stack[this.stack.length - 1] === '[' ? ']' : '');
  }
}

function trimEscape(s) {
  const j = s.lastIndexOf('\\');
  if (j < 0) return s;
  const runOf = (x) => x.length - x.replace(/\\+$/, '').length;
  if (s.endsWith('\\') && runOf(s) % 2 === 1) return s.slice(0, -1);
  const tail = s.slice(j);
  if (tail.startsWith('\\u') && tail.length < 6 && runOf(s.slice(0, j)) % 2 === 0) return s.slice(0, j);
  return s;
}

export function closePartial(text) {
  const t = new JsonTracker();
  t.feed(text);
  if (t.done) return JSON.parse(text);
  let s = text;
  if (t.inString) {
    if (t.stringIsKey) s = s.slice(0, t.stringStart);
    else s = trimEscape(s) + '"';
  } else if (t.stringIsKey && t.lastSig === '"') s = s.slice(0, t.stringStart);
  s = s.trimEnd();
  if (s.endsWith(':')) {
    const k = s.lastIndexOf('"', s.length - 3);
    s = s.slice(0, k);
  }
  s = s.trimEnd();
  if (s.endsWith(',')) s = s.slice(0, -1);
  const t2 = new JsonTracker();
  t2.feed(s);
  s += t2.stack.slice().reverse().map((c) => (c === '{' ? '}' : ']')).join('');
  if (!s.trim()) return {};
  return JSON.parse(s);
}
