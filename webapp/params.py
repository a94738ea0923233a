"""Reading numbers from query strings and forms. `str.isdigit` accepts '²' and '①', which
`int()` then refuses with a 500; only ASCII digits of a sane length count here."""
from __future__ import annotations

import re

_WHOLE = re.compile(r"[0-9]{1,9}")


def whole_number(text: str | None) -> int | None:
    """The number written in `text`, or None if it is not a plain whole number."""
    return int(text) if text is not None and _WHOLE.fullmatch(text.strip()) else None
