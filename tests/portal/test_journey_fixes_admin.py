"""What a demanding user stumbled on (issue 12), the login and staff side: the e-mail address in
any case, the project manager dropdown, the organisation number and the times in the customer
admin, the admin's name, the invitation inline's title and e-mail, Norwegian common passwords,
what a "full" resync is, and the run and customer lists at 1,280 px."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone, translation

from portal import services
from portal.models import Customer
from portal.passwords import NorwegianCommonPasswordValidator, common_passwords
from portal.roles import PROJECT_MANAGERS
from tests.admin_builders import make_customer_user, make_run, make_submitted_customer
from tests.factories import make_connection, make_customer
from tests.portal.conftest import make_customer_user as make_member
from tests.second_factor import browser_sign_in

ANNE = "anne.x@example.no"
ANNE_PASSWORD = "Fjord-Sailing-2026!"
WRONG = "wrong-password-7"
LIMIT = 10  # AXES_FAILURE_LIMIT: one account, one address
STRONG = "Fjord-Sailing-2026!"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _portal_login(client, username, password=ANNE_PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _admin_login(client, username, password=ANNE_PASSWORD):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password, "next": "/admin/"},
    )


def _logged_in_as(client):
    return User.objects.filter(pk=client.session.get("_auth_user_id")).first()


# --- 1. The e-mail address in any case ---------------------------------------------------------


@pytest.fixture
def anne(customer):
    """A customer user made as invitation_accept makes them: the username is the lowercased
    address."""
    user = make_member(customer, email=ANNE)
    user.set_password(ANNE_PASSWORD)
    user.save()
    return user


@pytest.fixture
def anne_staff(db):
    user = User.objects.create_user(ANNE, ANNE, ANNE_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name=PROJECT_MANAGERS))
    return user


@pytest.mark.parametrize("typed", ["Anne.X@example.no", "ANNE.X@EXAMPLE.NO", ANNE])
def test_it_logs_in_to_the_portal_with_the_address_in_any_case(anne, typed):
    client = Client()
    response = _portal_login(client, typed)
    assert response.status_code == 302 and response["Location"] == "/"
    assert _logged_in_as(client) == anne


@pytest.mark.parametrize("typed", ["Anne.X@example.no", "ANNE.X@EXAMPLE.NO"])
def test_it_logs_in_to_the_admin_with_the_address_in_any_case(anne_staff, typed):
    client = Client()
    response = _admin_login(client, typed)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert _logged_in_as(client) == anne_staff


def test_a_user_name_longer_than_any_account_is_refused_not_a_500(anne):
    """SQLite refuses a LIKE pattern that long: the backend never asks for one."""
    from portal.authentication import EmailAddressBackend

    backend = EmailAddressBackend()
    assert backend.authenticate(None, username="x" * 5000, password=ANNE_PASSWORD) is None
    for login in (_portal_login, _admin_login):
        response = login(Client(), "x" * 5000)
        assert response.status_code < 500


def test_the_password_still_has_to_match_exactly(anne):
    client = Client()
    response = _portal_login(client, "Anne.X@example.no", ANNE_PASSWORD.upper())
    assert response.status_code == 200 and _logged_in_as(client) is None


def test_of_two_accounts_differing_in_case_only_the_exact_spelling_logs_in(anne):
    other = User.objects.create_user("Anne.X@example.no", "Anne.X@example.no", ANNE_PASSWORD)
    client = Client()
    assert _portal_login(client, "Anne.X@example.no").status_code == 302
    assert _logged_in_as(client) == other
    client = Client()
    assert _portal_login(client, ANNE).status_code == 302
    assert _logged_in_as(client) == anne
    client = Client()
    assert _portal_login(client, "ANNE.X@EXAMPLE.NO").status_code == 200  # which one? neither
    assert _logged_in_as(client) is None


@pytest.mark.parametrize("login", [_portal_login, _admin_login], ids=["portal", "admin"])
def test_varying_the_case_does_not_escape_the_lockout(anne_staff, login):
    client = Client()
    spellings = ["Anne.X@example.no", "ANNE.X@EXAMPLE.NO", "anne.X@Example.No", ANNE]
    for i in range(LIMIT - 1):
        assert login(client, spellings[i % len(spellings)], WRONG).status_code == 200
    assert login(client, "aNNE.x@example.NO", WRONG).status_code == 429  # the 10th locks
    for typed in spellings:  # the right password, in any case, is refused while locked
        assert login(Client(), typed).status_code == 429
    assert _logged_in_as(client) is None


def test_a_password_reset_finds_the_account_in_any_case(anne):
    client = Client()
    response = client.post("/accounts/password-reset/", {"email": "Anne.X@EXAMPLE.no"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == [ANNE]
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", message.body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": STRONG + "x", "new_password2": STRONG + "x"})
    assert response.status_code == 302
    assert _portal_login(Client(), "Anne.X@example.no", STRONG + "x").status_code == 302


# --- 2. The project manager dropdown -------------------------------------------------------------

CUSTOMERS = "/admin/portal/customer/"


def _form_data(response) -> dict:
    """POST data for an admin add or change page as it stands: every field's value, and the
    management forms of the (empty) inlines."""
    form = response.context["adminform"].form
    data = {}
    for bound in form:
        value = bound.value()
        if value is None or value is False:
            continue
        data[bound.html_name] = "on" if value is True else str(value)
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[f"{management.prefix}-{name}"] = str(management[name].value() or 0)
    return data


@pytest.fixture
def pm_client(pm_user):
    client = Client()
    client.force_login(pm_user)
    return client


def test_the_project_manager_dropdown_offers_only_active_staff_project_managers(
    pm_client, pm_user, customer, customer_user
):
    group = Group.objects.get(name=PROJECT_MANAGERS)
    left = User.objects.create_user("left", "left@semine.example", "x", is_staff=True)
    left.is_active = False
    left.save()
    left.groups.add(group)
    outsider = User.objects.create_user("kunde2", "kunde2@fjordbat.example", "x")
    outsider.groups.add(group)  # in the group but not staff: still a customer's user
    User.objects.create_user("ops", "ops@semine.example", "x", is_staff=True)  # not in the group

    for url in (f"{CUSTOMERS}add/", f"{CUSTOMERS}{customer.pk}/change/"):
        field = pm_client.get(url).context["adminform"].form.fields["project_manager"]
        assert list(field.queryset) == [pm_user], url
        assert customer_user not in field.queryset


def test_choosing_a_customer_user_as_project_manager_is_refused(pm_client, customer, customer_user):
    url = f"{CUSTOMERS}{customer.pk}/change/"
    data = _form_data(pm_client.get(url))
    data["project_manager"] = str(customer_user.pk)
    response = pm_client.post(url, data)
    assert response.status_code == 200
    assert "project_manager" in response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.project_manager != customer_user


def test_another_project_manager_may_be_chosen(pm_client, customer):
    other = User.objects.create_user("pm2", "pm2@semine.example", "x", is_staff=True)
    other.groups.add(Group.objects.get(name=PROJECT_MANAGERS))
    url = f"{CUSTOMERS}{customer.pk}/change/"
    data = _form_data(pm_client.get(url))
    data["project_manager"] = str(other.pk)
    response = pm_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.project_manager == other


# --- 3. The organisation number ------------------------------------------------------------------


def _add_customer(client, number, country="NO"):
    data = _form_data(client.get(f"{CUSTOMERS}add/"))
    data.update(legal_name="Nordlys Frakt AS", country=country, organisation_number=number)
    return client.post(f"{CUSTOMERS}add/", data)


def test_the_admin_refuses_an_organisation_number_with_a_wrong_check_digit(pm_client):
    response = _add_customer(pm_client, "974760674")  # 974760673 is right
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "check digit" in " ".join(errors["organisation_number"])
    assert not Customer.objects.filter(legal_name="Nordlys Frakt AS").exists()


def test_the_admin_stores_a_right_organisation_number_as_the_customer_form_does(pm_client):
    response = _add_customer(pm_client, "974760673")
    assert response.status_code == 302
    assert Customer.objects.get(legal_name="Nordlys Frakt AS").organisation_number == "974 760 673"


def test_the_admin_checks_the_number_on_the_change_page_too(pm_client, customer):
    url = f"{CUSTOMERS}{customer.pk}/change/"
    data = _form_data(pm_client.get(url))
    data.update(country="SE", organisation_number="556036-0794")  # 556036-0793 is right
    response = pm_client.post(url, data)
    assert response.status_code == 200
    assert "organisation_number" in response.context["adminform"].form.errors


# --- 4. Times in Oslo time -----------------------------------------------------------------------

LATE_UTC = datetime(2025, 1, 15, 23, 30, tzinfo=UTC)  # 00:30 on 16 January in Oslo


def test_live_since_is_shown_in_oslo_time_as_submitted_at_is(pm_client, pm_user):
    customer = make_submitted_customer(pm=pm_user)
    Customer.objects.filter(pk=customer.pk).update(
        onboarding_status=Customer.Status.LIVE, submitted_at=LATE_UTC - timedelta(hours=1)
    )
    customer.connections.update(live_since=LATE_UTC)
    html = pm_client.get(f"{CUSTOMERS}{customer.pk}/change/").content.decode()
    assert "Live since Jan. 16, 2025, 12:30 a.m." in html
    assert "2025-01-15 23:30" not in html
    assert "Jan. 15, 2025, 11:30 p.m." in html  # submitted an hour earlier, also Oslo time


def test_the_lists_show_times_short_and_in_oslo_time(pm_client, pm_user):
    customer = make_submitted_customer(pm=pm_user)
    Customer.objects.filter(pk=customer.pk).update(submitted_at=LATE_UTC)
    run = make_run(customer.connections.get(), "suppliers")
    run.queued_at = LATE_UTC
    run.save()
    assert "2025-01-16 00:30" in pm_client.get(CUSTOMERS).content.decode()  # submitted
    assert "2025-01-16 00:30" in pm_client.get("/admin/integrations/run/").content.decode()


# --- 5. The admin's name -------------------------------------------------------------------------


def test_the_admin_is_called_semine_connect_administration(pm_client):
    html = pm_client.get("/admin/").content.decode()
    assert "Semine Connect administration" in html
    assert "Django administration" not in html and "Django site admin" not in html
    assert re.search(r"<title>[^<]*Semine Connect</title>", html)
    login = Client().get("/admin/login/").content.decode()
    assert "Semine Connect administration" in login and "Django" not in login


# --- 6. The invitation inline's title ------------------------------------------------------------


def test_the_invitation_inline_title_reads_correctly(pm_client, customer):
    html = pm_client.get(f"{CUSTOMERS}{customer.pk}/change/").content.decode()
    assert re.search(r"Invitations \(add an e-mail address and save to send it\)\s*</h2>", html)
    assert "send it)s" not in html


# --- 7. The invitation e-mail's last sentence ----------------------------------------------------


@pytest.mark.parametrize("hour", [10, 15])  # a.m. and p.m.
@pytest.mark.parametrize("template", ["emails/invitation_body.txt", "emails/token_link_body.txt"])
def test_the_expiry_sentence_ends_with_one_full_stop(db, compiled_catalog, template, hour):
    customer = make_customer()
    expires_at = timezone.make_aware(datetime(2026, 3, 5, hour, 30))
    context = {
        "customer": customer,
        "connection": make_connection(customer=customer),
        "link": "https://connect.example/x/",
        "expires_at": expires_at,
    }
    for language in ("en", "nb"):
        with translation.override(language):
            body = render_to_string(template, context)
        assert ".." not in body, (language, body)
        assert "2026" in body
    with translation.override("en"):
        assert "m. (Norwegian time)." in render_to_string(template, context)


def test_the_invitation_e_mail_has_no_double_full_stop(customer, pm_user, compiled_catalog):
    for language in ("en", "nb", ""):
        services.invitation_create(
            customer=customer, email=f"{language or 'both'}@fjordbat.example", by=pm_user,
            language=language,
        )  # fmt: skip
    assert len(mail.outbox) == 3
    for message in mail.outbox:
        assert ".." not in message.body


# --- 8. Norwegian common passwords ---------------------------------------------------------------


def test_the_list_is_bundled_lowercase_and_has_hundreds_of_entries():
    words = common_passwords()
    assert len(words) > 300
    assert {"passord", "hemmelig", "sommer", "fotball", "qwerty", "norge"} <= words
    assert all(word == word.lower() for word in words)


@pytest.mark.parametrize(
    "password", ["passord123", "Sommer2025", "PASSORD", "hemmelig!", "Fotball#1", "Påske2024!"]
)
def test_the_validator_refuses_norwegian_common_passwords(password):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        NorwegianCommonPasswordValidator().validate(password)
    assert error.value.code == "password_too_common"


@pytest.mark.parametrize("password", [STRONG, "New-Fjord-2027!", "correct-horse-battery-9"])
def test_the_validator_accepts_a_strong_password(password):
    NorwegianCommonPasswordValidator().validate(password)


def _invitation_link(customer, pm_user, language="en"):
    services.invitation_create(
        customer=customer, email="ny@fjordbat.example", by=pm_user, language=language
    )
    return re.search(r"http://\S+(/invitation/\S+/)", mail.outbox[-1].body).group(1)


@pytest.mark.parametrize("password", ["passord123", "Sommer2025"])
def test_the_invitation_form_refuses_a_norwegian_common_password(customer, pm_user, password):
    url = _invitation_link(customer, pm_user)
    client = Client()
    response = client.post(url, {"password1": password, "password2": password})
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not User.objects.filter(username="ny@fjordbat.example").exists()

    response = client.post(url, {"password1": STRONG, "password2": STRONG})
    assert response.status_code == 302
    assert User.objects.get(username="ny@fjordbat.example").check_password(STRONG)


def test_the_refusal_is_in_norwegian_for_a_norwegian(customer, pm_user, compiled_catalog):
    url = _invitation_link(customer, pm_user, language="nb")
    client = Client(headers={"accept-language": "nb"})
    response = client.post(url, {"password1": "passord123", "password2": "passord123"})
    assert "Dette passordet er for vanlig." in response.content.decode()


@pytest.mark.parametrize("password", ["passord123", "Sommer2025"])
def test_the_password_reset_form_refuses_a_norwegian_common_password(customer_user, password):
    client = Client()
    client.post("/accounts/password-reset/", {"email": customer_user.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"new_password1": password, "new_password2": password})
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    customer_user.refresh_from_db()
    assert not customer_user.check_password(password)

    response = client.post(form_url, {"new_password1": STRONG, "new_password2": STRONG})
    assert response.status_code == 302
    customer_user.refresh_from_db()
    assert customer_user.check_password(STRONG)


# --- 9. What a "full" resync is ------------------------------------------------------------------


def test_the_resync_control_says_what_full_means(support_user):
    customer = make_submitted_customer()
    connection = customer.connections.get()
    connection.live_since = timezone.now()
    connection.save()
    client = Client()
    client.force_login(support_user)
    html = client.get(f"/admin/integrations/connection/{connection.pk}/change/").content.decode()
    form = html[html.index('name="resync"') - 2000 : html.index('name="resync"') + 600]
    assert 'aria-describedby="resync-full-help"' in form
    assert 'id="resync-full-help"' in form
    assert (
        "Full: read everything again and detect deletions, instead of only what changed since "
        "the last run."
    ) in form


# --- 10. The run and customer lists at 1,280 px --------------------------------------------------


def _columns(html) -> list[str]:
    table = html[html.index('<table id="result_list">') :]
    head = table[: table.index("</thead>")]
    return re.findall(r'<th scope="col"\s+class="[^"]*column-(\w+)', head)


def test_the_run_list_keeps_its_columns_few_and_narrow(pm_client):
    connection = make_connection(customer=make_customer("Kunde AS"))
    long_error = "Xledger answered 500 Internal Server Error while reading page 7 of suppliers"
    make_run(
        connection,
        "suppliers",
        status="failed",
        full=True,
        fetched=1234,
        created=3,
        updated=4,
        deleted=1,
        rejected=2,
        requests=9,
        error_kind="transient",
        error_message=long_error,
    )
    html = pm_client.get("/admin/integrations/run/").content.decode()
    columns = _columns(html)
    assert {"duration_display", "fetched_display", "requests_display", "error_display"} <= set(
        columns
    )
    assert len(columns) <= 11, columns
    table = html[html.index('<table id="result_list">') :]
    row = table[table.index("<tbody>") : table.index("</tbody>")]
    assert 'field-dataset">Supplier register<' in row
    assert "Failed<br><small>Scheduled · full</small>" in row
    assert "1234<br><small" in row and "+3 ~4 −1 ✗2" in row
    assert f'title="transient: {long_error}"' in row  # the whole error on hover
    excerpt = re.search(r'title="transient: [^"]*">([^<]*)</span>', row).group(1)
    assert len(excerpt) <= 40 and excerpt.endswith("…")


def test_the_customer_list_keeps_its_columns(pm_client, pm_user):
    make_submitted_customer(pm=pm_user)
    columns = _columns(pm_client.get(CUSTOMERS).content.decode())
    assert columns[-3:] == ["last_success_display", "open_issues_display", "submitted_display"]
    assert len(columns) <= 8, columns


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_lists_fit_a_1280_px_screen(chromium, live_server):
    # A superuser: every action, so the lists have their checkbox column too.
    user = User.objects.create_superuser("root", "root@semine.example", ANNE_PASSWORD)
    user.first_name, user.last_name = "Kristoffer", "Haugen-Andersen"
    user.save()
    customer = make_submitted_customer("Nordlandsbanken Eiendomsforvaltning Holding AS", pm=user)
    make_customer_user(customer)
    make_run(
        customer.connections.get(),
        "fixed_assets",
        status="failed",
        full=True,
        fetched=123456,
        created=12345,
        updated=23456,
        requests=4567,
        error_kind="transient",
        error_message="Xledger answered 503 Service Unavailable " * 4,
    )
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        browser_sign_in(page, live_server.url, "/admin/login/", "root", ANNE_PASSWORD)
        page.wait_for_url(f"{live_server.url}/admin/")
        for url, last in (
            ("/admin/integrations/run/", "column-error_display"),
            (CUSTOMERS, "column-submitted_display"),
        ):
            page.goto(f"{live_server.url}{url}")
            box = page.locator(f"#result_list th.{last}").bounding_box()
            assert box["x"] + box["width"] <= 1280, (url, box)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280, url
            # Nothing scrolled out of sight inside the list either (the admin's .results box
            # scrolls sideways when the table is wider than it).
            results = page.locator("#changelist .results")
            assert results.evaluate("e => e.scrollWidth <= e.clientWidth"), url
            right = results.evaluate("e => e.getBoundingClientRect().right")
            assert box["x"] + box["width"] <= right + 1, (url, box, right)
    finally:
        context.close()
