"""Templates made in the app (issue 14 item 10): duplicate a template, edit its sections, validate, preview and save
it as the same YAML the CLI and the fine-tuning read, in the user template folder. Plain Python (no Qt)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import TemplateError
from .templates import Template, load_templates, parse_template

__all__ = ["template_data", "duplicate", "validate", "preview_markdown", "to_yaml", "save_user_template"]


def template_data(tpl: Template) -> dict[str, Any]:
    """A template as the plain document its YAML holds."""
    secs = []
    for s in tpl.sections:
        d: dict[str, Any] = {"key": s.key, "title": s.title, "guidance": s.guidance, "required": s.required,
                             "kind": s.kind}
        if s.fixed_text is not None:
            d["fixed_text"] = s.fixed_text
        secs.append(d)
    return {"id": tpl.id, "title": tpl.title, "domain": tpl.domain, "description": tpl.description,
            "sections": secs}


def duplicate(tpl: Template, taken: set[str] | None = None) -> dict[str, Any]:
    """A copy with a free id (`<id>_copy`, `<id>_copy2`, …) and "(copy)" in the title."""
    taken = set(taken or ())
    base = f"{tpl.id}_copy"[:48]
    new_id, n = base, 2
    while new_id in taken:
        new_id = f"{base[:46]}{n}"
        n += 1
    data = template_data(tpl)
    data.update(id=new_id, title=f"{tpl.title} (copy)")
    return data


def validate(data: dict[str, Any]) -> Template:
    """The template the CLI would load from this document, or TemplateError naming the field."""
    keys = [s.get("key") for s in data.get("sections") or []]
    dup = next((k for k in keys if keys.count(k) > 1), None)
    if dup:
        raise TemplateError(f"<template>: field 'sections': key {dup!r} appears twice")
    return parse_template(data)


def preview_markdown(data: dict[str, Any]) -> str:
    """What a note from this template looks like: each written section shows its guidance as a placeholder."""
    tpl = validate(data)
    sample = {s.key: (f"[{s.guidance}]" if s.kind == "prose" else [f"[{s.guidance}]"]) for s in tpl.generated_sections}
    return tpl.render_markdown(sample)


def to_yaml(data: dict[str, Any]) -> str:
    import yaml
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110)


def save_user_template(data: dict[str, Any], settings, builtin_ok: bool = False) -> Path:
    """Validate, then write `<user templates>/<id>.yaml` atomically; the result loads with every other template.
    Refuses to shadow a built-in id unless `builtin_ok` (a copy has its own id)."""
    import yaml
    tpl = validate(data)
    builtin = {p.stem for p in Path(settings.templates_dir).glob("*.y*ml")}
    if tpl.id in builtin and not builtin_ok:
        raise TemplateError(f"<template>: field 'id': {tpl.id!r} is a built-in template; choose a new id")
    folder = Path(settings.user_templates_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{tpl.id}.yaml"
    text = to_yaml(data)
    parse_template(yaml.safe_load(text), path)          # what is written reads back as the same template
    tmp = path.with_name(f".{path.name}.partial")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    load_templates(settings)                              # the whole set still loads (no id clash between files)
    return path
