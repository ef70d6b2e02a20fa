"""The client information as the D01.01 spreadsheet ("Semine Connect – Template for customer
preparations_Xledger.xlsx"), for partners who still work from it.

One sheet per customer, laid out like the template: a title, then labelled sections with the
question in column A and the answer in column B, contacts and entities as small tables. A customer
with several Xledger owner entities (one connection each) gets a table of them, then each one's
details. The API token is never exported: the sheet says where it is kept instead.
"""

from io import BytesIO

from django.utils import timezone
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill

from integrations.datasets import DEFAULT_INTERVALS, Dataset
from integrations.models import ClientEntity, Connection
from portal.models import Contact

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TITLE = "D01.01 – Semine Connect – Template for customer preparations (Xledger)"
TOKEN_NOTE = "Stored encrypted in Semine Connect; never exported."

_BOLD = Font(bold=True)
_SECTION = Font(bold=True, size=12, color="FFFFFF")
_SECTION_FILL = PatternFill("solid", fgColor="1F4E79")


def _interval(delta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"Every {minutes // (24 * 60) * 24} hours"
    if minutes % 60 == 0:
        return f"Every {minutes // 60} hours"
    return f"Every {minutes} minutes"


def _cell(value):
    """A value a spreadsheet cell can hold: control characters (which the forms refuse, but older
    or imported data may hold) are left out rather than failing the whole download."""
    if value is None:
        return ""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


class _Sheet:
    def __init__(self, ws):
        self.ws = ws
        self.row = 1

    def title(self, text):
        self.ws.cell(self.row, 1, text).font = Font(bold=True, size=14)
        self.row += 2

    def subheading(self, text):
        self.ws.cell(self.row, 1, text).font = Font(bold=True, size=11, color="1F4E79")
        self.row += 1

    def section(self, text):
        for col in (1, 2, 3, 4, 5):
            self.ws.cell(self.row, col).fill = _SECTION_FILL
        self.ws.cell(self.row, 1, text).font = _SECTION
        self.row += 1

    def field(self, label, value):
        self.ws.cell(self.row, 1, label).font = _BOLD
        cell = self.ws.cell(self.row, 2, _cell(value))
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        self.row += 1

    def table(self, header, rows):
        for col, text in enumerate(header, start=1):
            self.ws.cell(self.row, col, text).font = _BOLD
        self.row += 1
        for values in rows:
            for col, value in enumerate(values, start=1):
                self.ws.cell(self.row, col, _cell(value))
            self.row += 1

    def gap(self):
        self.row += 1


def _yes(value: bool) -> str:
    return "Yes" if value else "No"


def _connection_fields(s, connection, entities) -> None:
    s.field("Environment", connection.get_environment_display() if connection else "")
    s.field("Entity owner ID", connection.owner_entity_id if connection else None)
    if connection is not None:
        s.field("Owner entity name", connection.owner_entity_name)
        s.field("Connection status", connection.get_status_display())
    s.field("API token", TOKEN_NOTE if connection and connection.has_token else "Not given yet")
    s.field("Token checked", _yes(bool(connection and (connection.verification or {}).get("ok"))))
    s.field(
        "Dimensions to synchronise",
        ", ".join(connection.selected_dimensions or []) if connection else "",
    )
    s.table(
        ["Entity dbId", "Code", "Description", "Company number", "In scope", "Fixed assets"],
        [
            [
                e.db_id,
                e.code,
                e.description,
                e.company_number,
                _yes(e.in_scope),
                _yes(e.fixed_assets),
            ]
            for e in entities
        ],
    )


def _fill(ws, customer) -> None:
    # Every owner entity in use (a removed connection is history, not the setup).
    connections = list(Connection.objects.current().filter(customer=customer).order_by("pk"))
    entities: dict[int, list] = {c.pk: [] for c in connections}
    for entity in ClientEntity.objects.filter(connection__in=connections):
        entities[entity.connection_id].append(entity)
    contacts = {c.role: c for c in Contact.objects.filter(customer=customer)}
    s = _Sheet(ws)
    s.title(TITLE)
    s.field("Customer", customer.legal_name)
    s.field("Exported", timezone.localtime().strftime("%Y-%m-%d %H:%M"))
    s.field("Onboarding status", customer.get_onboarding_status_display())
    s.gap()

    s.section("1. Company")
    s.field("Legal name", customer.legal_name)
    s.field("Organisation number", customer.organisation_number)
    s.field("Country", customer.get_country_display())
    s.field("Street address", customer.street_address)
    s.field("Postal code", customer.postal_code)
    s.field("City", customer.city)
    s.gap()

    s.section("2. Contacts")
    s.table(
        ["Role", "Name", "E-mail", "Phone"],
        [
            [
                str(role.label),
                getattr(contacts.get(role), "name", ""),
                getattr(contacts.get(role), "email", ""),
                getattr(contacts.get(role), "phone", ""),
            ]
            for role in Contact.Role
        ],
    )
    s.gap()

    s.section("3. Xledger")
    if len(connections) > 1:
        s.table(
            ["Owner entity ID", "Name", "Environment", "Status", "Entities in scope"],
            [
                [
                    c.owner_entity_id,
                    c.owner_entity_name,
                    c.get_environment_display(),
                    c.get_status_display(),
                    sum(1 for e in entities[c.pk] if e.in_scope),
                ]
                for c in connections
            ],
        )
        s.gap()
        for number, connection in enumerate(connections, start=1):
            s.subheading(
                f"Owner entity {number} of {len(connections)}: {connection.owner_entity_id}"
            )
            _connection_fields(s, connection, entities[connection.pk])
            s.gap()
    else:
        connection = connections[0] if connections else None
        _connection_fields(s, connection, entities[connection.pk] if connection else [])
        s.gap()

    s.section("4. Accounting")
    s.field("Default posting account for suppliers", customer.supplier_posting_account)
    s.field("Default posting account for customers", customer.customer_posting_account)
    s.field("Fixed assets apply", _yes(customer.fixed_assets_apply))
    s.field("Fixed assets synced as a dimension", _yes(customer.fixed_assets_as_dimension))
    s.field("Fixed assets dimension code", customer.fixed_assets_dimension_code)
    s.field("Fixed assets dimension display name", customer.fixed_assets_dimension_name)
    s.gap()

    s.section("5. Go-live")
    s.field("Expected supplier invoices per month", customer.expected_invoice_volume)
    s.field(
        "Desired go-live date",
        customer.desired_go_live.isoformat() if customer.desired_go_live else "",
    )
    s.field("Notes", customer.notes)
    s.gap()

    s.section("6. Synchronisation (standard setup)")
    s.table(
        ["Basic data", "Interval"],
        [
            [str(d.label), _interval(DEFAULT_INTERVALS[d])]
            for d in Dataset
            if d in DEFAULT_INTERVALS
        ],
    )

    ws.column_dimensions["A"].width = 42
    ws.column_dimensions["B"].width = 48
    for col in "CDEF":
        ws.column_dimensions[col].width = 18


def customers_workbook(customers) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    used = set()
    for customer in customers:
        name = (customer.legal_name or f"Customer {customer.pk}")[:28]
        for bad in "[]:*?/\\":
            name = name.replace(bad, " ")
        base, n = name, 2
        while name in used:
            name = f"{base[:25]} {n}"
            n += 1
        used.add(name)
        _fill(workbook.create_sheet(name), customer)
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_filename(customers) -> str:
    if len(customers) == 1:
        return f"D01.01-{slugify(customers[0].legal_name) or customers[0].pk}.xlsx"
    return f"D01.01-{len(customers)}-customers.xlsx"
