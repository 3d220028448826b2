// Exports: Markdown (the rendered note) and a FHIR R4 DocumentReference shaped like scribe/export/fhir.py
// (markdown attachment, base64, SHA-1 hash and size; docStatus preliminary → final on approval).
const LOINC = {
  soap: ['11506-3', 'Progress note'], progress_note: ['11506-3', 'Progress note'],
  history_physical: ['34117-2', 'History and physical note'], discharge_summary: ['18842-5', 'Discharge summary'],
  referral_letter: ['57133-1', 'Referral note'], patient_instructions: ['69730-0', 'Instructions'],
};

const b64 = (bytes) => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};
const esc = (s) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' })[c]);

export async function documentReference(rec, title) {
  const md = new TextEncoder().encode(rec.note.markdown);
  const kind = rec.status === 'approved' ? 'final' : 'preliminary';
  const code = LOINC[rec.note.template];
  const docTitle = title || rec.note.template.replace(/_/g, ' ');
  const type = { text: docTitle };
  if (code) type.coding = [{ system: 'http://loinc.org', code: code[0], display: code[1] }];
  const updated = new Date(rec.updated).toISOString();
  const res = {
    resourceType: 'DocumentReference',
    id: rec.id,
    meta: { lastUpdated: updated },
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${esc(docTitle)} (${kind})</p></div>` },
    identifier: [{ system: 'urn:ietf:rfc:3986', value: `urn:uuid:${rec.id}` }],
    status: 'current',
    docStatus: kind,
    type,
    date: updated,
    author: [{ display: rec.approvedBy || 'unknown' }],
    description: docTitle,
    content: [{ attachment: {
      contentType: 'text/markdown; charset=utf-8', language: 'en', data: b64(md), size: md.length,
      hash: b64(new Uint8Array(await crypto.subtle.digest('SHA-1', md))), title: docTitle,
      creation: new Date(rec.created).toISOString(),
    } }],
  };
  if (code) res.category = [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category', code: 'clinical-note', display: 'Clinical Note' }] }];
  if (rec.status === 'approved' && rec.approvedBy) res.authenticator = { display: rec.approvedBy };
  return res;
}

export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
