"""Attacks on the web app, as tables: headers on every response, redirects that could leave the
site, sessions that outlive sign-out, throttled sign-ins, drafts that answer like unknown ids,
numbers that `str.isdigit` accepts, settings that crash start-up, a database that goes away.
(Several real gunicorn workers are attacked in test_web_server.py.)"""
from __future__ import annotations

import json
import os
import threading
import time

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select
from test_web_reviews import PASSWORD, TARGET, review, signin, users  # noqa: F401  (fixture)

from kb.reviews import accounts, throttle
from kb.reviews.roles import system_actor
from kb.reviews.tables import signin_failures
from kb.settings import SettingError
from webapp import create_app
from webapp.security import CSP, local_target

PAGES = ["/", "/search?q=police", "/cases/sample-case", "/sources/doe2020policing", "/themes",
         "/themes/police-harm-reduction", "/evidence-map", "/charts", "/basket", "/signin", "/compare?id=sample-case&id=second-case",
         "/countries/CA", "/feed.atom", "/api/search?q=x", "/api/cases/nope", "/cases/nope", "/static/style.css",
         "/cases/sample-case/cite.bib", "/reviews"]


@pytest.mark.parametrize("url", PAGES)
def test_every_response_carries_the_security_headers(client, url):
    with client.get(url) as response:
        headers = response.headers
    assert headers["Content-Security-Policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers       # plain http here


def test_hsts_over_https(client):
    assert client.get("/", base_url="https://kb.example.org").headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.parametrize("url", [u for u in PAGES if not u.startswith(("/api", "/static", "/feed", "/cases/sample-case/"))])
def test_pages_have_no_inline_script_or_style(client, users, url):  # noqa: F811
    signin(client, "ed")
    page = BeautifulSoup(client.get(url).data, "html.parser")
    # a script is a file of this site, or JSON-LD: a data block, which browsers never run
    assert all(script.get("src") or (script.get("type") == "application/ld+json" and json.loads(script.string))
               for script in page.find_all("script"))
    assert page.find("style") is None and not page.select("[style]")
    assert not [tag for tag in page.find_all(True) if any(attr.startswith("on") for attr in tag.attrs)]


# --- redirects ------------------------------------------------------------------------------------

OUTSIDE = ["//evil.example/", "/%09/evil.example/", "/\t/evil.example/", "/\\evil.example/", "\\\\evil.example",
           "https://evil.example/", "javascript:alert(1)", "/\r\nSet-Cookie: x=1", "/\nevil", " //evil.example",
           "/%2F/evil.example", "/%2f%2fevil.example", "/%5Cevil.example", "http:/evil.example", "/\x00/evil",
           "//\u3000evil.example", "\u2215\u2215evil.example", "evil.example", "", "/" + "a" * 3000]
INSIDE = [("/reviews", "/reviews"), ("/cases/sample-case?style=apa#refs", "/cases/sample-case?style=apa#refs"),
          ("/search?q=Z\u00fcrich", "/search?q=Z%C3%BCrich")]


@pytest.mark.parametrize("value", OUTSIDE)
def test_no_redirect_leaves_the_site(value):
    assert local_target(value) is None


@pytest.mark.parametrize("value,expected", INSIDE)
def test_local_redirects_are_kept(value, expected):
    assert local_target(value) == expected


@pytest.mark.parametrize("value", OUTSIDE)
def test_signin_and_basket_redirect_only_home(client, users, value):  # noqa: F811
    response = client.post("/signin", data={"name": "alice", "password": PASSWORD, "next": value})
    assert response.status_code == 302 and response.headers["Location"] == "/reviews"
    for action in ("/basket/add", "/basket/remove"):
        response = client.post(action, data={"item": "sample-case", "next": value})
        assert response.status_code == 302 and response.headers["Location"] == "/basket", (action, value)


def test_signin_form_keeps_only_a_local_next(client):
    page = BeautifulSoup(client.get("/signin?next=//evil.example/").data, "html.parser")
    assert page.select_one("input[name=next]")["value"] == ""
    page = BeautifulSoup(client.get("/signin?next=/reviews/agreement").data, "html.parser")
    assert page.select_one("input[name=next]")["value"] == "/reviews/agreement"


# --- sessions -------------------------------------------------------------------------------------

def copied_session(app, client):
    """A second browser holding a copy of `client`'s session cookie (what a thief would have)."""
    other = app.test_client()
    other.set_cookie("session", client.get_cookie("session").value)
    return other


def signed_in_as(client) -> str:
    nav = BeautifulSoup(client.get("/").data, "html.parser").select_one("header nav").get_text(" ", strip=True)
    return nav.split("Sign out ")[1] if "Sign out " in nav else ""


@pytest.mark.parametrize("how", ["sign-out", "reset-password", "set-role", "disable"])
def test_a_copied_cookie_dies_with_the_session(app, client, users, how):  # noqa: F811
    signin(client, "alice")
    thief = copied_session(app, client)
    assert signed_in_as(thief) == "alice"
    if how == "sign-out":
        client.post("/signout")
    elif how == "reset-password":
        accounts.reset_password(users, system_actor(), "alice", "another long password")
    elif how == "set-role":
        accounts.set_role(users, system_actor(), "alice", "editor")
    else:
        accounts.disable_user(users, system_actor(), "alice")
    assert signed_in_as(thief) == ""
    assert thief.get("/reviews").status_code == 401
    assert review(thief).status_code == 401


def test_sign_out_ends_sessions_on_every_device(app, users):  # noqa: F811
    laptop, phone = app.test_client(), app.test_client()
    signin(laptop, "alice")
    signin(phone, "alice")
    laptop.post("/signout")
    assert signed_in_as(phone) == ""


def test_idle_and_absolute_lifetimes(app, client, users, monkeypatch):  # noqa: F811
    signin(client, "alice")
    started = time.time()
    monkeypatch.setattr(time, "time", lambda: started + 119 * 60)
    assert signed_in_as(client) == "alice"                     # active: idle time starts again
    monkeypatch.setattr(time, "time", lambda: started + 119 * 60 + 121 * 60)
    assert signed_in_as(client) == ""                          # two idle hours
    signin(client, "alice")
    started = time.time()
    for hour in range(1, 13):                                  # busy all day, but 12 hours is the most
        monkeypatch.setattr(time, "time", lambda h=hour: started + h * 3600 - 1)
        assert signed_in_as(client) == "alice"
    monkeypatch.setattr(time, "time", lambda: started + 12 * 3600 + 1)
    assert signed_in_as(client) == ""
    assert app.config["PERMANENT_SESSION_LIFETIME"].total_seconds() == 12 * 3600


@pytest.mark.parametrize("config,secure", [({"BASE_URL": "https://kb.example.org"}, True),
                                           ({"BASE_URL": "http://127.0.0.1:5000"}, False),
                                           ({"BASE_URL": "http://x", "SESSION_COOKIE_SECURE": "true"}, True),
                                           ({"BASE_URL": "https://x", "SESSION_COOKIE_SECURE": "false"}, False)])
def test_secure_cookies_over_https(built_root, tmp_path, config, secure):
    app = create_app({"ROOT": str(built_root), "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False, **config})
    app.instance_path = str(tmp_path / "instance")
    response = app.test_client().post("/basket/add", data={"item": "sample-case"})
    cookie = response.headers["Set-Cookie"]
    assert ("Secure" in cookie) is secure and "HttpOnly" in cookie and "SameSite=Lax" in cookie


# --- sign-in throttle -----------------------------------------------------------------------------

def test_a_locked_account_does_not_lock_the_others(client, users):  # noqa: F811
    statuses = [client.post("/signin", data={"name": "alice", "password": "wrong guess!"}).status_code for _ in range(7)]
    assert statuses == [401] * 5 + [429] * 2
    refused = client.post("/signin", data={"name": "alice", "password": PASSWORD})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 800    # 15 minutes
    assert "Too many failed sign-ins for this account from your address" in refused.get_data(as_text=True)
    assert client.post("/signin", data={"name": "bob", "password": PASSWORD}).status_code == 302


def test_a_correct_password_gives_its_place_back(client, users):  # noqa: F811
    for _ in range(4):
        client.post("/signin", data={"name": "alice", "password": "wrong guess!"})
    for _ in range(3):
        assert signin(client, "alice").status_code == 302
    assert client.post("/signin", data={"name": "alice", "password": "wrong guess!"}).status_code == 401


def test_addresses_behind_a_trusted_proxy(built_root, tmp_path, users):  # noqa: F811
    app = create_app({"ROOT": str(built_root), "SECRET_KEY": "x", "WTF_CSRF_ENABLED": False, "TRUSTED_PROXIES": "1"})
    app.instance_path = str(tmp_path / "instance2")
    client = app.test_client()

    def guess(address):
        return client.post("/signin", data={"name": "alice", "password": "wrong guess!"},
                           headers={"X-Forwarded-For": address}).status_code
    assert [guess("198.51.100.1") for _ in range(6)] == [401] * 5 + [429]
    assert guess("198.51.100.2") == 401                        # another client behind the same proxy


def test_forwarded_for_is_ignored_without_a_trusted_proxy(client, users):  # noqa: F811
    statuses = [client.post("/signin", data={"name": "alice", "password": "wrong guess!"},
                            headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code for n in range(6)]
    assert statuses == [401] * 5 + [429]


LIMITS = [throttle.Limit("account+address", 5, 900), throttle.Limit("account", 20, 3600),
          throttle.Limit("address", 100, 3600)]


def test_reservations_are_atomic_under_concurrency(users):  # noqa: F811
    """40 threads reserve at once (the web's check-then-act let 37 of 40 through): 5 get a place."""
    barrier, results = threading.Barrier(40), []

    def attempt():
        barrier.wait()
        results.append(throttle.reserve(users, LIMITS, "alice", "192.0.2.7").allowed)
    threads = [threading.Thread(target=attempt) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 35 + [True] * 5


def test_windows_end_and_keys_are_hashed(users):  # noqa: F811
    now = 1_000_000.0
    for _ in range(5):
        assert throttle.reserve(users, LIMITS, "alice", "192.0.2.7", now=now).allowed
    refused = throttle.reserve(users, LIMITS, "alice", "192.0.2.7", now=now + 60)
    assert not refused.allowed and refused.retry_after == 840 and refused.refused_by == "account+address"
    assert throttle.reserve(users, LIMITS, "alice", "192.0.2.7", now=now + 901).allowed
    with users.connect() as conn:
        keys = conn.execute(select(signin_failures.c.key)).scalars().all()
    assert keys and not any("alice" in key or "192.0.2.7" in key for key in keys)


# --- drafts answer like unknown ids ---------------------------------------------------------------

@pytest.mark.parametrize("method,suffix", [("get", ""), ("post", ""), ("get", "/history"), ("post", "/reconcile")])
@pytest.mark.parametrize("who", [None, "rita"])
def test_draft_review_urls_answer_like_unknown_ones(client, users, method, suffix, who):  # noqa: F811
    if who:
        signin(client, who)
    draft = getattr(client, method)(f"/reviews/item/draft-case/overdose-deaths{suffix}")
    unknown = getattr(client, method)(f"/reviews/item/no-such-case/overdose-deaths{suffix}")
    assert draft.status_code == unknown.status_code == (401 if who is None else 403)
    # the same page, but for the sign-in link's way back, which is the address asked for
    assert draft.get_data(as_text=True).replace("draft-case", "no-such-case") == unknown.get_data(as_text=True)


# --- numbers and small 500s -----------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/search?limit=%C2%B2", "/search?page=%E2%91%A0", "/api/search?limit=%D9%A3",
                                 "/search?page=99999999999999999999", "/search?limit=-1"])
def test_unicode_digits_are_400_not_500(client, url):
    response = client.get(url)
    assert response.status_code == 400


@pytest.mark.parametrize("sort", ["relevance", "period", "updated"])
@pytest.mark.parametrize("query", ["", "police", '"harm reduction"'])
def test_every_sort_works(client, sort, query):
    response = client.get("/api/search", query_string={"q": query, "sort": sort})
    assert response.status_code == 200
    ids = [hit["id"] for hit in response.get_json()["results"]]
    if sort == "updated" and len(ids) > 1:
        assert ids  # sorted by the date of the last update, newest first
    assert client.get("/search", query_string={"q": query, "sort": sort}).status_code == 200


@pytest.mark.parametrize("field", ["sms_grade", "version"])
@pytest.mark.parametrize("value", ["\u00b2", "\u2461", "\u0663", "99999999999999999999999", "-1", " 3 "])
def test_hostile_numbers_in_review_forms(client, users, field, value):  # noqa: F811
    signin(client, "alice")
    review(client)
    response = review(client, **{field: value})
    assert response.status_code in (302, 400, 409)
    signin(client, "ed")
    response = client.post(f"/reviews/item/{TARGET}/reconcile", data={field: value, "reason": "x", "sms_grade": value})
    assert response.status_code in (302, 400, 409)


def test_settings_need_an_editor_and_a_change(client, users):  # noqa: F811
    assert client.post("/reviews/settings").status_code == 401
    signin(client, "alice")
    assert client.post("/reviews/settings").status_code == 403
    signin(client, "ed")
    response = client.post("/reviews/settings")
    assert response.status_code == 400 and "nothing to change" in response.get_data(as_text=True)
    assert client.post("/reviews/settings", data={"blind_mode": "maybe"}).status_code == 400
    assert client.post("/reviews/settings", data={"blind_mode": "off"}).status_code == 302


def test_free_tags_are_capped(client, users):  # noqa: F811
    signin(client, "alice")
    response = review(client, free_tags=",".join(f"t{n}" for n in range(31)))
    assert response.status_code == 400 and "31 tags; a review has at most 30" in response.get_data(as_text=True)


# --- settings -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name,value,message", [
    ("KB_PAGE_SIZE", "lots", "KB_PAGE_SIZE='lots': PAGE_SIZE takes a whole number from 1 to 100"),
    ("KB_PAGE_SIZE", "\u00b2", "PAGE_SIZE takes a whole number"),
    ("KB_SESSION_COOKIE_SECURE", "perhaps", "SESSION_COOKIE_SECURE takes true, false or auto"),
    ("KB_TRUSTED_PROXIES", "11", "TRUSTED_PROXIES takes a whole number from 0 to 10"),
])
def test_a_bad_setting_stops_start_up_with_its_name(built_root, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError, match=message.replace("(", r"\(")):
        create_app({"ROOT": str(built_root)})


def test_unknown_and_old_settings_do_not_crash_start_up(built_root, monkeypatch, tmp_path):
    monkeypatch.setenv("KB_RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("KB_SESSION_COOKIE_SECURE", "TRUE")
    app = create_app({"ROOT": str(built_root), "SECRET_KEY": "x"})
    assert app.config["SESSION_COOKIE_SECURE"] is True and "RATELIMIT_ENABLED" not in app.config
    assert app.test_client().get("/").status_code == 200


# --- the database goes away -----------------------------------------------------------------------

def test_no_build_names_no_server_path(kb_root, tmp_path, monkeypatch):
    monkeypatch.delenv("KB_DATABASE_URL", raising=False)
    root = kb_root()
    app = create_app({"ROOT": str(root), "SECRET_KEY": "x"})
    for url in ("/", "/search?q=x", "/api/search", "/cases/x", "/evidence-map"):
        response = app.test_client().get(url)
        assert response.status_code == 503
        body = response.get_data(as_text=True)
        assert str(tmp_path) not in body and ".kb" not in body and "kb build" in body
    assert not (root / ".kb" / "kb.sqlite3").exists()               # reading never creates a database


def test_a_deleted_database_is_503_and_never_recreated(app, client, built_root, runner):
    assert client.get("/cases/sample-case").status_code == 200
    database = built_root / ".kb" / "kb.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    app.extensions["kb"]["kb"].engine.dispose()                    # the pool's open files go too
    for url in ("/cases/sample-case", "/search?q=police", "/api/cases"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert str(built_root) not in response.get_data(as_text=True)
    assert not database.exists()
    from kb.cli import main
    for args in (["search", "police"], ["stats"], ["user", "list"], ["build"]):
        result = runner.invoke(main, ["--root", str(built_root), *args])
        assert result.exit_code == 1 and "Traceback" not in result.output, args
        assert "is missing, but one was created in" in result.output and "restore it from a backup" in result.output
    assert not database.exists()


def test_a_damaged_database_is_503_and_a_clear_cli_error(built_root, tmp_path, runner):
    database = built_root / ".kb" / "kb.sqlite3"
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    database.write_bytes(b"this is not a database" * 100)
    app = create_app({"ROOT": str(built_root), "SECRET_KEY": "x"})
    response = app.test_client().get("/")
    assert response.status_code == 503 and str(built_root) not in response.get_data(as_text=True)
    from kb.cli import main
    result = runner.invoke(main, ["--root", str(built_root), "stats"])
    assert result.exit_code == 1 and "file is not a database" in result.output and "restore it from a backup" in result.output


def test_database_files_are_private(built_root):
    data = built_root / ".kb"
    assert data.stat().st_mode & 0o777 == 0o700
    for path in data.glob("kb.sqlite3*"):
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert os.stat(data / "database.created").st_mode & 0o077 in (0, 0o044, 0o004, 0o040)


# --- nothing derived from the index tells a reader about drafts -----------------------------------

@pytest.fixture
def secret_draft(built_root):
    from conftest import case_text

    from kb.storage.build import build
    (built_root / "case_studies" / "draft" / "secret.md").write_text(case_text(
        "secret-plan", title='"Quarantotto embargo of the Vexillary port"', status="draft", country="FR",
        summary="Vexillary customs officers and the quarantotto scheme.", themes="[security-foreign-aid]"),
        encoding="utf-8")
    build(built_root)
    return built_root


@pytest.mark.parametrize("query", ["vexillery", "quarantoto embargo", "Vexillary", "quarantotto"])
def test_readers_get_nothing_from_draft_words(client, secret_draft, query):
    data = client.get("/api/search", query_string={"q": query}).get_json()
    assert data["total"] == 0 and data["suggestion"] is None
    every = client.get("/api/search").get_json()
    assert "FR" not in every["facets"]["country"] and "security-foreign-aid" not in every["facets"]["themes"]
    assert every["total"] == 2
    page = client.get("/search", query_string={"q": query}).get_data(as_text=True).lower()
    assert "vexillary" not in page.replace(query.lower(), "") and "quarantotto" not in page.replace(query.lower(), "")


def test_reviewers_do_get_suggestions_from_drafts(client, users, secret_draft):  # noqa: F811
    signin(client, "alice")
    data = client.get("/api/search", query_string={"q": "vexillery", "drafts": "1"}).get_json()
    assert data["suggestion"] == "vexillary"


@pytest.mark.parametrize("url", ["/cases/secret-plan", "/api/cases/secret-plan", "/cases/secret-plan/cite.bib",
                                 "/cases/secret-plan/case.ris", "/compare?id=secret-plan&id=sample-case"])
def test_a_draft_answers_like_an_unknown_case(client, secret_draft, url):
    draft, unknown = client.get(url), client.get(url.replace("secret-plan", "no-such-plan"))
    assert draft.status_code == unknown.status_code == 404
    assert draft.get_data(as_text=True).replace("secret-plan", "X") == unknown.get_data(as_text=True).replace("no-such-plan", "X")


def test_lists_and_related_cases_leave_drafts_out(client, secret_draft):
    for url in ("/", "/themes", "/themes/security-foreign-aid", "/feed.atom", "/charts", "/evidence-map",
                "/cases/sample-case", "/api/cases", "/api/themes", "/sources/doe2020policing"):
        body = client.get(url).get_data(as_text=True)
        assert "Vexillary" not in body and "secret-plan" not in body, url


def test_review_routes_and_reserved_ids_do_not_collide(client, users):  # noqa: F811
    signin(client, "ed")
    assert "History" in client.get("/reviews/item/second-case/history").get_data(as_text=True)
    assert client.get("/reviews/item/second-case/shootings/history").status_code == 200
    assert client.get("/reviews/item/second-case/shootings").status_code == 200
    assert client.get("/reviews/item/history").status_code == 404            # an id no case may have
    assert client.post("/reviews/item/second-case/reconcile/reconcile", data={"sms_grade": "3"}).status_code == 404


def test_a_phrase_with_filters_that_match_nothing_finds_no_draft(client, secret_draft):
    data = client.get("/api/search", query_string={"q": '"quarantotto scheme"', "country": "FR"}).get_json()
    assert data["total"] == 0 and data["results"] == []
    data = client.get("/api/search", query_string={"q": '"Vexillary customs"', "theme": "police-harm-reduction",
                                                   "country": "ZW"}).get_json()
    assert data["total"] == 0 and data["results"] == []


@pytest.mark.parametrize("query", ["id:[sec TO sed]", "id:[sa TO sz]", "title:[quaa TO quaz]", "title:[a TO z]",
                                   "quarant*", "vexil*", "id:secret*", "country:f*", "themes:sec*"])
def test_ranges_and_prefixes_tell_nothing_of_drafts(client, built_root, query):
    """A draft word inside a range used to take one of its places and set the "simplified" flag:
    narrowing the range spelt out draft ids one letter at a time."""
    from conftest import case_text

    from kb.storage.build import build
    before = client.get("/api/search", query_string={"q": query}).get_json()
    page_before = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    (built_root / "case_studies" / "draft" / "secret.md").write_text(case_text(
        "secret-plan", title='"Quarantotto embargo of the Vexillary port"', status="draft", country="FR",
        themes="[security-foreign-aid]"), encoding="utf-8")
    build(built_root)
    after = client.get("/api/search", query_string={"q": query}).get_json()
    page_after = client.get("/search", query_string={"q": query}).get_data(as_text=True)
    for data in (before, after):     # BM25 scores use index-wide statistics (see docs/security.md)
        for hit in data["results"]:
            hit.pop("score")
    assert after == before
    assert ("Your query was simplified" in page_after) == ("Your query was simplified" in page_before)
