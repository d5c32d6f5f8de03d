"""Lab reports: the story of a run, every number taken from it, as Markdown and HTML.

A lab adds sections of text, tables, figures and checks to a :class:`Report`; ``write``
saves ``report.md`` (figures as PNG files beside it) and ``report.html``, a single
self-contained page with the figures embedded, which opens anywhere without a server.
"""
import base64
import html
import os
import re
from dataclasses import dataclass

from ..atomic import write_text
from ..viz import save_figure


@dataclass
class Check:
    """A claim the lab makes about its own run, and whether the run bore it out."""

    description: str
    value: float
    passed: bool

    def row(self):
        value = f"{self.value:.4g}" if isinstance(self.value, float) else str(self.value)
        return [self.description, value, "PASS" if self.passed else "FAIL"]


class Report:
    def __init__(self, title, out_dir, intro=""):
        self.title, self.out_dir = title, out_dir
        # ("text", str) | ("table", header, rows) | ("figure", file, caption) | ("heading", str)
        # | ("preformatted", text, caption)
        self.blocks = []
        self.checks = []
        os.makedirs(out_dir, exist_ok=True)
        if intro:
            self.text(intro)

    def heading(self, text):
        self.blocks.append(("heading", text))

    def text(self, markdown):
        self.blocks.append(("text", markdown.strip()))

    def table(self, header, rows):
        self.blocks.append(("table", [str(h) for h in header], [[_cell(c) for c in row] for row in rows]))

    def preformatted(self, text, caption=None):
        """Show ``text`` exactly as it is: its line breaks, spaces and any Markdown or HTML in
        it (a generated sample, program output), under an optional caption."""
        self.blocks.append(("preformatted", text, caption))

    def figure(self, fig, filename, caption):
        """Save a matplotlib figure as ``filename`` in the output folder and show it here."""
        save_figure(fig, os.path.join(self.out_dir, filename))
        self.blocks.append(("figure", filename, caption))
        return os.path.join(self.out_dir, filename)

    def image(self, filename, caption):
        """Show an image file already written to the output folder (e.g. an animated GIF)."""
        self.blocks.append(("figure", filename, caption))

    def check(self, description, value, passed):
        self.checks.append(Check(description, value, bool(passed)))
        return bool(passed)

    @property
    def passed(self):
        return all(c.passed for c in self.checks)

    def checks_table(self):
        return format_table(["check", "value", "result"], [c.row() for c in self.checks])

    # ---- writing ----------------------------------------------------------------------------
    def write(self):
        """Write report.md and report.html; return the paths."""
        md_path = os.path.join(self.out_dir, "report.md")
        html_path = os.path.join(self.out_dir, "report.html")
        write_text(md_path, self.markdown())
        write_text(html_path, self.html())
        return md_path, html_path

    def _all_blocks(self):
        checks = [("heading", "Checks"), ("table", ["check", "value", "result"], [c.row() for c in self.checks])]
        return self.blocks + (checks if self.checks else [])

    def markdown(self):
        parts = [f"# {self.title}"]
        for block in self._all_blocks():
            kind = block[0]
            if kind == "heading":
                parts.append(f"## {block[1]}")
            elif kind == "text":
                parts.append(block[1])
            elif kind == "table":
                parts.append(markdown_table(block[1], block[2]))
            elif kind == "figure":
                parts.append(f"![{block[2]}]({block[1]})\n\n*{block[2]}*")
            elif kind == "preformatted":
                parts.append(markdown_preformatted(block[1], block[2]))
        return "\n\n".join(parts) + "\n"

    def html(self):
        body = [f"<h1>{html.escape(self.title)}</h1>"]
        for block in self._all_blocks():
            kind = block[0]
            if kind == "heading":
                body.append(f"<h2>{html.escape(block[1])}</h2>")
            elif kind == "text":
                body.append(markdown_to_html(block[1]))
            elif kind == "table":
                body.append(html_table(block[1], block[2]))
            elif kind == "figure":
                body.append(self._html_figure(block[1], block[2]))
            elif kind == "preformatted":
                body.append(html_preformatted(block[1], block[2]))
        return PAGE.format(title=html.escape(self.title), body="\n".join(body))

    def _html_figure(self, filename, caption):
        path = os.path.join(self.out_dir, filename)
        mime = "image/gif" if filename.endswith(".gif") else "image/png"
        with open(path, "rb") as handle:
            data = base64.b64encode(handle.read()).decode("ascii")
        return (f'<figure><img src="data:{mime};base64,{data}" alt="{html.escape(caption)}">'
                f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def _cell(value):
    if isinstance(value, Html):
        return value
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def markdown_table(header, rows):
    def cells(values):  # a "|" inside a cell would end it: escape it
        return "| " + " | ".join(str(v).replace("|", "\\|") for v in values) + " |"

    lines = [cells(header), "|" + "---|" * len(header)] + [cells(row) for row in rows]
    return "\n".join(lines)


def markdown_preformatted(text, caption=None):
    """A fenced code block, its fence one backtick longer than any run of backticks in
    ``text`` so that nothing inside can close it; the caption above it in italics."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    block = f"{fence}text\n{text}\n{fence}"
    return f"*{caption}*\n\n{block}" if caption else block


def html_preformatted(text, caption=None):
    """``text`` escaped inside <pre>, so every character shows as itself."""
    label = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="preformatted">{label}<pre>{html.escape(text)}</pre></figure>'


def format_table(header, rows):
    """A plain-text table for the terminal."""
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


class Html(str):
    """A table cell that is already HTML (a link, say) and must not be escaped."""


def html_table(header, rows):
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(
            f'<td class="{_css(c)}">{c if isinstance(c, Html) else html.escape(str(c))}</td>' for c in row
        ) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _css(cell):
    return {"PASS": "pass", "FAIL": "fail"}.get(cell, "")


def markdown_to_html(text):
    """The little Markdown the reports use: paragraphs, bullet lists, **bold**, `code`."""
    out = []
    for para in text.split("\n\n"):
        lines = para.split("\n")
        if all(line.startswith(("- ", "* ")) for line in lines):
            out.append("<ul>" + "".join(f"<li>{_inline(line[2:])}</li>" for line in lines) + "</ul>")
        else:
            out.append(f"<p>{_inline(' '.join(lines))}</p>")
    return "\n".join(out)


def _inline(text):
    text = html.escape(text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
    return re.sub(r"\$(.+?)\$", r"<em>\1</em>", text)


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 60rem;
       margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }}
h1 {{ border-bottom: 2px solid #1f77b4; padding-bottom: .3rem; }}
h2 {{ margin-top: 2rem; color: #1f4e79; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }}
th {{ background: #f0f4f8; }}
td.pass {{ color: #1a7f37; font-weight: bold; }}
td.fail {{ color: #cf222e; font-weight: bold; }}
figure {{ margin: 1.5rem 0; }}
img {{ max-width: 100%; }}
figcaption {{ color: #555; font-size: .9rem; }}
code {{ background: #f3f3f3; padding: 0 .2rem; }}
pre {{ background: #f6f8fa; border: 1px solid #ddd; padding: .6rem .8rem; white-space: pre-wrap;
      word-break: break-all; font-size: .9rem; margin: .3rem 0 0; }}
</style></head>
<body>
{body}
</body></html>
"""
