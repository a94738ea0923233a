"""The read API: the one front door to a built knowledge base. The web, the CLI and any later
edition read cases, evidence, sources, vocabulary, facets, search, related cases, stats and the
reviews' public view through `KnowledgeBase`, and nothing below it.

One object per process (the CLI, or one per web worker). It notices a newer build (the database
names a new index generation) and reopens the index, so a running server needs no restart.

Connections: inside `with session():` (a web request, a CLI command) everything uses one
database connection, opened when first needed and closed at the end; `kb.db` is that connection
(or the engine outside a session) and is what callers hand to the reviews package.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import Counter, OrderedDict
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from . import evidence as evidence_list
from . import eppi, facets, regions, search, storage, tables
from . import verdicts as rules
from . import ledger as ledgers
from .errors import KbError, Unavailable
from .citations.styles import STYLES
from .model import Case, Source
from .related import Related
from .related import related as find_related
from .reviews.views import public_view, reconciled_certainty, review_state_by_case
from .settings import Settings
from .storage import catalog, pages
from .vocabulary import Vocabulary, load_vocabulary

SORTS = facets.SORTS
EVIDENCE_PARAMS, EVIDENCE_SORTS, MAP_PARAMS = evidence_list.PARAMS, evidence_list.SORTS, evidence_list.MAP_PARAMS
MAP_SEGMENTS = evidence_list.SEGMENTS
EMMIE, VERDICTS, VERDICT_RULES = rules.EMMIE, rules.VERDICTS, rules.RULES
LEDGER_MOVES = (ledgers.OUTPUT_MOVES, ledgers.HARM_MOVES)
CSV_RANKED = 1000     # rows of a search's CSV in ranked order (the rest follow by title)


class _Session:
    """One connection per engine, opened on first use; the generation read once."""

    def __init__(self):
        self.connections: dict[int, Connection] = {}
        self.generations: dict[int, str] = {}

    def connection(self, engine: Engine) -> Connection:
        conn = self.connections.get(id(engine))
        if conn is None:
            conn = self.connections[id(engine)] = engine.connect()
            conn.info["shared"] = True   # kb.storage.writing commits on it (see there)
            conn.info["kept"] = {}       # reads kept for this session only (KnowledgeBase._per_session)
        return conn

    def close(self, engine: Engine | None = None) -> None:
        """Every connection (or the one to `engine`) rolled back and returned to its pool."""
        for key, conn in list(self.connections.items()):
            if engine is not None and key != id(engine):
                continue
            try:
                if conn.in_transaction():
                    conn.rollback()   # reads only: every write committed in its own block
            finally:
                conn.info.pop("kept", None)   # info outlives the checkout: it is the pooled connection's
                conn.close()
                del self.connections[key]


_current: ContextVar[_Session | None] = ContextVar("kb_session", default=None)


@contextmanager
def session() -> Iterator[None]:
    """Everything inside shares one database connection (per knowledge base)."""
    opened = _Session()
    token = _current.set(opened)
    try:
        yield
    finally:
        _current.reset(token)
        opened.close()


def check_startup(settings: Settings) -> None:
    """What a server checks before it takes requests: a database whose schema is behind this code
    (run `kb db upgrade`) or ahead of it (a newer kb upgraded it) stops start-up with the message
    saying which; a database not built yet, or not reachable now, does not (requests then say so).
    So a host whose code is not the schema's refuses to start, rather than serving errors."""
    try:
        storage.open_database(settings).dispose()
    except Unavailable as exc:
        if exc.public == storage.UPGRADING:
            raise KbError(f"cannot start: {exc}") from None


class KnowledgeBase:
    def __init__(self, settings: Settings | Path | str, data: Path | str | None = None):
        self.settings = settings if isinstance(settings, Settings) else Settings.for_root(settings, data)
        self.root = self.settings.root
        self.data_dir = self.settings.data_dir
        self.engine = storage.open_database(self.settings)
        self.backend = search.backend(self.settings, lambda: self.db)
        self._index: search.Searcher | None = None
        self._generation = ""
        self._vocabulary: Vocabulary | None = None
        self._lock = threading.Lock()
        self._evidence: dict[tuple[str, bool], evidence_list.Items] = {}
        self._derived: OrderedDict[tuple, object] = OrderedDict()     # see _kept

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
        current = _current.get()
        if current is not None:   # closed inside a session (a command's): its connection goes back first
            current.close(self.engine)
        self.engine.dispose()

    # --- the connection ---------------------------------------------------------------------------

    @property
    def db(self) -> Engine | Connection:
        """The current session's connection, or the engine outside one."""
        current = _current.get()
        return current.connection(self.engine) if current is not None else self.engine

    @property
    def generation(self) -> str:
        """The current build's index generation (read once per session)."""
        current = _current.get()
        if current is None:
            return storage.get_meta(self.engine, "index_generation")
        if id(self.engine) not in current.generations:
            current.generations[id(self.engine)] = storage.get_meta(self.db, "index_generation")
        return current.generations[id(self.engine)]

    # --- search -----------------------------------------------------------------------------------

    @property
    def index(self) -> search.Searcher:
        generation = self.generation
        if not generation:
            raise Unavailable(f"no build found in {self.data_dir}; run `kb build` first", storage.NOT_BUILT)
        if storage.get_meta(self.db, "index_schema") != self.backend.schema_version:
            raise Unavailable(f"the search index in {self.data_dir} was made by another version of kb; run `kb build`",
                              "the knowledge base is being upgraded; its operator must run `kb build`")
        with self._lock:
            if generation != self._generation or self._index is None:
                old = self._index
                self._index = self.backend.open(generation)
                self._generation = generation
                if old is not None:
                    old.close()
            return self._index

    def search(self, query: str, **options) -> search.SearchResult:
        return self.index.search(query, **options)

    def query_fields(self) -> dict[str, tuple[tuple[str, ...], str]]:
        """Every field a query may name -> (the names it answers to, what it holds)."""
        return self.backend.query_fields

    def related(self, case_id: str, limit: int = 5, drafts: bool = False) -> list[Related]:
        """Cases like this one by structure and text, each with its reasons (kb/related.py)."""
        return find_related(self.index, case_id, limit=limit, drafts=drafts, label=self.vocabulary.label)

    # --- cases, sources, terms --------------------------------------------------------------------

    @property
    def vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            self._vocabulary = load_vocabulary(self.root)
        return self._vocabulary

    def case(self, case_id: str, drafts: bool = False) -> Case | None:
        return catalog.case(self.db, case_id, drafts)

    def cases(self, **options) -> list[catalog.CaseSummary]:
        """Summaries: `drafts`, `kind`/`name` (cases with a term), `ids`, `order`, `limit`."""
        return catalog.cases(self.db, **options)

    def full_cases(self, ids: list[str] | None = None, drafts: bool = False) -> list[Case]:
        """Whole cases (body and evidence), in title order or in the order of `ids`."""
        return catalog.full_cases(self.db, ids, drafts)

    def term_counts(self, kind: str, drafts: bool = False) -> dict[str, int]:
        return catalog.term_counts(self.db, kind, drafts)

    def sources(self, keys: list[str] | None = None) -> dict[str, Source]:
        return catalog.sources(self.db, keys)

    def citing(self, key: str, drafts: bool = False) -> list[catalog.Citing]:
        return catalog.citing(self.db, key, drafts)

    def case_page(self, case_id: str, style: str, base_url: str, drafts: bool = False) -> tuple[Case, dict] | None:
        """(case, rendered parts with related cases). Rendered by the build and shared; rendered
        here and kept when missing. Pages that may show drafts (to reviewers) are not shared."""
        case = self.case(case_id, drafts)
        if case is None:
            return None
        shared = not drafts and style in STYLES   # other styles (any of ~2,900) are never stored: the
        parts = pages.stored_page(self.db, case, style) if shared else None   # web's memo keeps recent ones
        if parts is None:
            parts = pages.render_case(self.db, case, style)
            if shared:
                pages.store(self.db, case, style, parts)
        return case, {**pages.with_base_url(parts, base_url), "related": self._related_parts(case_id, drafts)}

    def _related_parts(self, case_id: str, drafts: bool) -> list[dict]:
        """Related cases as page data (dicts of Related's fields): shared by every worker for the
        current generation (computed once per case and build, see kb/related.py)."""
        if drafts:
            return [vars(hit) for hit in self.related(case_id, drafts=True)]
        stored = pages.stored_related(self.db, self.generation, case_id)
        if stored is None:
            stored = [vars(hit) for hit in self.related(case_id)]
            pages.store_related(self.db, self.generation, case_id, stored)
        return stored

    # --- regions (UN M49, kb/regions.py) -----------------------------------------------------------

    @staticmethod
    def region(slug: str) -> regions.Region | None:
        return regions.region(slug)

    @staticmethod
    def region_tree() -> list[tuple[regions.Region, int]]:
        """Every region with its depth (0: the five regions), each followed by the ones within it."""
        every = regions.regions()
        out: list[tuple[regions.Region, int]] = []

        def walk(parent: str | None, depth: int) -> None:
            for found in every.values():
                if found.parent == parent:
                    out.append((found, depth))
                    walk(found.slug, depth + 1)
        walk(None, 0)
        return out

    # --- the evidence list -------------------------------------------------------------------------

    def evidence(self, query: str = "", *, filters: dict[str, list[str]] | None = None, min_strength: int | None = None,
                 reconciled: bool = False, drafts: bool = False, sort: str = "case", limit: int = 50,
                 offset: int = 0) -> tuple[evidence_list.EvidenceList, search.SearchResult | None]:
        """Evidence items (kb/evidence.py) passing the filters (URL parameter -> values, see
        kb.evidence.PARAMS), of the cases a text query finds; and that search's result (its
        suggestion, whether it was relaxed), None without a query. limit 0: counts only."""
        found = self.search(query, limit=0, drafts=drafts, counts=False) if query.strip() else None
        grades = self.reconciled_grades()
        chosen = evidence_list.select(self._evidence_items(drafts), filters=filters or {},
                                      case_ids=set(found.ids) if found is not None else None,
                                      min_strength=min_strength, reconciled=grades, only_reconciled=reconciled,
                                      sort=sort, limit=limit, offset=offset)
        return chosen, found

    def reconciled_grades(self) -> dict[tuple[str, str], int | None]:
        """(case, evidence item) -> the SMS grade an editor reconciled (the reviews' public view)."""
        return {(g.target.case_id, g.target.evidence_id): g.sms_grade
                for g in self.public_reviews().values() if g.target.evidence_id}

    def _evidence_items(self, drafts: bool) -> evidence_list.Items:
        """Every visible evidence item with its facet values, read once per build generation."""
        key = (self.generation, drafts)
        made = self._evidence.get(key)
        if made is None:
            made = evidence_list.Items(*catalog.evidence_rows(self.db, drafts))
            with self._lock:
                self._evidence = {k: v for k, v in self._evidence.items() if k[0] == key[0]}
                self._evidence[key] = made
        return made

    def evidence_grid(self, *, filters: dict[str, list[str]] | None = None, min_strength: int | None = None,
                      drafts: bool = False, rows: str = "theme", cols: str = "outcome", segment: str = "direction",
                      verdicts: bool = False) -> dict[tuple[str, str], evidence_list.Cell]:
        """The evidence map: (row value, column value) -> items, their strengths and segments (by
        direction or design), for the filters of the evidence list (each cell opens /evidence with
        its two values added). An outcome axis holds the harm outcomes. With `verdicts` (one axis
        the outcome), each cell also gets the verdict of its own items (`cell.verdict`)."""
        every = self._evidence_items(drafts)
        grades = self.reconciled_grades()

        def compute() -> dict[tuple[str, str], evidence_list.Cell]:
            cells = evidence_list.grid(every, filters=filters or {}, min_strength=min_strength, reconciled=grades,
                                       rows=rows, cols=cols, segment=segment, values={"outcome": list(self.harm_outcomes)})
            if verdicts and "outcome" in (rows, cols):
                for cell in cells.values():
                    cell.verdict = rules.cell_verdict([every.rows[n] for n in cell.items], grades)
            return cells
        chosen = tuple(sorted((k, tuple(v)) for k, v in (filters or {}).items() if v))
        return self._kept((self.generation, "grid", drafts, self._grades_key(grades), chosen, min_strength, rows, cols,
                           segment, verdicts), compute)

    def evidence_citations(self, rows: list[catalog.EvidenceRow], style: str) -> list[str]:
        """The formatted in-text citation of each row (HTML), from the rendered case pages, or
        formatted here for rows whose page is not rendered (drafts, a build still rendering)."""
        stored = catalog.evidence_citations(self.db, list({row.case_id for row in rows}), style, pages.RENDERER)
        shown: list[str | None] = []
        for row in rows:
            cites = stored.get(row.case_id)
            shown.append(cites[row.position] if cites is not None and row.position < len(cites) else None)
        missing = [n for n, cite in enumerate(shown) if cite is None]
        for n, cite in zip(missing, pages.format_cites(self.db, [rows[n].cite for n in missing], style) if missing else []):
            shown[n] = cite
        return shown

    # --- verdicts, EMMIE and the ledger (kb/verdicts.py, kb/ledger.py; rules in docs/verdicts.md) ---

    @property
    def harm_outcomes(self) -> tuple[str, ...]:
        return tuple(self.vocabulary.kinds["indicators_harm"])

    def verdicts(self, drafts: bool = False) -> dict[str, dict[str, rules.Verdict]]:
        """case id -> harm outcome -> verdict, with the editors' reconciled grades in place of the
        authors' (computed once per build generation and state of the reconciliations)."""
        grades = self.reconciled_grades()
        return self._kept((self.generation, "verdicts", drafts, self._grades_key(grades)),
                          lambda: rules.table(self._evidence_items(drafts).rows, self.harm_outcomes, grades))

    KEPT = 64     # derived results kept per process (verdict tables, ledgers, map grids)

    def _kept(self, key: tuple, compute):
        """A result derived from one build generation (key[0]) and, where the key says so, one state
        of the reconciliations: computed once and kept for the process's later requests (the
        KEPT most recently used; those of an older generation are dropped)."""
        with self._lock:
            if key in self._derived:
                self._derived.move_to_end(key)
                return self._derived[key]
        value = compute()
        with self._lock:
            for stale in [k for k in self._derived if k[0] != key[0]]:
                del self._derived[stale]
            self._derived[key] = value
            while len(self._derived) > self.KEPT:
                self._derived.popitem(last=False)
        return value

    @staticmethod
    def _grades_key(grades: dict) -> frozenset:
        return frozenset((target, grade) for target, grade in grades.items() if grade)

    def verdict_facet(self, case_ids, drafts: bool = False) -> dict[str, int]:
        """verdict -> how many of the cases have it on some harm outcome (a search's `verdict` facet:
        it comes from the evidence and the reconciliations, not from the index)."""
        grades = self.reconciled_grades()
        by_case = self._kept((self.generation, "verdict sets", drafts, self._grades_key(grades)), lambda: {
            case_id: frozenset(v.verdict for v in found.values()) for case_id, found in self.verdicts(drafts).items()})
        sets = Counter(by_case.get(case_id, frozenset()) for case_id in case_ids)   # few distinct sets
        counts: Counter[str] = Counter()
        for kinds, n in sets.items():
            for verdict in kinds:
                counts[verdict] += n
        return {verdict: counts[verdict] for verdict in rules.VERDICTS if verdict in counts}

    def cases_with_verdict(self, chosen, drafts: bool = False) -> set[str]:
        """The cases with any of the `chosen` verdicts on some harm outcome."""
        wanted = set(chosen)
        return {case_id for case_id, found in self.verdicts(drafts).items()
                if any(v.verdict in wanted for v in found.values())}

    def case_ids_with(self, filters: dict[str, list[str]], drafts: bool = False) -> set[str]:
        """The cases with evidence passing the filters (URL parameter -> values, kb.evidence.PARAMS)."""
        every = self._evidence_items(drafts)
        return every.case_ids(every.matching(filters))

    def group_verdicts(self, filters: dict[str, list[str]], drafts: bool = False) -> dict[str, rules.Verdict]:
        """harm outcome -> the verdict of the cases the filters choose (a theme, a region...)."""
        every = self._evidence_items(drafts)
        return rules.groups(self.verdicts(drafts), every.rows, self.case_ids_with(filters, drafts), self.harm_outcomes)

    emmie = staticmethod(rules.emmie)      # the EMMIE dimensions a case documents

    def findings(self, filters: dict[str, list[str]], drafts: bool = False) -> list[rules.Finding]:
        """A summary of findings of the cases the filters choose: per harm outcome, the verdict, an
        indicative certainty and the strongest item."""
        every = self._evidence_items(drafts)
        chosen = self.case_ids_with(filters, drafts)
        group = rules.groups(self.verdicts(drafts), every.rows, chosen, self.harm_outcomes)
        found = rules.findings(group, every.rows, chosen, self.reconciled_grades())
        if set(filters) == {"theme"} and len(filters["theme"]) == 1:   # a theme's: editors may have rated it
            graded = reconciled_certainty(self.db, filters["theme"][0])
            found = [dataclasses.replace(f, certainty=graded[f.outcome][0], graded=True, downgrades=graded[f.outcome][1])
                     if f.outcome in graded else f for f in found]
        return found

    @staticmethod
    def findings_table(found: list[rules.Finding], title: str, fmt: str, label) -> str:
        """A summary of findings as CSV (`csv`, columns in docs/csv.md) or a Markdown table (`md`)."""
        return tables.findings_csv(found, label) if fmt == "csv" else tables.findings_markdown(found, title, label)

    def _case_ledgers(self, drafts: bool, case_ids: set[str] | None = None) -> dict[str, ledgers.CaseLedger]:
        """Every case's ledger (read from its items once per build generation), or those of `case_ids`."""
        def compute() -> dict[str, ledgers.CaseLedger]:
            success = {name: term.success for name, term in self.vocabulary.kinds["indicators_traditional"].items()}
            return {case_id: ledgers.case_ledger(case_id, found[0].case_title, found, success, set(self.harm_outcomes))
                    for case_id, found in rules.by_case(self._evidence_items(drafts).rows).items()}
        every = self._kept((self.generation, "ledgers", drafts), compute)
        return every if case_ids is None else {c: every[c] for c in case_ids if c in every}

    def case_ledger(self, case_id: str, drafts: bool = False) -> ledgers.CaseLedger | None:
        """A case's outputs beside its harms (None when it has no evidence item)."""
        return self._case_ledgers(drafts, {case_id}).get(case_id)

    def ledger(self, filters: dict[str, list[str]] | None = None, *, opposite: bool = False, by: str = "theme",
               drafts: bool = False) -> ledgers.Ledger:
        """The output-versus-harm ledger of the cases the filters choose, counted per value of `by`."""
        every = self._evidence_items(drafts)
        groups_of = {case_id: values.get(by, ()) for case_id, values in every.case_values.items()}
        only = self.case_ids_with(filters, drafts) if filters else None
        return ledgers.ledger(self._case_ledgers(drafts, only), groups_of, only, opposite)

    # --- spreadsheets -------------------------------------------------------------------------------

    def search_csv(self, query: str, url_of, **options) -> str:
        """Every case the search finds (kb/tables.py columns), best first: the first CSV_RANKED in
        ranked order, the rest by title (ranking thousands is what a time-limited ranking cuts)."""
        found = self.search(query, **{**options, "limit": CSV_RANKED, "offset": 0})
        order = [hit.id for hit in found.hits]
        ranked = set(order)
        summaries = {c.id: c for c in self.cases(ids=found.ids, drafts=options.get("drafts", False))}
        order += sorted((i for i in summaries if i not in ranked), key=lambda i: (summaries[i].title, i))
        return tables.search_table((summaries[i] for i in order if i in summaries), url_of)

    def evidence_csv(self, query: str, style: str, url_of, **options) -> str:
        """Every evidence item the list finds (kb/tables.py columns), with formatted citations."""
        chosen, _ = self.evidence(query, **{**options, "limit": 10 ** 9, "offset": 0})
        citations: list[str] = []
        for start in range(0, len(chosen.rows), 500):
            citations += self.evidence_citations(chosen.rows[start:start + 500], style)
        return tables.evidence_table(chosen.rows, citations, self.reconciled_grades(), url_of)

    def eppi_mapper(self, filters: dict[str, list[str]] | None = None, drafts: bool = False, *,
                    min_strength: int | None = None, item_url=None) -> dict:
        """The evidence items the filters choose (as the evidence list's) as the EPPI-Reviewer JSON
        that EPPI-Mapper builds maps from (kb/eppi.py, docs/eppi-mapper.md). `item_url(case, item)`
        is the address of an item whose source has none (default: under the settings' base URL)."""
        every = self._evidence_items(drafts)
        chosen = every.matching(filters or {})
        if min_strength is not None:
            chosen &= every.at_least(min_strength)
        rows = [every.rows[n] for n in evidence_list.indices(chosen)]
        base = self.settings.base_url
        return eppi.eppi_mapper(rows, every.case_values, self.sources(list({k for row in rows for k in row.keys})),
                                self.vocabulary, self.region_tree(),
                                item_url or (lambda case, item: f"{base}/cases/{case}#evidence-{item}"))

    # --- reviews' public view ---------------------------------------------------------------------

    def public_reviews(self, case_id: str | None = None) -> dict:
        """Reconciled grades readers may see (kb.reviews.views.public_view)."""
        if case_id is not None:
            return public_view(self.db, case_id)
        return self._per_session("public reviews", lambda: public_view(self.db))

    def review_states(self, public: bool = True) -> dict[str, str]:
        if public:      # the reconciled cases: from the public view the same request reads anyway
            return {grade.target.case_id: "reconciled" for grade in self.public_reviews().values()}
        return review_state_by_case(self.db, public=False)

    def _per_session(self, name: str, compute):
        """A read kept for the rest of the current request or command (reviews change between
        builds, so they cannot be kept longer); a write through the session's connection drops it
        (kb.storage.writing). Outside a session, read every time."""
        db = self.db
        if isinstance(db, Engine):
            return compute()
        kept = db.info.setdefault("kept", {})    # new for each session (_Session.connection)
        if name not in kept:
            kept[name] = compute()
        return kept[name]

    # --- counts -----------------------------------------------------------------------------------

    def stats(self) -> dict:
        T = storage
        with storage.reading(self.db) as conn:
            by_status = dict(conn.execute(select(T.cases.c.status, func.count()).group_by(T.cases.c.status)).all())

            def terms(kind):
                rows = conn.execute(select(T.case_terms.c.name, func.count()).where(T.case_terms.c.kind == kind)
                                    .group_by(T.case_terms.c.name).order_by(func.count().desc(), T.case_terms.c.name))
                return dict(rows.all())
            n_sources = conn.execute(select(func.count()).select_from(T.sources)).scalar()
            cited = conn.execute(select(func.count(T.citations.c.source_key.distinct()))).scalar()
            n_evidence = conn.execute(select(func.count()).select_from(T.evidence_items)).scalar()
            n_citations = conn.execute(select(func.count()).select_from(T.citations)).scalar()
            theme_counts, country_counts = terms("theme"), terms("country")
            built_at = storage.get_meta(conn, "built_at")
        total = sum(by_status.values())
        return {
            "cases": total, "by_status": by_status, "themes": theme_counts, "countries": country_counts,
            "evidence_items": n_evidence, "citations": n_citations, "sources": n_sources,
            "sources_cited": cited, "citation_coverage": round(cited / n_sources, 3) if n_sources else 0.0,
            "built_at": built_at,
        }
