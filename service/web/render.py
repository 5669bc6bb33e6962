"""Figures out of the process: inline SVG for the page, PNG or SVG files for the CLI.

Every SVG carries a <title> and a <desc>, so a screen reader announces what the chart shows;
inline ones also scale to their container and carry `data-*` attributes for scripts and tests.
"""

from __future__ import annotations

import io
import re
from html import escape
from pathlib import Path

import matplotlib as mpl
from matplotlib.figure import Figure

from service.web.plotting import STYLE

PLOT_FORMATS = (".png", ".svg")
_OPEN_TAG = re.compile(r"<svg\b[^>]*>", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_SIZE = re.compile(r'\s(width|height)="[^"]*"')


def svg_markup(
    fig: Figure,
    *,
    title: str,
    desc: str,
    ident: str = "chart",
    attrs: dict[str, str] | None = None,
    inline: bool = True,
) -> str:
    """Render `fig` as SVG labelled by `title` and `desc`.

    `inline`: an <svg> element for an HTML page (no XML prolog, no fixed size, `data-*`
    attributes from `attrs`); otherwise a standalone file's text.
    """
    buffer = io.StringIO()
    with mpl.rc_context(STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None})  # no date: same data, same file
    text = _METADATA.sub("", buffer.getvalue())
    opening = _OPEN_TAG.search(text)
    if opening is None:  # pragma: no cover - matplotlib always writes one
        raise RuntimeError("matplotlib wrote no <svg> element")
    tag = opening.group(0)[:-1]
    if inline:
        tag = _SIZE.sub("", tag)
    data = "".join(f' data-{name}="{escape(value)}"' for name, value in (attrs or {}).items())
    tag += f' id="{ident}" role="img" aria-labelledby="{ident}-title {ident}-desc"{data}>'
    labels = (f'<title id="{ident}-title">{escape(title)}</title>'
              f'<desc id="{ident}-desc">{escape(desc)}</desc>')  # fmt: skip
    prolog = "" if inline else text[: opening.start()]
    return prolog + tag + labels + text[opening.end() :]


def save(fig: Figure, path: Path, *, title: str, desc: str) -> None:
    """Write `fig` as PNG or SVG, by the file's extension."""
    suffix = path.suffix.lower()
    if suffix not in PLOT_FORMATS:
        raise ValueError(f"{path.name}: write .png or .svg, not {suffix or 'no extension'}")
    if suffix == ".svg":
        path.write_text(svg_markup(fig, title=title, desc=desc, inline=False), encoding="utf-8")
        return
    metadata = {"Title": title, "Description": desc, "Software": "sahelcast"}
    with mpl.rc_context(STYLE):
        fig.savefig(path, format="png", dpi=150, metadata=metadata)
