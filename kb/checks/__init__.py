"""Content checks: one registry (`registry.py`), the checks of one case file's fields (`case.py`),
of the whole collection (`collection.py`) and of the bibliography (`bibliography.py`).

To add a check, write a function in the module of its scope and decorate it with
`@register(scope)`; the commands pick it up. Importing this package registers every check.
"""
from . import bibliography, collection  # noqa: F401  (registers their checks)
from .registry import Check, register, registered, run

__all__ = ["Check", "register", "registered", "run"]
