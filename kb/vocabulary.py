"""The controlled vocabulary: shipped defaults plus an optional per-root extension file."""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pycountry
import yaml

from . import regions
from .errors import KbError

KINDS = (
    "themes", "concepts", "market_levels", "indicators_traditional", "indicators_harm",
    "directions", "designs", "statuses", "population", "settings", "drugs", "legal_regimes",
    "effect_types", "significance", "changes", "emmie", "verdicts",
)
# what a knowledge base may add terms to; the others are read by code (kb/evidence_model.py)
EXTENSIBLE = tuple(kind for kind in KINDS if kind not in ("significance", "emmie", "verdicts"))
EXTENSION_FILE = "vocabulary.yaml"


@dataclass(frozen=True)
class Term:
    name: str
    label: str
    help: str = ""
    report: str | None = None
    success: str | None = None     # traditional indicators: `up` or `down`, the scorecard's success


@dataclass
class Vocabulary:
    kinds: dict[str, dict[str, Term]] = field(default_factory=dict)
    _fingerprint: str | None = field(default=None, repr=False, compare=False)

    def terms(self, kind: str) -> dict[str, Term]:
        """The terms of a kind; `regions` are the UN M49 regions (kb.regions), not editable."""
        return region_terms() if kind == "regions" else self.kinds[kind]

    def indicators(self) -> dict[str, Term]:
        return {**self.kinds["indicators_traditional"], **self.kinds["indicators_harm"]}

    def values(self, kind: str) -> dict[str, Term]:
        """The terms of a kind; `indicators` is both kinds of indicator (outcomes)."""
        if kind == "regions":
            return region_terms()
        return self.indicators() if kind == "indicators" else self.kinds.get(kind, {})

    def label(self, kind: str, name: str) -> str:
        """What a page shows for a term: its label, a country's name, or the name itself."""
        if kind == "country":
            return country_name(name)
        term = self.values(kind).get(name)
        return term.label if term else name

    def suggest(self, kind_terms: dict[str, Term] | list[str], value: str) -> str | None:
        names = list(kind_terms)
        matches = difflib.get_close_matches(str(value), names, n=1, cutoff=0.6)
        return matches[0] if matches else None

    def fingerprint(self) -> str:
        """Changes whenever a term is added or removed (part of every file's cache key)."""
        if self._fingerprint is None:
            self._fingerprint = repr(sorted((k, sorted(v)) for k, v in self.kinds.items()))
        return self._fingerprint


def _terms_from(data: dict, source: str, extension: bool = False) -> dict[str, dict[str, Term]]:
    if not isinstance(data, dict):
        raise KbError(f"{source}: the vocabulary must be a mapping of kinds ({', '.join(KINDS)})")
    kinds: dict[str, dict[str, Term]] = {}
    for kind, terms in data.items():
        if kind not in KINDS:
            raise KbError(f"{source}: unknown vocabulary kind {kind!r}; use one of: {', '.join(KINDS)}")
        if extension and kind not in EXTENSIBLE:
            raise KbError(f"{source}: the {kind} cannot be extended: the knowledge base computes them; "
                          f"extend one of: {', '.join(EXTENSIBLE)}")
        if not isinstance(terms, dict):
            raise KbError(f"{source}: {kind} must map each term to its label and help")
        kinds[kind] = {}
        for name, spec in terms.items():
            spec = spec if isinstance(spec, dict) else {}
            kinds[kind][str(name)] = Term(str(name), str(spec.get("label", name)),
                                          str(spec.get("help", "")), spec.get("report"), _success(spec, kind, name, source))
    return kinds


def _success(spec: dict, kind: str, name: str, source: str) -> str | None:
    value = spec.get("success")
    if kind == "indicators_traditional" and value not in ("up", "down"):
        raise KbError(f"{source}: traditional indicator {name!r} needs `success: up` or `success: down` (which way its "
                      "count moves when the traditional scorecard calls it a success)")
    return value


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    text = resources.files("kb").joinpath("vocabulary.yaml").read_text(encoding="utf-8")
    return Vocabulary(_terms_from(yaml.safe_load(text), "kb/vocabulary.yaml"))


def load_vocabulary(root: Path) -> Vocabulary:
    """Defaults, extended (never replaced) by `<root>/vocabulary.yaml` when present."""
    base = default_vocabulary()
    path = root / EXTENSION_FILE
    if not path.exists():
        return base
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise KbError(f"{path}: cannot read the vocabulary extension: {exc}") from exc
    extra = _terms_from(data, str(path), extension=True)
    merged = {kind: dict(terms) for kind, terms in base.kinds.items()}
    for kind, terms in extra.items():
        merged[kind].update(terms)
    return Vocabulary(merged)


@lru_cache(maxsize=1)
def region_terms() -> dict[str, Term]:
    return {slug: Term(slug, found.name, found.level) for slug, found in regions.regions().items()}


@lru_cache(maxsize=512)
def country_name(code: str) -> str:
    """The common English name of an ISO 3166-1 alpha-2 code (the code itself if unknown)."""
    country = pycountry.countries.get(alpha_2=code)
    return getattr(country, "common_name", None) or country.name if country else code
