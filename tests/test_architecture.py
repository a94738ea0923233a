"""The architecture, checked: what may import what (docs/architecture.md draws the layers), no
import cycles, the web's few doors into kb, the environment read in one place, facets named in
one place, and one database connection per request."""
from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A module may import modules of its own layer or below, never above.
LAYERS = [
    ("base", ["kb", "kb.errors", "kb.settings", "kb.fields", "kb.urls"]),
    ("terms", ["kb.model", "kb.regions", "kb.vocabulary", "kb.facets", "kb.hooks", "kb.verdicts", "kb.ledger"]),
    ("formats", ["kb.citations", "kb.citations.bibliography", "kb.citations.keys", "kb.citations.styles",
                 "kb.citations.exports", "kb.citations.embedded", "kb.content", "kb.content.frontmatter",
                 "kb.content.markup", "kb.content.body"]),
    ("collection", ["kb.content.collection", "kb.checks", "kb.checks.*", "kb.content.loader", "kb.citations.selection",
                    "kb.citations.briefing"]),
    ("search", ["kb.search", "kb.search.*", "kb.related"]),
    ("storage", ["kb.storage", "kb.storage.*"]),
    ("reviews", ["kb.reviews", "kb.reviews.*"]),
    ("migrations", ["kb.migrations", "kb.migrations.*"]),
    ("read API", ["kb.knowledgebase", "kb.evidence", "kb.tables", "kb.eppi"]),
    ("interfaces", ["kb.cli", "kb.cli.*", "webapp", "webapp.*"]),
]
MAX_WEB_IMPORTS = 6


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted([*(ROOT / "kb").rglob("*.py"), *(ROOT / "webapp").rglob("*.py")]):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


MODULES = modules()


def imports(name: str, path: Path) -> set[str]:
    """Every kb/webapp module `name` imports, anywhere in the file (inside functions and
    TYPE_CHECKING blocks too): `from .x import y` counts x.y when that is a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
            target = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target)
    return {module for module in found if module in MODULES and module != name}


GRAPH = {name: imports(name, path) for name, path in MODULES.items()}


def layer_of(name: str) -> int:
    """The layer of the longest pattern that matches (`kb.citations.selection` before `kb.citations`)."""
    matches = [(len(pattern), rank) for rank, (_, patterns) in enumerate(LAYERS) for pattern in patterns
               if name == pattern or (pattern.endswith(".*") and name.startswith(pattern[:-1]))]
    assert matches, f"{name} is in no layer of tests/test_architecture.py: add it"
    return max(matches)[1]


def test_every_module_has_a_layer():
    assert all(layer_of(name) is not None for name in MODULES)


def test_no_module_imports_a_layer_above_its_own():
    upward = [f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
              for name, targets in GRAPH.items() for target in sorted(targets) if layer_of(target) > layer_of(name)]
    assert upward == []


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in GRAPH:
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert cycles() == []


def web_imports() -> set[str]:
    return {target for name, targets in GRAPH.items() if name.startswith("webapp")
            for target in targets if target.startswith("kb")}


def test_the_web_uses_few_doors_into_kb():
    assert sorted(web_imports()) == ["kb.citations", "kb.errors", "kb.facets", "kb.knowledgebase", "kb.reviews",
                                     "kb.settings"]
    assert len(web_imports()) <= MAX_WEB_IMPORTS


def test_the_cli_and_the_web_read_builds_only_through_the_read_api():
    """The CLI may write (kb.storage.build, kb.storage.pages for `kb render`); nobody reads below the read API."""
    assert {(name, target) for name, targets in GRAPH.items() if name.startswith(("webapp", "kb.cli"))
            for target in targets if target.startswith(("kb.search", "kb.storage.catalog"))} == set()
    assert {(name, target) for name, targets in GRAPH.items() if name.startswith("webapp")
            for target in targets if target.startswith("kb.storage")} == set()


def test_the_environment_is_read_in_one_place():
    readers = []
    for name, path in MODULES.items():
        text = path.read_text(encoding="utf-8")
        if re.search(r"os\.environ|os\.getenv|envvar=", text) and name not in ("kb.settings", "kb.reviews.backup"):
            readers.append(name)
    assert readers == []   # kb.reviews.backup hands the environment to pg_dump (with PGPASSWORD added)


def files_naming(*spellings: str) -> set[str]:
    pattern = re.compile("|".join(rf"[\"']{re.escape(word)}[\"']" for word in spellings))
    return {name for name, path in MODULES.items() if pattern.search(path.read_text(encoding="utf-8"))}


def test_a_facet_is_named_in_its_row():
    """Beyond its row in kb/facets.py, a facet is named only as what it is elsewhere: a field of
    the case format (kb/fields.py) and a vocabulary kind (kb/vocabulary.py); `decade` also marks a
    field whose ranges are kept whole (kb/search/whoosh/queries.py). Filters, panels, CLI options,
    the API, the index schema and the stored rows all come from the row."""
    assert files_naming("market_level", "market_levels") == {"kb.facets", "kb.fields", "kb.vocabulary"}
    assert files_naming("decade", "decades") == {"kb.facets", "kb.search.whoosh.queries"}


# --- one connection per request ---------------------------------------------------------------

def counting(app, client):
    """Connections checked out of the pool per request."""
    from webapp.kbstore import get_kb
    with app.app_context():
        engine = get_kb().engine
    counts = defaultdict(int)
    current = {"name": None}
    event.listen(engine, "checkout", lambda *_: counts.__setitem__(current["name"], counts[current["name"]] + 1))

    def request(name, method, url, **kwargs):
        current["name"] = name
        response = getattr(client, method)(url, **kwargs)
        current["name"] = None
        return response
    return counts, request


CONNECTIONS = {"search page": 1, "case page, first view": 1, "case page": 1, "API search": 1,
               "review save": 1, "review save, conflict": 1, "sign-in": 1}


def test_each_request_opens_one_connection(app, client, monkeypatch):
    from argon2 import PasswordHasher
    from test_web_reviews import PASSWORD

    from kb.reviews import accounts
    from kb.reviews.roles import system_actor
    from webapp.kbstore import get_kb
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    with app.app_context():
        accounts.add_user(get_kb().engine, system_actor(), "alice", "reviewer", PASSWORD)
    counts, request = counting(app, client)
    with app.app_context():   # start cold: no rendered page of the sample case
        from kb import storage
        with get_kb().engine.begin() as conn:
            conn.execute(storage.rendered.delete())
    assert request("search page", "get", "/search?q=police&theme=police-harm-reduction").status_code == 200
    assert request("case page, first view", "get", "/cases/sample-case?style=harvard").status_code == 200
    assert request("case page", "get", "/cases/second-case").status_code == 200
    assert request("API search", "get", "/api/search?q=police").status_code == 200
    assert request("sign-in", "post", "/signin", data={"name": "alice", "password": PASSWORD}).status_code == 302
    form = {"sms_grade": "4", "confidence": "high", "relevance": "high", "status": "reviewed", "note": "fine"}
    target = "/reviews/item/second-case/shootings"
    assert request("first save", "post", target, data=form).status_code == 302                       # version 1
    assert request("review save", "post", target, data={**form, "version": "1"}).status_code == 302   # version 2
    assert request("review save, conflict", "post", target, data={**form, "version": "1"}).status_code == 409
    counts.pop("first save")
    counts.pop(None)   # the test's own setup
    assert dict(counts) == CONNECTIONS
