"""No 5xx from any input (#11): a property-based run over every customer-facing POST form.

Each form starts from data that the form accepts, so that hostile values reach as deep as a real
submission does; then Hypothesis replaces some (or all) fields with hostile values, drops fields,
repeats them, adds unexpected ones, and sends the lot multipart or url-encoded (the latter also
with raw, invalid UTF-8). Every answer must be below 500, on SQLite and on PostgreSQL (CI runs the
suite on both; PostgreSQL is where NUL and `\\u0000` in JSON break).

The token forms check the token live: here against the in-process Xledger sandbox.

Each example runs in a savepoint that is rolled back, with an empty cache (the throttles count
there), and a fresh client; the Django test client re-raises a view's exception, so Hypothesis
reports the shrunk input together with the traceback.

Next to the sampling: a grid of known nasties in every field of every form (always run), and a
run that saves hostile client information and then opens every page that shows it (the
customer's, the admin's, the D01.01 spreadsheet). The 5xx found so far are listed once more at
the end, one smallest input each (xfail, strict).

The hostile-value strategies are shared with tests/test_no_5xx_admin.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from urllib.parse import quote, quote_plus

import pytest
from django.contrib.auth.models import Group, User
from django.contrib.auth.tokens import default_token_generator
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import Connection
from portal.invitations import Invitation
from portal.models import Membership
from portal.roles import PROJECT_MANAGERS
from portal.token_links import TokenLink
from tests.factories import make_connection, make_customer
from tests.portal.conftest import client_information, token_form

# --- Hostile values -------------------------------------------------------------------------------

C0 = [chr(c) for c in range(0x00, 0x20)] + ["\x7f"]
C1 = [chr(c) for c in range(0x80, 0xA0)]
BIDI = [
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",  # embeddings, overrides ("Trojan Source")
    "\u2066", "\u2067", "\u2068", "\u2069", "\u200e", "\u200f", "\u061c",
]  # fmt: skip
UNICODE_ODDITIES = [
    "\ufeff",  # byte order mark
    "\u200b",  # zero width space
    "\u00a0", "\u2028", "\u2029", "\u3000",  # spaces and line separators Python's split() sees
    "\ufffd", "\ufffe", "\uffff", "\U0010ffff",  # replacement character, non-characters
    "\U0001f600", "e\u0301", "ǅ", "ß", "İ", "ﬃ",  # astral, combining, case-mapping surprises
    "²", "³", "½", "Ⅻ",  # str.isdigit() but not int()
    "١٢٣", "１２３", "৪২",  # other scripts' digits: int() takes them
]  # fmt: skip
NUMBERS = [
    "0", "-0", "-1", "+1", " 7 ", "1_000", "0x10", "1e3", "1.5", "1,5", "NaN", "inf", "-inf",
    "1e309", str(2**31 - 1), str(2**31), str(2**32), str(2**53 + 1),
    str(2**63 - 1), str(2**63), str(-(2**63)), str(-(2**63) - 1), str(2**64), str(10**30),
    str(-(10**30)), "9" * 400, "9" * 5000,  # beyond Python's 4,300 digits for int(str)
]  # fmt: skip
DATES_AND_DURATIONS = [
    "9999-12-31", "10000-01-01", "0001-01-01", "0000-00-00", "2024-02-30", "1970-01-01T25:61:61",
    "2024-01-01 00:00:00+99:00", "99999999999", "-1 day", "1000000000000 00:00:00",
    "P1000000000000D", "999999999 23:59:59.999999", "-999999999 00:00:00",
]  # fmt: skip
DEEP = 3000
JSON_TEXTS = [
    "null", "true", "false", "[]", "{}", '""', "[null]", '{"a": null}', '{"a":', "[1e999]",
    "[" * DEEP + "]" * DEEP, '{"a":' * DEEP + "1" + "}" * DEEP,
    '["\\u0000"]', '{"\\u0000": "x"}', '["\\ud800"]', '["\\udfff\\ud800"]',  # NUL, lone surrogates
    "[" + "9" * 5000 + "]", "9" * 5000,  # json.loads raises ValueError, not JSONDecodeError
    '{"__proto__": {"admin": true}}', '["' + "x" * 10_000 + '"]',
]  # fmt: skip
LONG = [
    "x" * 100_000, "é" * 50_000, "\U0001f600" * 30_000, "\x00" * 1000, "1" * 100_000,
    "a" * 255, "a" * 256, "a" * 513,
]  # fmt: skip
MARKUP = [
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "{{ 7*7 }}", "{% debug %}",
    "' OR 1=1 --", "%s%s%s%n", "../../../../etc/passwd", "javascript:alert(1)", "//evil.example",
    "\\\\evil.example", "http://evil.example/", "/\\evil.example", "=cmd|' /C calc'!A0",
]  # fmt: skip
CONSTANTS = (
    C0 + C1 + BIDI + UNICODE_ODDITIES + NUMBERS + DATES_AND_DURATIONS + JSON_TEXTS + LONG + MARKUP
)

# Text as HTTP can carry it: any code point but the surrogates (which UTF-8 cannot encode).
any_text = st.text(st.characters(codec="utf-8"), max_size=40)
special = st.sampled_from(C0 + C1 + BIDI + UNICODE_ODDITIES)


@st.composite
def _salted(draw):
    """Ordinary-looking text with a control, bidi or odd character inside."""
    return draw(st.text("Ab1 -", max_size=6)) + draw(special) + draw(st.text("Ab1 -", max_size=6))


hostile_text = st.one_of(
    st.sampled_from(CONSTANTS),
    st.sampled_from(CONSTANTS),  # twice: the known nasties are drawn more often than random text
    _salted(),
    st.integers().map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    any_text,
)
# A field given once, or several times (request.POST.getlist() sees a list; .get() the last one).
hostile_value = st.one_of(
    hostile_text, hostile_text, st.lists(hostile_text, min_size=2, max_size=3)
)
# Field names nobody expects.
odd_names = st.one_of(
    st.sampled_from(
        [
            "id", "pk", "customer", "customer_id", "user", "is_staff", "is_superuser", "status",
            "onboarding_status", "live_since", "csrfmiddlewaretoken", "_save", "save_draft", "add",
            "next", "\x00", "", "a" * 10_000, "__proto__", "form-TOTAL_FORMS", "entity_1_in_scope",
        ]
    ),
    any_text,
)  # fmt: skip


class Raw(str):
    """A value sent url-encoded as it is: already percent-encoded bytes, valid UTF-8 or not."""


RAW_BYTES = [
    "%ff", "%fe%ff", "%c0%80",  # invalid UTF-8; an overlong NUL
    "%ed%a0%80",  # a UTF-8-encoded surrogate
    "%f4%90%80%80",  # beyond U+10FFFF
    "%00", "%e2%80%ae", "%", "%zz", "a%2", "%25%30%30",
]  # fmt: skip


def near(value):
    """Values close to a valid one, so that they may pass the form and reach what is behind it:
    the value with a control, bidi or odd character before or after it, or repeated at length."""
    if not isinstance(value, str):
        return hostile_value
    return st.one_of(
        st.builds(lambda c: c + value, special),
        st.builds(lambda c: value + c, special),
        st.builds(lambda c: value[:1] + c + value[1:], special),
        st.sampled_from([value * 2, value * 1000, f" {value} ", value.upper()]),
    )


@st.composite
def hostile_form(draw, baseline: dict, names=()):
    """`baseline` (data the form accepts) with one, a few or all fields hostile (or nearly
    valid), perhaps one or two dropped, perhaps unexpected extra fields. `names` are further field
    names to try."""
    data = dict(baseline)
    fields = sorted(set(data) | set(names))
    if fields:
        how_many = draw(st.sampled_from(["one", "one", "few", "all"]), label="how many fields")
        if how_many == "all":
            chosen = fields
        else:
            size = 1 if how_many == "one" else min(3, len(fields))
            chosen = draw(st.lists(st.sampled_from(fields), min_size=1, max_size=size, unique=True))
        for name in chosen:
            data[name] = draw(st.one_of(hostile_value, near(baseline.get(name))))
        if draw(st.integers(0, 3)) == 3:
            for name in draw(st.lists(st.sampled_from(fields), max_size=2, unique=True)):
                data.pop(name, None)
    if draw(st.integers(0, 2)) == 2:
        for _ in range(draw(st.integers(1, 2))):
            data[draw(odd_names)] = draw(hostile_value)
    return data


def urlencode(data: dict) -> str:
    parts = []
    for name, value in data.items():
        for one in value if isinstance(value, list) else [value]:
            text = one if isinstance(one, Raw) else quote_plus(one)
            parts.append(f"{quote_plus(name)}={text}")
    return "&".join(parts)


@st.composite
def request_body(draw, data: dict):
    """(data, content_type) for Client.post: multipart, or url-encoded with raw bytes in some
    values."""
    if draw(st.booleans()):
        return data, None  # the test client's multipart/form-data
    data = dict(data)
    if data and draw(st.booleans()):
        name = draw(st.sampled_from(sorted(data)))
        data[name] = Raw(draw(st.text("ab", max_size=2)) + draw(st.sampled_from(RAW_BYTES)))
    return urlencode(data), "application/x-www-form-urlencoded"


def post(client, url, body):
    data, content_type = body
    if content_type is None:
        return client.post(url, data)
    return client.post(url, data, content_type=content_type)


def assert_no_5xx(response, what):
    assert response.status_code < 500, (
        f"{what} answered {response.status_code}: {response.content.decode(errors='replace')[:500]}"
    )


@transaction.atomic
def in_rolled_back_savepoint(example):
    """Run `example()` in a savepoint that is always rolled back: every example sees the same
    database. (An exception rolls it back, too, and on PostgreSQL leaves a usable transaction.)"""
    cache.clear()
    try:
        return example()
    finally:
        transaction.set_rollback(True)


HYPOTHESIS = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI is deterministic
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)


# --- The customer's world -------------------------------------------------------------------------

EMAIL = "kari@fjordbat.example"
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def world(db, settings, monkeypatch):
    """A customer user who has filled in the client information and checked a token against the
    sandbox (so the scope form has entities and dimensions), a pending invitation, a password
    reset link."""
    from integrations.xledger.sandbox import Sandbox

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed
    sb = Sandbox(suppliers=20, burst_limit=False)
    settings.XLEDGER_API_URL = sb.url
    settings.XLEDGER_DEMO_API_URL = sb.url
    monkeypatch.setattr("integrations.clients.transport_factory", lambda connection: sb.transport())

    pm = User.objects.create_user("pm", "pm@semine.example", "pm-password-123", is_staff=True)
    pm.groups.add(Group.objects.get(name=PROJECT_MANAGERS))
    customer = make_customer("Fjordbåt Shipping AS", country="NO", project_manager=pm)
    user = User.objects.create_user(EMAIL, EMAIL, PASSWORD)
    Membership.objects.create(user=user, customer=customer)
    client = Client()
    client.force_login(user)
    response = client.post("/client-information/", client_information())
    assert response.status_code == 302, response.content.decode()[:2000]
    response = client.post("/xledger/token/", token_form(sb))
    assert response.status_code == 302, response.content.decode()[:2000]
    connection = Connection.objects.get(customer=customer)
    assert connection.verification["ok"] and connection.verification["object_kinds"]

    invitation = Invitation(customer=customer, email="ny@fjordbat.example", created_by=pm)
    invitation_token = invitation.issue_token()
    invitation.save()

    # A live connection (of another customer, in the demo environment) with a replace-token link.
    live = make_connection(
        customer=make_customer("Nordlys AS"),
        token=sb.demo_tokens["full"],
        owner_entity_id=sb.owner_db_id,
        environment=Connection.Environment.DEMO,
        live_since=timezone.now(),
    )
    Connection.objects.filter(pk=live.pk).update(status=Connection.Status.OK)
    link = TokenLink(connection=live, email="drift@it-partner.example", created_by=pm)
    token_link = link.issue_token()
    link.save()

    return SimpleNamespace(
        sandbox=sb,
        pm=pm,
        customer=customer,
        user=user,
        connection=connection,
        invitation_token=invitation_token,
        token_link=token_link,
        reset_uid=urlsafe_base64_encode(force_bytes(user.pk)),
        reset_token=default_token_generator.make_token(user),
    )


def scope_data(w) -> dict:
    verification = w.connection.verification
    data = {f"entity_{e['dbId']}_in_scope": "on" for e in verification["entities"]}
    data.update({f"entity_{e['dbId']}_fixed_assets": "on" for e in verification["entities"][:1]})
    data["dimensions"] = [k["code"] for k in verification["object_kinds"][:2]]
    data["transaction_source_code"] = "SEMINE"
    return data


# --- The forms ------------------------------------------------------------------------------------


@dataclass
class Form:
    """A customer-facing POST form: its URL (from the world and a drawn path part), the data it
    accepts, and who posts it."""

    url: Callable
    baseline: Callable = lambda w: {}
    as_customer: bool = True
    # The path part Hypothesis varies (a connection id, an invitation token, ...), or None.
    path_part: Callable | None = None
    path_values: st.SearchStrategy = field(default_factory=lambda: st.nothing())
    names: tuple = ()  # more field names to try than the baseline has


connection_ids = st.one_of(
    st.sampled_from([0, 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30, 10**100]),
    st.integers(min_value=0),
)
path_texts = st.one_of(st.sampled_from(CONSTANTS), any_text).filter(lambda t: t and "/" not in t)

FORMS = {
    "client_information": Form(
        url=lambda w, _: "/client-information/",
        baseline=lambda w: client_information(fixed_assets_apply="on"),
        names=("fixed_assets_as_dimension", "save_draft"),
    ),
    "client_information_draft": Form(
        url=lambda w, _: "/client-information/",
        baseline=lambda w: {**client_information(), "save_draft": "1"},
    ),
    "xledger_token": Form(
        url=lambda w, _: "/xledger/token/", baseline=lambda w: token_form(w.sandbox)
    ),
    "xledger_connection_add": Form(
        url=lambda w, _: "/xledger/connections/new/",
        baseline=lambda w: token_form(w.sandbox, owner_entity_id="4242"),
    ),
    "xledger_connection_token": Form(
        url=lambda w, pk: f"/xledger/connections/{pk}/token/",
        baseline=lambda w: token_form(w.sandbox),
        path_part=lambda w: w.connection.pk,
        path_values=connection_ids,
    ),
    "xledger_scope": Form(url=lambda w, _: "/xledger/scope/", baseline=scope_data),
    "xledger_connection_scope": Form(
        url=lambda w, pk: f"/xledger/connections/{pk}/scope/",
        baseline=scope_data,
        path_part=lambda w: w.connection.pk,
        path_values=connection_ids,
    ),
    "xledger_connection_discard": Form(
        url=lambda w, pk: f"/xledger/connections/{pk}/remove/",
        path_part=lambda w: w.connection.pk,
        path_values=connection_ids,
    ),
    "xledger_connection_approval": Form(
        url=lambda w, pk: f"/xledger/connections/{pk}/approval/",
        path_part=lambda w: w.connection.pk,
        path_values=connection_ids,
    ),
    "interval_request": Form(
        url=lambda w, _: "/intervals/request/",
        baseline=lambda w: {
            "connection": str(w.connection.pk),
            "dataset": "suppliers",
            "amount": "2",
            "unit": "hours",
            "reason": "Our accountants post suppliers every hour.",
        },
    ),
    "confirm_setup": Form(url=lambda w, _: "/confirm/"),
    "invitation_accept": Form(
        url=lambda w, token: f"/invitation/{quote(str(token), safe='')}/",
        baseline=lambda w: {"password1": "Fjord-Shipping-2027", "password2": "Fjord-Shipping-2027"},
        as_customer=False,
        path_part=lambda w: w.invitation_token,
        path_values=path_texts,
    ),
    "token_link": Form(
        url=lambda w, raw: f"/xledger/replace/{quote(str(raw), safe='')}/",
        baseline=lambda w: {"token": w.sandbox.add_token()},
        as_customer=False,
        path_part=lambda w: w.token_link,
        path_values=path_texts,
    ),
    "it_partner_invite": Form(
        url=lambda w, _: "/xledger/it-partner/",
        baseline=lambda w: {"email": "drift@it-partner.example", "language": "nb"},
    ),
    "login": Form(
        url=lambda w, _: "/accounts/login/",
        baseline=lambda w: {"username": EMAIL, "password": PASSWORD, "next": "/"},
        as_customer=False,
    ),
    "password_reset": Form(
        url=lambda w, _: "/accounts/password-reset/",
        baseline=lambda w: {"email": EMAIL},
        as_customer=False,
    ),
    # The link stores its token in the session and redirects to .../set-password/ (see below).
    "password_reset_confirm": Form(
        url=lambda w, uid: f"/accounts/reset/{quote(str(uid), safe='')}/{w.reset_token}/",
        baseline=lambda w: {"new_password1": "New-Fjord-2027!", "new_password2": "New-Fjord-2027!"},
        as_customer=False,
        path_part=lambda w: w.reset_uid,
        path_values=st.one_of(
            path_texts,
            st.sampled_from(["AA", "MA", "LTE", "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OQ", "wrI"]),
        ),  # NUL, "0", "-1", 10**21 and "²" in base64
    ),
    "set_language": Form(
        url=lambda w, _: "/i18n/setlang/",
        baseline=lambda w: {"language": "nb", "next": "/client-information/"},
        as_customer=False,
    ),
    "logout": Form(url=lambda w, _: "/accounts/logout/", baseline=lambda w: {"next": "/"}),
    # Sign-in security (a customer user may turn a second factor on). The code form of a session
    # that must still show its factor has its own grid in tests/signin/test_second_factor.py.
    "signin_verify": Form(
        url=lambda w, _: "/accounts/verify/", baseline=lambda w: {"code": "123456", "next": "/"}
    ),
    "signin_add_totp": Form(
        url=lambda w, _: "/accounts/security/authenticator/",
        baseline=lambda w: {"code": "123456", "next": "/"},
    ),
    "signin_add_passkey": Form(
        url=lambda w, _: "/accounts/security/passkey/", baseline=lambda w: {"next": "/"}
    ),
    "signin_recovery_codes": Form(
        url=lambda w, _: "/accounts/security/recovery-codes/", baseline=lambda w: {}
    ),
    "signin_remove": Form(
        url=lambda w, pk: f"/accounts/security/totp/{quote(str(pk), safe='')}/remove/",
        baseline=lambda w: {},
        path_part=lambda w: 1,
        path_values=path_texts,
    ),
}


def test_every_customer_form_is_covered():
    """A new named view in portal/urls.py either gets a no-5xx run here or is listed as taking
    no form (GET only, staff or API, tested elsewhere)."""
    from django.urls import get_resolver

    not_forms = {
        "home", "token_instructions", "password_reset_done", "password_reset_complete",
        "health", "api_index", "export_customer", "metrics", "personal_data",
        "signin_security",  # GET only
        "sso_sign_in", "sso_callback",  # GET only, tests/signin/test_sso.py
    }  # fmt: skip
    named = {name for name in get_resolver().reverse_dict if isinstance(name, str)}
    assert "set_language" in named and "xledger_connection_token" in named
    assert named - not_forms - set(FORMS) == set(), "a customer view without a no-5xx run"


@pytest.mark.parametrize("name", sorted(FORMS))
@HYPOTHESIS
@given(data=st.data())
def test_no_customer_form_answers_5xx(world, name, data):
    form = FORMS[name]
    path = form.path_part(world) if form.path_part else None
    if path is not None and data.draw(st.integers(0, 3), label="hostile path?") == 3:
        path = data.draw(form.path_values, label="path")
    url = form.url(world, path)
    fields = data.draw(hostile_form(form.baseline(world), form.names), label="fields")
    body = data.draw(request_body(fields), label="body")

    def example():
        client = Client()
        if form.as_customer:
            client.force_login(world.user)
        target = url
        if name == "password_reset_confirm":
            response = client.get(url)
            assert_no_5xx(response, f"GET {url!r}")
            if response.status_code == 302:
                target = response["Location"]
        response = post(client, target, body)
        assert_no_5xx(response, f"POST {target!r}")

    in_rolled_back_savepoint(example)


# The values most likely to break something, in every field of every form (and twice): a grid
# that always runs, next to Hypothesis's sampling above.
KNOWN_NASTIES = [
    "a\x00b", "\x01", "\u202e", "²", str(2**63), "9" * 5000, "x" * 100_000,
    "[" * DEEP + "]" * DEEP, '["\\u0000"]', "",
]  # fmt: skip


def collect_5xx(failures, what, request):
    """Run `request()` in a rolled-back savepoint; note a 5xx answer or a raised exception."""

    def example():
        response = request()
        if response.status_code >= 500:
            failures.append(f"{what}: {response.status_code}")

    try:
        in_rolled_back_savepoint(example)
    except Exception as error:  # noqa: BLE001 - every failure of the grid, listed together
        failures.append(f"{what}: {type(error).__name__}: {str(error)[:120]}")


@pytest.mark.parametrize("name", sorted(FORMS))
def test_no_customer_form_answers_5xx_to_a_known_nasty_in_any_field(world, name):
    form = FORMS[name]
    path = form.path_part(world) if form.path_part else None
    url = form.url(world, path)
    baseline = form.baseline(world)
    failures = []
    for field_name in sorted(set(baseline) | set(form.names)) or ["unexpected"]:
        for value in KNOWN_NASTIES:
            # Once, and (the first two) repeated after the valid value: .get() takes the last.
            first = baseline.get(field_name, "1")
            for sent in [value, [first, value]] if value in KNOWN_NASTIES[:2] else [value]:

                def request(sent=sent, field_name=field_name):
                    client = Client()
                    if form.as_customer:
                        client.force_login(world.user)
                    target = url
                    if name == "password_reset_confirm":
                        target = client.get(url).get("Location", url)
                    return client.post(target, {**baseline, field_name: sent})

                collect_5xx(failures, f"{field_name}={sent!r:.60}", request)
    assert not failures, f"POST {url} answered 5xx to: " + "; ".join(failures)


# --- What a customer stored never breaks the pages that show it -------------------------------

# The client information's free-text fields: what a customer may type and SEMINE then shows.
STORED_TEXT_FIELDS = [
    "legal_name", "street_address", "postal_code", "city", "notes", "fixed_assets_dimension_code",
    "fixed_assets_dimension_name", "supplier_posting_account", "customer_posting_account",
    "contact_project-name", "contact_project-phone", "contact_finance-name",
]  # fmt: skip


@HYPOTHESIS
@given(data=st.data())
def test_what_a_customer_saves_never_breaks_the_staff_pages(world, data):
    """The client information accepted (a draft keeps every format check but none "required")
    is shown on the customer's pages, the customer admin and the D01.01 spreadsheet."""
    pk = world.customer.pk
    values = data.draw(
        st.dictionaries(
            st.sampled_from(STORED_TEXT_FIELDS), st.one_of(_salted(), hostile_text), min_size=1
        ),
        label="values",
    )

    def example():
        root = User.objects.create_superuser("root", "root@semine.example", "root-password-123")
        client = Client()
        client.force_login(world.user)
        data = {**client_information(), "save_draft": "1", **values}
        response = client.post("/client-information/", data)
        assert_no_5xx(response, "POST /client-information/")
        saved = response.status_code == 302
        for url in ["/", "/client-information/"]:
            assert_no_5xx(client.get(url), f"GET {url}")
        staff = Client()
        staff.force_login(root)
        for url in [
            f"/staff/customers/{pk}/d01-01.xlsx",
            f"/admin/portal/customer/{pk}/change/",
            "/admin/portal/customer/",
            "/admin/portal/auditentry/",
        ]:
            assert_no_5xx(staff.get(url), f"GET {url} after saving {values!r} (saved: {saved})")
        response = staff.post(
            "/admin/portal/customer/",
            {"action": "export_d0101", "_selected_action": [str(pk)]},
        )
        assert_no_5xx(response, f"the D01.01 export action after saving {values!r}")

    in_rolled_back_savepoint(example)


def test_the_hostile_values_are_what_they_claim():
    """The strategies' own sanity: the constants carry what the module docstring promises."""
    assert "\x00" in CONSTANTS and "\u202e" in CONSTANTS and "\x85" in CONSTANTS
    assert max(len(c) for c in CONSTANTS) >= 100_000
    json.loads(JSON_TEXTS[0])
    assert urlencode({"a": ["1", Raw("%ff")]}) == "a=1&a=%ff"


# --- Known 5xx (#11): one input each, kept as regression tests of the fixes ---------------------


def _interval_request(connection):
    def request(client, w):
        data = {**FORMS["interval_request"].baseline(w), "connection": connection}
        return client.post("/intervals/request/", data)

    return request


def _export_after_storing(field_name, value):
    """The form refuses control characters now; data stored before (or imported) may still hold
    them, and the D01.01 download must not fail on it."""

    def request(client, w):
        data = {**client_information(), "save_draft": "1", field_name: value}
        assert client.post("/client-information/", data).status_code == 400  # refused
        type(w.customer).objects.filter(pk=w.customer.pk).update(**{field_name: value})
        root = User.objects.create_superuser("root", "root@semine.example", "root-password-123")
        staff = Client()
        staff.force_login(root)
        response = staff.get(f"/staff/customers/{w.customer.pk}/d01-01.xlsx")
        assert response.status_code == 200
        return response

    return request


KNOWN_5XX = [
    # '²'.isdigit() but int('²') raised ValueError in get_object_or_404
    pytest.param(_interval_request("²"), id="interval-request-connection-superscript-two"),
    # int() of more than 4,300 digits raised ValueError
    pytest.param(_interval_request("9" * 5000), id="interval-request-connection-5000-digits"),
    # a C0 control character the client information accepted broke openpyxl
    pytest.param(
        _export_after_storing("legal_name", "Fjord\x01 AS"),
        id="d0101-export-control-character-in-legal-name",
    ),
    pytest.param(
        _export_after_storing("notes", "Line\x0bbreak"), id="d0101-export-vertical-tab-in-notes"
    ),
]


@pytest.mark.parametrize("request_of", KNOWN_5XX)
def test_known_5xx(world, request_of):
    """`request_of(client, world)` as the logged-in customer: the smallest input of each 5xx."""
    client = Client()
    client.force_login(world.user)
    assert_no_5xx(request_of(client, world), "the known 5xx")
