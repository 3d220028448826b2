"""PDF export with fpdf2 (pure Python, no Qt in core).

Why fpdf2: core must not import Qt (QTextDocument + QPrinter would drag QtGui into every CLI run), and a
subprocess into the UI layer for one page of text is fragile. fpdf2 is small, maintained, pure Python and embeds a
Unicode TrueType font when one is found (DejaVu/Noto/Segoe/Arial), falling back to the PDF core font with
non-Latin-1 characters replaced (and a footnote saying so). The note's Markdown is rendered as headings, bullet
lists and paragraphs; a draft carries "DRAFT - not approved" on every page. PDF metadata holds no PHI.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from .header import header_fields

__all__ = ["render_pdf", "find_unicode_font"]

_FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
    "/usr/share/fonts/noto/NotoSans-Regular.ttf",
    "C:/Windows/Fonts/segoeui.ttf",
    "C:/Windows/Fonts/arial.ttf",
    "/System/Library/Fonts/Supplemental/Arial Unicode.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
    "/System/Library/Fonts/Supplemental/Arial.ttf",
]
_BOLD = {"DejaVuSans.ttf": "DejaVuSans-Bold.ttf", "NotoSans-Regular.ttf": "NotoSans-Bold.ttf",
         "segoeui.ttf": "segoeuib.ttf", "arial.ttf": "arialbd.ttf", "Arial.ttf": "Arial Bold.ttf"}


def find_unicode_font() -> tuple[Path, Path | None] | None:
    env = os.environ.get("SCRIBE_PDF_FONT")
    for cand in ([env] if env else []) + _FONT_CANDIDATES:
        p = Path(cand)
        if p.is_file():
            b = p.with_name(_BOLD.get(p.name, ""))
            return p, (b if b.name and b.is_file() else None)
    return None


def render_pdf(rec, encounter=None, subject=None) -> bytes:
    from fpdf import FPDF

    draft = rec.status != "approved"
    font = find_unicode_font()

    class _Doc(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(family, "", 8)
            self.set_text_color(110, 110, 110)
            left = "DRAFT - not approved" if draft else f"Approved v{rec.approved_version}"
            self.cell(0, 5, clean(f"{left}   ·   note {rec.id} v{rec.current_version}   ·   "
                                  f"page {self.page_no()}/{{nb}}"), align="C")

    pdf = _Doc(format="A4")
    pdf.set_title(f"Scribe note {rec.id} v{rec.current_version}")   # metadata: ids only, no PHI
    pdf.set_creator("Scribe")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=18)
    replaced = [0]
    if font:
        family = "ScribeSans"
        pdf.add_font(family, "", str(font[0]))
        pdf.add_font(family, "B", str(font[1] or font[0]))

        def clean(s: str) -> str:
            return s
    else:
        family = "Helvetica"

        def clean(s: str) -> str:
            s = s.replace("·", "-").replace("–", "-").replace("—", "-").replace("’", "'").replace("“", '"') \
                 .replace("”", '"').replace("•", "-")
            out = s.encode("latin-1", "replace").decode("latin-1")
            replaced[0] += out.count("?") - s.count("?")
            return out
    pdf.alias_nb_pages()
    pdf.add_page()
    w = pdf.w - pdf.l_margin - pdf.r_margin

    # provenance block
    pdf.set_font(family, "", 8.5)
    pdf.set_text_color(80, 80, 80)
    for k, v in header_fields(rec, encounter, subject):
        pdf.set_x(pdf.l_margin)
        pdf.multi_cell(w, 4.4, clean(f"{k}: {v}"))
    pdf.ln(2)
    pdf.set_draw_color(180, 180, 180)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(3)
    pdf.set_text_color(0, 0, 0)

    for kind, text in _blocks(rec.markdown):
        pdf.set_x(pdf.l_margin)
        if kind == "h1":
            pdf.set_font(family, "B", 15)
            pdf.multi_cell(w, 7.5, clean(text))
            pdf.ln(1.5)
        elif kind == "h2":
            pdf.ln(1.5)
            pdf.set_font(family, "B", 11.5)
            pdf.multi_cell(w, 6, clean(text))
            pdf.ln(0.5)
        elif kind == "li":
            pdf.set_font(family, "", 10.5)
            pdf.cell(5, 5.2, "-")
            pdf.multi_cell(w - 5, 5.2, clean(text))
        elif kind == "p":
            pdf.set_font(family, "", 10.5)
            pdf.multi_cell(w, 5.2, clean(text))
            pdf.ln(1.2)
    if replaced[0]:
        pdf.ln(3)
        pdf.set_font(family, "", 7.5)
        pdf.multi_cell(w, 4, f"{replaced[0]} character(s) outside Latin-1 shown as '?': no Unicode font was found "
                              "(set SCRIBE_PDF_FONT to a .ttf file). The Markdown and FHIR exports are exact.")
    return bytes(pdf.output())


_INLINE = re.compile(r"(\*\*|__|`)")


def _blocks(md: str) -> list[tuple[str, str]]:
    """Markdown → (kind, text) blocks: h1, h2 (## and deeper), li, p. Inline emphasis markers are dropped; a line
    ending in two spaces keeps its line break inside the paragraph."""
    out: list[tuple[str, str]] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            out.append(("p", "".join(para).rstrip()))
            para.clear()
    for raw in md.splitlines():
        line = raw.rstrip()
        s = line.strip()
        if not s or s == "---":
            flush()
            continue
        m = re.match(r"^(#{1,6})\s+(.*)$", s)
        if m:
            flush()
            out.append(("h1" if len(m.group(1)) == 1 else "h2", _INLINE.sub("", m.group(2))))
            continue
        m = re.match(r"^([-*•]|\d+[.)])\s+(.*)$", s)
        if m:
            flush()
            out.append(("li", _INLINE.sub("", m.group(2))))
            continue
        t = _INLINE.sub("", s).replace("_Not discussed._", "Not discussed.")
        # two trailing spaces are Markdown's hard break (a letter's letterhead and addressee lines)
        para.append(t + ("\n" if raw.endswith("  ") else " "))
    flush()
    return out
