"""Small HTML pieces the report page is built from (every value escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape


def table(rows: Sequence[tuple[str, object]], table_id: str | None = None) -> str:
    """A two-column table of names and values; integers right-aligned."""
    numeric = ' class="n"'
    cells = [
        f"<tr><th>{escape(str(k))}</th><td{numeric if isinstance(v, int) else ''}>{escape(str(v))}</td></tr>"
        for k, v in rows
    ]
    opening = f'<table id="{table_id}">' if table_id else "<table>"
    return opening + "\n" + "\n".join(cells) + "\n</table>"


def grid(header: Sequence[str], rows: Sequence[Sequence[object]], table_id: str, hashes: Sequence[int] = ()) -> str:
    """A table with a header row; the columns listed in `hashes` are set as (long) checksums."""
    hash_class = ' class="hash"'
    lines = ["<tr>" + "".join(f"<th>{escape(name)}</th>" for name in header) + "</tr>"]
    for row in rows:
        cells = [f"<td{hash_class if i in hashes else ''}>{escape(str(v))}</td>" for i, v in enumerate(row)]
        lines.append("<tr>" + "".join(cells) + "</tr>")
    return f'<table id="{table_id}">\n' + "\n".join(lines) + "\n</table>"
