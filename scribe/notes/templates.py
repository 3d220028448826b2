"""Note templates: load, validate, derive the JSON schema, render Markdown.

A template is one YAML (or JSON) file: id, title, domain (clinical|legal), description, sections. Each section has
key, title, guidance (for the model), required, kind (prose|list) and optionally fixed_text. A section with
fixed_text is boilerplate: the model never writes it (it is not in the schema or the model's target), and
rendering inserts the text verbatim.

Built-in templates come from settings.templates_dir; files in settings.user_templates_dir add new ids, and
replace a built-in only when they say so (`overrides: <id>`): a same-id file alone is refused, never silent.
An invalid file raises TemplateError naming the file and the field, never echoing the file's content; symbolic
links and duplicate YAML keys are refused. `get_template` skips broken user files that cannot be the requested
template, so one bad file does not stop `dictate -t soap`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import TemplateError

__all__ = ["Section", "Template", "load_templates", "get_template", "parse_template", "DOMAINS", "KINDS"]

DOMAINS = ("clinical", "legal")
KINDS = ("prose", "list")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
_TOP_FIELDS = {"id", "title", "domain", "description", "sections", "overrides"}
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
_SECTION_FIELDS = {"key", "title", "guidance", "required", "kind", "fixed_text"}
_MAX_FILE_BYTES = 256 * 1024   # a template is a few KB; refuse anything that is clearly not one


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    guidance: str
    required: bool = True
    kind: str = "prose"          # "prose" | "list"
    fixed_text: str | None = None

    @property
    def generated(self) -> bool:
        return self.fixed_text is None


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    domain: str
    description: str
    sections: tuple[Section, ...]
    path: Path | None = field(default=None, compare=False)
    overrides: str | None = field(default=None, compare=False)   # a user file replacing this built-in id

    @property
    def generated_sections(self) -> tuple[Section, ...]:
        """Sections the model writes, in template order (fixed-text sections excluded)."""
        return tuple(s for s in self.sections if s.generated)

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def schema(self) -> dict[str, Any]:
        """JSON schema of the model's output: one property per generated section, in template order.

        Deliberately plain (type/items/required/additionalProperties only) so that onnxruntime-genai's
        guidance, jsonschema and the web build all read it the same way.
        """
        props: dict[str, Any] = {}
        for s in self.generated_sections:
            props[s.key] = {"type": "string"} if s.kind == "prose" else {"type": "array", "items": {"type": "string"}}
        return {"title": self.id, "type": "object", "properties": props,
                "required": [s.key for s in self.generated_sections], "additionalProperties": False}

    def empty_sections(self) -> dict[str, Any]:
        return {s.key: ("" if s.kind == "prose" else []) for s in self.generated_sections}

    def render_markdown(self, sections: dict[str, Any]) -> str:
        """Markdown with a heading per section. Empty optional sections are left out; empty required ones say so."""
        out = [f"# {self.title}", ""]
        for s in self.sections:
            if s.fixed_text is not None:
                body = s.fixed_text.strip()
            else:
                val = sections.get(s.key, "" if s.kind == "prose" else [])
                if isinstance(val, list):
                    items = [" ".join(str(v).split()) for v in val if str(v).strip()]
                    body = "\n".join(f"- {i}" for i in items)
                else:
                    body = str(val or "").strip()
                if not body:
                    if not s.required:
                        continue
                    body = "_Not discussed._"
            out += [f"## {s.title}", "", body, ""]
        return "\n".join(out).rstrip() + "\n"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "domain": self.domain, "description": self.description,
                "sections": [{"key": s.key, "title": s.title, "guidance": s.guidance, "required": s.required,
                              "kind": s.kind, "fixed_text": s.fixed_text} for s in self.sections],
                "schema": self.schema(), "path": str(self.path) if self.path else None}


def _bad(path: Path | str, fld: str, why: str) -> TemplateError:
    return TemplateError(f"{path}: field '{fld}': {why}")


def _name(x: Any) -> str:
    """A field name from the file, shown only when it looks like one (never a line of some other file)."""
    return x if isinstance(x, str) and _NAME_RE.match(x) else "(unreadable name)"


def _str(d: dict, key: str, path: Path | str, where: str, required: bool = True) -> str:
    v = d.get(key)
    if v is None:
        if required:
            raise _bad(path, f"{where}{key}", "missing")
        return ""
    if not isinstance(v, str) or (required and not v.strip()):
        raise _bad(path, f"{where}{key}", "must be a non-empty string")
    return v.strip()


def parse_template(data: Any, path: Path | str = "<template>") -> Template:
    """Validate a decoded template document; raise TemplateError naming path and field."""
    if not isinstance(data, dict):
        raise TemplateError(f"{path}: not a mapping of template fields")
    unknown = sorted((str(k) for k in set(data) - _TOP_FIELDS))
    if unknown:
        raise _bad(path, _name(unknown[0]), "unknown field")
    tid = _str(data, "id", path, "")
    if not _ID_RE.match(tid):
        raise _bad(path, "id", "use lower-case letters, digits and _ (max 48), starting with a letter")
    title = _str(data, "title", path, "")
    domain = _str(data, "domain", path, "")
    if domain not in DOMAINS:
        raise _bad(path, "domain", f"must be one of {', '.join(DOMAINS)}")
    description = _str(data, "description", path, "", required=False)
    raw = data.get("sections")
    if not isinstance(raw, list) or not raw:
        raise _bad(path, "sections", "must be a non-empty list")
    sections: list[Section] = []
    seen: set[str] = set()
    for i, sd in enumerate(raw):
        where = f"sections[{i}]."
        if not isinstance(sd, dict):
            raise _bad(path, f"sections[{i}]", "must be a mapping")
        unknown = sorted((str(k) for k in set(sd) - _SECTION_FIELDS))
        if unknown:
            raise _bad(path, where + _name(unknown[0]), "unknown field")
        key = _str(sd, "key", path, where)
        if not _KEY_RE.match(key):
            raise _bad(path, where + "key", "use lower-case letters, digits and _, starting with a letter")
        if key in seen:
            raise _bad(path, where + "key", f"duplicate key {key!r}")
        seen.add(key)
        stitle = _str(sd, "title", path, where)
        fixed = sd.get("fixed_text")
        if fixed is not None and (not isinstance(fixed, str) or not fixed.strip()):
            raise _bad(path, where + "fixed_text", "must be a non-empty string when present")
        guidance = _str(sd, "guidance", path, where, required=fixed is None)
        req = sd.get("required", True)
        if not isinstance(req, bool):
            raise _bad(path, where + "required", "must be true or false")
        kind = sd.get("kind", "prose")
        if kind not in KINDS:
            raise _bad(path, where + "kind", f"must be one of {', '.join(KINDS)}")
        if fixed is not None and kind != "prose":
            raise _bad(path, where + "kind", "a fixed_text section must be prose")
        sections.append(Section(key, stitle, " ".join(guidance.split()), req, kind,
                                fixed.strip() if fixed is not None else None))
    if not any(s.generated for s in sections):
        raise _bad(path, "sections", "needs at least one section without fixed_text")
    over = data.get("overrides")
    if over is not None and over != tid:
        raise _bad(path, "overrides", "must repeat the template's own id")
    return Template(tid, title, domain, " ".join(description.split()), tuple(sections),
                    Path(path) if not isinstance(path, Path) else path, over)


def _yaml_load(text: str) -> Any:
    """yaml.safe_load, but a key given twice in one mapping is an error (PyYAML keeps the last one silently)."""
    import yaml

    class Strict(yaml.SafeLoader):
        pass

    def mapping(loader, node, deep=False):
        seen = set()
        for k, _v in node.value:
            key = loader.construct_object(k, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, "duplicate key", k.start_mark)
            seen.add(key)
        return loader.construct_mapping(node, deep)

    Strict.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    return yaml.load(text, Loader=Strict)   # noqa: S506 (a SafeLoader subclass)


def _read(path: Path) -> Template:
    try:
        if path.is_symlink():
            raise TemplateError(f"{path}: is a symbolic link; copy the template into the folder instead")
        if path.stat().st_size > _MAX_FILE_BYTES:
            raise TemplateError(f"{path}: file too large for a template")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TemplateError(f"{path}: cannot read ({e.__class__.__name__})") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = _yaml_load(text)
    except Exception as e:  # yaml.YAMLError / ValueError: report the position, not the content
        mark = getattr(e, "problem_mark", None)
        if "duplicate key" in str(getattr(e, "problem", "")):
            raise TemplateError(f"{path}: a key is given twice at line {mark.line + 1}") from None
        where = f" at line {mark.line + 1}" if mark is not None else (f" at line {e.lineno}" if hasattr(e, "lineno") else "")
        raise TemplateError(f"{path}: not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}{where}") from None
    return parse_template(data, path)


def _files(folder: Path) -> list[Path]:
    if not folder or not Path(folder).is_dir():
        return []
    return sorted(p for p in Path(folder).iterdir()
                  if (p.is_file() or p.is_symlink()) and p.suffix.lower() in (".yaml", ".yml", ".json")
                  and not p.name.startswith("."))


def load_templates(settings=None, user_dir: Path | None = None,
                   problems: list[TemplateError] | None = None) -> dict[str, Template]:
    """All templates by id: built-ins, then the user folder. Ordered by domain then id. A broken user file raises
    TemplateError, or with `problems` given is collected there and skipped (built-ins always raise)."""
    if settings is None:
        from ..config import load_settings
        settings = load_settings()
    user = Path(user_dir) if user_dir is not None else settings.user_templates_dir
    found: dict[str, Template] = {}
    builtin: set[str] = set()
    for folder in (Path(settings.templates_dir), user):
        local: dict[str, Path] = {}
        is_user = folder == user and folder != Path(settings.templates_dir)
        for p in _files(folder):
            try:
                t = _read(p)
                if t.id in local:
                    raise TemplateError(f"{p}: field 'id': {t.id!r} already defined in {local[t.id].name}")
                if is_user and t.id in builtin and t.overrides != t.id:
                    raise TemplateError(f"{p}: field 'id': {t.id!r} is a built-in template; add 'overrides: "
                                        f"{t.id}' to replace it, or choose another id")
            except TemplateError as e:
                if problems is None or not is_user:
                    raise
                problems.append(e)
                continue
            local[t.id] = p
            found[t.id] = t
            if not is_user:
                builtin.add(t.id)
    if not found:
        raise TemplateError(f"{settings.templates_dir}: no templates found")
    return dict(sorted(found.items(), key=lambda kv: (DOMAINS.index(kv[1].domain), kv[0])))


def get_template(template_id: str, settings=None, user_dir: Path | None = None) -> Template:
    problems: list[TemplateError] = []
    templates = load_templates(settings, user_dir, problems)
    try:
        return templates[template_id]
    except KeyError:
        if problems:   # the wanted one may be among the broken files: say which, first one in full
            raise TemplateError(f"unknown template {template_id!r}; {len(problems)} user template file(s) could "
                                f"not be read, first: {problems[0]}") from None
        raise TemplateError(f"unknown template {template_id!r} (have: {', '.join(templates)})") from None
