"""What only the PostgreSQL backend has: its statements' time bounds, and its index written in the
build's own transaction (the shared suites, test_search.py and test_search_words.py, run on both)."""
from __future__ import annotations

import pytest
from conftest import built_kb, case_text
from sqlalchemy import text

from kb.search.postgres import reader

CASES = {f"c{n}.md": case_text(f"c{n}", title=f'"Heroin market {n}"', body="Police and heroin markets.\n")
         for n in range(6)}


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    with built_kb(tmp_path_factory.mktemp("pg"), CASES, backend="postgres") as knowledge_base:
        yield knowledge_base


def test_ranking_past_its_time_is_cut_short_and_the_search_still_answers(kb, monkeypatch):
    assert kb.search("heroin").fallback is False
    slow = "(SELECT 0.0 FROM pg_sleep(0.2)) + " + reader.RANK   # one sleep per ranked case
    monkeypatch.setattr(reader, "RANK", slow)
    monkeypatch.setattr(reader, "RANK_MS", 50)
    result = kb.search("heroin")
    assert result.total == 6 and result.fallback is True               # said to be cut short
    assert [hit.id for hit in result.hits] == [f"c{n}" for n in range(6)]   # unranked: in the order of ids
    assert kb.search("police").total == 6                              # the connection goes on


def test_a_statement_past_every_bound_answers_nothing_and_says_so(kb, monkeypatch):
    monkeypatch.setattr(reader, "RANK_MS", 1)
    monkeypatch.setattr(reader, "UNRANKED_MS", 1)
    monkeypatch.setattr(reader, "RANK", "(SELECT 0.0 FROM pg_sleep(0.05)) + " + reader.RANK)
    original = reader.Index._bounded

    def slow(self, sql, params, ms=reader.RANK_MS, index_only=False):   # make the unranked one slow too
        return original(self, sql.replace("FROM search_documents d WHERE",
                                          "FROM search_documents d, pg_sleep(0.05) WHERE", 1), params, ms, index_only)
    monkeypatch.setattr(reader.Index, "_bounded", slow)
    result = kb.search("heroin")
    assert result.total == 0 and result.hits == [] and result.fallback is True
    monkeypatch.undo()
    assert kb.search("heroin").total == 6


def test_the_index_is_written_in_the_builds_transaction(kb):
    """The rows and the generation the database names are one commit: they always agree."""
    with kb.engine.connect() as conn:
        state = conn.execute(text("SELECT generation FROM search_state")).scalar()
        named = conn.execute(text("SELECT value FROM meta WHERE key = 'index_generation'")).scalar()
        rows = conn.execute(text("SELECT count(*) FROM search_documents")).scalar()
    assert state == named and rows == 6
    assert not (kb.data_dir / "index").exists()


from hypothesis import HealthCheck, given, settings as hsettings, strategies as st  # noqa: E402

PARAMS = st.dictionaries(
    st.sampled_from(["q", "theme", "country", "region", "outcome", "review", "verdict", "sort", "page", "decade"]),
    st.one_of(st.sampled_from(["heroin zzqxv", "heroin", '"heroin market"', "police NOT heroin", "a*", "x:[a TO",
                               "targeted-deterrence", "US", "europe", "reviewed", "unreviewed", "works", "period",
                               "2", "1990s", "'':*", "\x00", "%_", "(" * 50]),
              st.text(max_size=20)), max_size=5)


@pytest.fixture(scope="module")
def web(kb):
    from webapp import create_app
    app = create_app({**kb.settings.as_dict(), "ROOT": str(kb.root), "SECRET_KEY": "a test key of 32 characters!!",
                      "TESTING": True})
    yield app.test_client()
    state = app.extensions["kb"]
    if state["kb"] is not None:
        state["kb"].close()


@hsettings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(params=PARAMS, route=st.sampled_from(["/search", "/api/search", "/search.atom", "/evidence", "/api/evidence"]))
def test_search_routes_on_postgres_never_fail(web, params, route):
    """The web's searches, with the filters and the review and verdict restrictions (which send
    the index a set of ids) and the fallback, on PostgreSQL: an answer or a 400, never a 500."""
    response = web.get(route, query_string=params)
    assert response.status_code in (200, 400), (route, params, response.status_code)
