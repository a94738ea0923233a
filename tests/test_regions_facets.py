"""Regions (UN M49), query words naming a region, facets that combine as researchers expect (OR
within a facet, AND across, a chosen facet still counting its other values), the direction facet,
and search that never dead-ends (cases with most of the words when none has all)."""
from __future__ import annotations


import pytest
from conftest import built_kb, case_text

from kb import regions
from kb.knowledgebase import KnowledgeBase
from kb.storage.build import build


def evidence(outcome: str, direction: str) -> str:
    return f"""evidence:
  - id: e1
    claim: Homicides changed after the programme.
    cite: "[@doe2020policing, p. 2]"
    outcome: {outcome}
    direction: {direction}
    design: time-series
    strength: 3"""


CASES = {
    "rio.md": case_text("rio", title='"Pacifying police units in Rio de Janeiro"', country="BR", locality="Rio",
                        evidence=evidence("violence", "improved"), body="Favelas were occupied by police.\n"),
    "mexico.md": case_text("mexico", title='"Kingpin strategy in Mexico"', country="MX", locality="Mexico",
                           evidence=evidence("violence", "worsened"), body="Cartel leaders were arrested.\n"),
    "bogota.md": case_text("bogota", title='"Hot spots policing in Bogota"', country="CO", locality="Bogota",
                           themes="[targeted-deterrence]", evidence=evidence("violence", "improved"),
                           body="Patrols targeted street segments.\n"),
    "lagos.md": case_text("lagos", title='"Drug courts in Lagos"', country="NG", locality="Lagos",
                          body="A court programme in West Africa.\n"),
    "leeds.md": case_text("leeds", title='"Arrest referral in Leeds"', country="GB", locality="Leeds",
                          body="Arrested people were referred to treatment.\n"),
    "lima.md": case_text("lima", title='"Draft case in Lima"', country="PE", status="draft"),
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory):
    with built_kb(tmp_path_factory.mktemp("regions"), CASES) as knowledge_base:
        yield knowledge_base


def ids(result) -> set[str]:
    return {hit.id for hit in result.hits}


# --- the M49 table -------------------------------------------------------------------------------

def test_each_country_gets_its_region_sub_region_and_intermediate_region():
    assert regions.regions_of(["BR"]) == ["americas", "latin-america-and-the-caribbean", "south-america"]
    assert regions.regions_of(["NG"]) == ["africa", "sub-saharan-africa", "western-africa"]
    assert regions.regions_of(["GB"]) == ["europe", "northern-europe"]
    assert regions.regions_of(["US"]) == ["americas", "northern-america"]
    assert regions.regions_of(["TH", "th"]) == ["asia", "south-eastern-asia"]   # each once, any case
    assert regions.regions_of(["ZZ"]) == []


def test_regions_are_named_by_the_slug_of_their_m49_name():
    found = regions.region("latin-america-and-the-caribbean")
    assert (found.name, found.level, found.code, found.parent) == ("Latin America and the Caribbean", "sub-region",
                                                                     "419", "americas")
    assert {"BR", "MX", "CO", "JM"} <= set(found.countries) and "US" not in found.countries
    assert regions.region("western-africa").level == "intermediate region"
    assert list(regions.regions())[:5] == ["africa", "americas", "asia", "europe", "oceania"]   # larger first


@pytest.mark.parametrize("text, expected", [
    ("violence in Latin America", [("Latin America", "latin-america-and-the-caribbean")]),
    ("LATAM cocaine", [("LATAM", "latin-america-and-the-caribbean")]),
    ("West Africa and South-East Asia", [("West Africa", "western-africa"), ("South-East Asia", "south-eastern-asia")]),
    ("latin america and the caribbean", [("latin america and the caribbean", "latin-america-and-the-caribbean")]),
    ("Sub-Saharan Africa", [("Sub-Saharan Africa", "sub-saharan-africa")]),
    ('"latin america" region:x west:africa', []),        # quoted or fielded: meant literally
    ("latin, america", []),                              # not one phrase
    ("americano", []),
])
def test_query_words_that_name_a_region(text, expected):
    assert [(text[start:end], slug) for start, end, slug in regions.named_regions(text)] == expected


# --- search ---------------------------------------------------------------------------------------

def test_words_naming_a_region_match_the_cases_in_it(kb):
    result = kb.search("latin america")
    assert ids(result) == {"rio", "mexico", "bogota"} and result.total == 3   # the draft in Peru is not shown
    assert ids(kb.search("police west africa")) == {"lagos"}
    assert ids(kb.search("latam")) == {"rio", "mexico", "bogota"}
    assert kb.search("latin america", drafts=True).total == 4


def test_region_facet_counts_and_filters(kb):
    result = kb.search("")
    assert result.facets["regions"]["latin-america-and-the-caribbean"] == 3
    assert result.facets["regions"]["south-america"] == 2
    assert ids(kb.search("", filters={"regions": ["south-america"]})) == {"rio", "bogota"}
    assert ids(kb.search("region:western-africa")) == {"lagos"}


def test_values_of_one_facet_are_ored_and_facets_anded(kb):
    both = kb.search("", filters={"country": ["BR", "MX"]})
    assert ids(both) == {"rio", "mexico"}
    anded = kb.search("", filters={"country": ["BR", "MX"], "direction": ["improved"]})
    assert ids(anded) == {"rio"}


def test_a_chosen_facet_keeps_counting_its_other_values(kb):
    result = kb.search("", filters={"country": ["BR"]})
    assert result.total == 1
    assert result.facets["country"] == {"BR": 1, "CO": 1, "GB": 1, "MX": 1, "NG": 1}   # every value, as if unchosen
    assert result.facets["themes"] == {"police-harm-reduction": 1}                    # other facets: the matches
    combined = kb.search("", filters={"country": ["BR", "CO"], "direction": ["improved"]})
    # other facets' choices still apply: Mexico's item worsened
    assert combined.facets["country"] == {"BR": 1, "CO": 1, "GB": 1, "NG": 1}
    assert combined.facets["direction"] == {"improved": 2}
    assert "PE" not in kb.search("", filters={"country": ["BR"]}).facets["country"]   # drafts never counted


def test_direction_facet_over_evidence_items(kb):
    result = kb.search("")
    assert result.facets["direction"]["improved"] == 4 and result.facets["direction"]["worsened"] == 1
    assert ids(kb.search("", filters={"direction": ["worsened"]})) == {"mexico"}


def test_no_case_with_every_word_shows_cases_with_most(kb):
    result = kb.search("police favelas xyzzyq")
    assert result.relaxed == (2, 3)
    assert [hit.id for hit in result.hits][0] == "rio"           # the one case with two of the three words first
    assert "leeds" in ids(result)                                # then cases with one
    assert kb.search("police favelas").relaxed is None            # every word found: no relaxing
    assert kb.search("xyzzyq qqzzx").total == 0                   # no word found anywhere: nothing to show


def test_relaxing_keeps_not_and_filters_required(kb):
    result = kb.search("police xyzzyq NOT favelas")
    assert result.relaxed is not None and "rio" not in ids(result) and result.total > 0
    filtered = kb.search("police xyzzyq", filters={"country": ["GB"]})
    assert ids(filtered) == {"leeds"} and filtered.relaxed == (1, 2)


def test_relaxed_results_page_through_every_match(kb):
    everything = kb.search("police favelas xyzzyq", limit=50)
    pages = [hit.id for offset in range(0, everything.total, 2)
             for hit in kb.search("police favelas xyzzyq", limit=2, offset=offset).hits]
    assert sorted(pages) == sorted(hit.id for hit in everything.hits) and len(pages) == len(set(pages))


def test_an_older_build_gets_its_rows_rewritten(kb_root, monkeypatch):
    """Term rows gained regions and directions: a build over an older build rewrites every case."""
    from sqlalchemy import select, update

    from kb import storage
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    root = kb_root({"rio.md": CASES["rio.md"]})
    build(root)
    knowledge_base = KnowledgeBase(root)
    try:
        with knowledge_base.engine.begin() as conn:
            conn.execute(storage.case_terms.delete().where(storage.case_terms.c.kind == "region"))
            conn.execute(update(storage.meta).where(storage.meta.c.key == "rows_schema").values(value="1"))
        with knowledge_base.engine.connect() as conn:
            pages_before = conn.execute(select(storage.rendered.c.case_id)).all()
        report = build(root)
        assert report.changed == []                      # the content did not change ...
        with knowledge_base.engine.connect() as conn:
            names = set(conn.execute(select(storage.case_terms.c.name).where(storage.case_terms.c.kind == "region")).scalars())
        assert names == {"americas", "latin-america-and-the-caribbean", "south-america"}   # ... its rows did
        with knowledge_base.engine.connect() as conn:
            assert conn.execute(select(storage.rendered.c.case_id)).all() == pages_before   # pages are kept
        assert build(root).changed == []
    finally:
        knowledge_base.close()
