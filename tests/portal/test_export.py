from io import BytesIO

from django.contrib.auth.models import User
from django.test import Client
from openpyxl import load_workbook

from integrations.models import Connection
from tests.portal.conftest import complete_setup


def _cells(content):
    sheet = load_workbook(BytesIO(content)).worksheets[0]
    return sheet, {
        row[0].value: row[1].value for row in sheet.iter_rows() if row[0].value is not None
    }


def test_it_downloads_the_d0101_spreadsheet(customer, customer_client, sandbox, pm_user):
    complete_setup(customer_client, sandbox)
    client = Client()
    client.force_login(pm_user)
    response = client.get(f"/staff/customers/{customer.pk}/d01-01.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "D01.01-fjordbat-shipping-as.xlsx" in response["Content-Disposition"]
    sheet, cells = _cells(response.content)
    assert sheet.title == "Fjordbåt Shipping AS"
    assert sheet["A1"].value.startswith("D01.01 – Semine Connect")
    assert cells["Organisation number"] == "974 760 673"
    assert cells["Entity owner ID"] == sandbox.owner_db_id
    assert cells["Default posting account for suppliers"] == "2400"
    assert cells["Project contact"] == "Kari Nordmann"
    assert cells["Supplier register"] == "Every 30 minutes"
    assert cells["API token"] == "Stored encrypted in Semine Connect; never exported."
    token = Connection.objects.get(customer=customer).reveal_token()
    for row in sheet.iter_rows(values_only=True):
        assert all(token not in str(v) for v in row if v is not None)


def test_it_needs_the_export_permission(customer, support_user, customer_client):
    url = f"/staff/customers/{customer.pk}/d01-01.xlsx"
    client = Client()
    client.force_login(support_user)
    assert client.get(url).status_code == 403
    assert customer_client.get(url).status_code == 404
    assert Client().get(url).status_code == 404


def test_it_is_an_admin_action_too(customer, pm_user, db):
    client = Client()
    client.force_login(pm_user)
    response = client.post(
        "/admin/portal/customer/",
        {"action": "export_d0101", "_selected_action": [customer.pk]},
    )
    assert response.status_code == 200
    _, cells = _cells(response.content)
    assert cells["Legal name"] == "Fjordbåt Shipping AS"


def test_the_action_is_hidden_without_the_permission(customer, support_user):
    client = Client()
    client.force_login(support_user)
    page = client.get("/admin/portal/customer/")
    assert "export_d0101" not in page.content.decode()
    assert not User.objects.get(pk=support_user.pk).has_perm("portal.export_customer")


def test_the_customer_page_links_to_it(customer, pm_user, support_user):
    client = Client()
    client.force_login(pm_user)
    page = client.get(f"/admin/portal/customer/{customer.pk}/change/").content.decode()
    assert f'href="/staff/customers/{customer.pk}/d01-01.xlsx"' in page
    client.force_login(support_user)
    page = client.get(f"/admin/portal/customer/{customer.pk}/change/").content.decode()
    assert "d01-01.xlsx" not in page
