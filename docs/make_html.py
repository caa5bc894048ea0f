"""Write the documentation as HTML pages, every planlang block highlighted by planlang's own lexer.

Usage: ``python docs/make_html.py [OUT_DIR]`` (``make docs-html``; default ``docs/html/``). Markdown
is converted with Python-Markdown; its code highlighting finds the ``planlang`` lexer through the
Pygments entry point the package registers (``planlang.lexer``). A test builds the pages.
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ max-width: 60rem; margin: 2rem auto; padding: 0 1rem; font-family: system-ui, sans-serif; line-height: 1.5; }}
pre {{ overflow-x: auto; padding: 0.75rem; background: #f8f8f8; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: 0.2rem 0.4rem; vertical-align: top; }}
{styles}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def _formatter():
    from pygments.formatters import HtmlFormatter

    class LanguageFormatter(HtmlFormatter):
        """Pygments' HTML, with the block's language as the class of its ``code``: ``language-planlang``."""

        def __init__(self, lang_str: str = "", **options):
            super().__init__(**options)
            self.language = lang_str

        def _wrap_code(self, inner):
            yield 0, f'<code class="{html.escape(self.language)}">'
            yield from inner
            yield 0, "</code>"

    return LanguageFormatter


def render(text: str) -> str:
    """One Markdown document as a whole HTML page."""
    import markdown
    from pygments.formatters import HtmlFormatter

    body = markdown.markdown(text, extensions=["fenced_code", "codehilite", "tables"],
                             extension_configs={"codehilite": {"guess_lang": False, "pygments_formatter": _formatter()}})
    body = re.sub(r'href="([^":#]+)\.md(#[^"]*)?"', r'href="\1.html\2"', body)  # links between the pages
    heading = re.search(r"^#\s+(.+)$", text, flags=re.M)
    title = html.escape(heading[1].strip() if heading else "planlang")
    return PAGE.format(title=title, styles=HtmlFormatter().get_style_defs(".codehilite"), body=body)


def build(out: Path) -> list[Path]:
    """Every page of docs/ as ``out/<name>.html``; returns the files written."""
    from planlang.files import write_atomically

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(DOCS.glob("*.md")):
        page = render(source.read_text(encoding="utf-8"))
        target = out / f"{source.stem}.html"
        write_atomically(target, lambda path, page=page: Path(path).write_text(page, encoding="utf-8"))
        written.append(target)
    return written


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS / "html"
    for path in build(folder):
        print(f"wrote {path}", file=sys.stderr)
