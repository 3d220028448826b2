// Note templates (templates/*.yaml, shared with the desktop): parse + validate like scribe/notes/templates.py,
// derive the same JSON schema, render the same Markdown. Runs on the page and in the worker.
import { parse as parseYaml } from '../vendor/yaml/index.js';

export const DOMAINS = ['clinical', 'legal'];
const KINDS = ['prose', 'list'];
const ID_RE = /^[a-z][a-z0-9_]{0,47}$/;
const TOP = new Set(['id', 'title', 'domain', 'description', 'sections']);
const SECTION = new Set(['key', 'title', 'guidance', 'required', 'kind', 'fixed_text']);

export class TemplateError extends Error {}

const ws = (s) => s.split(/\s+/u).filter(Boolean).join(' ');

function str(d, key, path, where, required = true) {
  const v = d[key];
  if (v === undefined || v === null) {
    if (required) throw new TemplateError(`${path}: field '${where}${key}': missing`);
    return '';
  }
  if (typeof v !== 'string' || (required && !v.trim())) throw new TemplateError(`${path}: field '${where}${key}': must be a non-empty string`);
  return v.trim();
}

export function parseTemplate(data, path = '<template>') {
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new TemplateError(`${path}: not a mapping of template fields`);
  const unknown = Object.keys(data).filter((k) => !TOP.has(k)).sort();
  if (unknown.length) throw new TemplateError(`${path}: field '${unknown[0]}': unknown field`);
  const id = str(data, 'id', path, '');
  if (!ID_RE.test(id)) throw new TemplateError(`${path}: field 'id': use lower-case letters, digits and _ (max 48), starting with a letter`);
  const title = str(data, 'title', path, '');
  const domain = str(data, 'domain', path, '');
  if (!DOMAINS.includes(domain)) throw new TemplateError(`${path}: field 'domain': must be one of ${DOMAINS.join(', ')}`);
  const description = str(data, 'description', path, '', false);
  if (!Array.isArray(data.sections) || !data.sections.length) throw new TemplateError(`${path}: field 'sections': must be a non-empty list`);
  const seen = new Set();
  const sections = data.sections.map((sd, i) => {
    const where = `sections[${i}].`;
    if (!sd || typeof sd !== 'object') throw new TemplateError(`${path}: field 'sections[${i}]': must be a mapping`);
    const unk = Object.keys(sd).filter((k) => !SECTION.has(k)).sort();
    if (unk.length) throw new TemplateError(`${path}: field '${where}${unk[0]}': unknown field`);
    const key = str(sd, 'key', path, where);
    if (!ID_RE.test(key)) throw new TemplateError(`${path}: field '${where}key': use lower-case letters, digits and _, starting with a letter`);
    if (seen.has(key)) throw new TemplateError(`${path}: field '${where}key': duplicate key '${key}'`);
    seen.add(key);
    const stitle = str(sd, 'title', path, where);
    const fixed = sd.fixed_text ?? null;
    if (fixed !== null && (typeof fixed !== 'string' || !fixed.trim())) throw new TemplateError(`${path}: field '${where}fixed_text': must be a non-empty string when present`);
    const guidance = str(sd, 'guidance', path, where, fixed === null);
    const required = sd.required ?? true;
    if (typeof required !== 'boolean') throw new TemplateError(`${path}: field '${where}required': must be true or false`);
    const kind = sd.kind ?? 'prose';
    if (!KINDS.includes(kind)) throw new TemplateError(`${path}: field '${where}kind': must be one of ${KINDS.join(', ')}`);
    return { key, title: stitle, guidance: ws(guidance), required, kind, fixed_text: fixed === null ? null : fixed.trim() };
  });
  if (!sections.some((s) => s.fixed_text === null)) throw new TemplateError(`${path}: field 'sections': needs at least one section without fixed_text`);
  return { id, title, domain, description: ws(description), sections };
}

export function parseTemplateText(text, path) {
  let data;
  try {
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    const line = e.linePos?.[0]?.line;
    throw new TemplateError(`${path}: not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}${line ? ` at line ${line}` : ''}`);
  }
  return parseTemplate(data, path);
}

export const generatedSections = (t) => t.sections.filter((s) => s.fixed_text === null);

export function renderMarkdown(t, sections) {
  const out = [`# ${t.title}`, ''];
  for (const s of t.sections) {
    let body;
    if (s.fixed_text !== null) body = s.fixed_text.trim();
    else {
      const val = sections[s.key] ?? (s.kind === 'prose' ? '' : []);
      if (Array.isArray(val)) {
        body = val.filter((v) => String(v).trim()).map((v) => `- ${ws(String(v))}`).join('\n');
      } else body = String(val || '').trim();
      if (!body) {
        if (!s.required) continue;
        body = '_Not discussed._';
      }
    }
    out.push(`## ${s.title}`, '', body, '');
  }
  return out.join('\n').replace(/\s+$/u, '') + '\n';
}

export async function loadTemplates(base, names) {
  const out = {};
  for (const name of names) {
    const url = new URL(name, base).href;
    const res = await fetch(url);
    if (!res.ok) throw new TemplateError(`${name}: cannot load (HTTP ${res.status})`);
    const t = parseTemplateText(await res.text(), name);
    if (out[t.id]) throw new TemplateError(`${name}: field 'id': '${t.id}' already defined`);
    out[t.id] = t;
  }
  return out;
}
