"""Deterministic demo data: owner entities, their client entities, and their basic data.

Each owner (domain) entity is seeded as a complete, independent domain: its client entities,
currencies, object kinds, VAT codes, chart of accounts, dimension values, fixed assets,
suppliers and transaction sources. The first owner (10001, Norwegian) comes from
``random.Random(seed)`` exactly as when the sandbox held only one; every further owner
(20001, 30001, ...: Swedish group companies) has its own ``random.Random(f"{seed}-owner-{n}")``
and takes its records' dbIds from the same tables after the first's, so no dbId is shared.
Everything depends only on the seed and the reference time handed in, so the same seed and time
give the same records, byte for byte. Suppliers are built straight into the table (no deltas,
no per-record locking), which keeps 200,000 of them to a couple of seconds.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from operator import mul

from .imports import TRANSACTION_SOURCES
from .records import (
    Account,
    Asset,
    Currency,
    Entity,
    ObjectKind,
    ObjectValue,
    Supplier,
    TaxTableSetup,
)
from .store import Store

OWNER_DB_ID = 10001  # the first owner entity; its clients are 10002, 10003, ...
# Owner n is OWNER_DB_ID + (n - 1) * OWNER_DB_ID_STEP (20001, 30001, ...), its clients follow it.
OWNER_DB_ID_STEP = 10_000

NO_PLACES = (
    "Bergen", "Ålesund", "Tromsø", "Bodø", "Førde", "Hønefoss", "Kristiansand", "Lillehammer",
    "Mo i Rana", "Sandnes", "Stavanger", "Trondheim", "Drammen", "Fredrikstad", "Gjøvik", "Molde",
    "Narvik", "Hamar", "Kongsberg", "Ørsta", "Røros", "Sørumsand", "Florø", "Mosjøen", "Hærland",
    "Årdal", "Lørenskog", "Sogndal", "Tønsberg", "Ås",
)  # fmt: skip
NO_TRADES = (
    "Rørlegger", "Elektro", "Bygg og Anlegg", "Transport", "Fisk og Skalldyr", "Regnskap",
    "Maskin", "Trelast", "Bilverksted", "Renhold", "Catering", "Glass og Ramme", "Malerservice",
    "Blomster", "Kontorrekvisita", "Data og IT", "Sikkerhet", "Eiendom", "Snøbrøyting", "Havbruk",
    "Kjøleteknikk", "Grøntanlegg", "Låsesmed", "Tømrer", "Bakeri", "Sjømat", "Ventilasjon",
)  # fmt: skip
NO_SUFFIXES = ("AS", "AS", "AS", "ASA", "ANS", "DA", "Enk")
SURNAMES = (
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Haugen", "Bakken", "Solberg", "Sæther", "Østby", "Løken", "Bråten",
    "Hågensen", "Strøm", "Næss", "Berg", "Dahl", "Lie", "Moen", "Aas",
)  # fmt: skip
SE_PLACES = ("Göteborg", "Malmö", "Västerås", "Jönköping", "Örebro", "Umeå", "Luleå", "Växjö")
SE_TRADES = ("Bygg", "Åkeri", "Städ", "El", "Livsmedel", "Konsult", "Måleri", "Rör")
# The further (Swedish) owners' suppliers start with a Swedish surname, a word no name of the
# first owner's suppliers starts with, so a test can tell whose supplier it sees.
SE_SURNAMES = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson", "Persson",
    "Svensson", "Gustafsson", "Pettersson", "Jönsson", "Lindqvist", "Lindström", "Bergström",
    "Åberg", "Sjöberg", "Engström",
)  # fmt: skip
SE_SUPPLIER_TRADES = (
    *SE_TRADES, "Transport", "Fastighetsservice", "Redovisning", "Verkstad", "Kyl och Värme",
    "Snickeri", "Trädgård", "Data", "Säkerhet", "Tryckeri",
)  # fmt: skip
SE_SUFFIXES = ("AB", "AB", "AB", "HB", "KB")
DK_PLACES = ("København", "Århus", "Aalborg", "Odense", "Køge", "Næstved", "Ærøskøbing")
DK_TRADES = ("Tømrer", "Rengøring", "Vognmand", "Bageri", "Smørrebrød", "Maskinstation")
LONG_TAILS = (
    "leverandør av varer og tjenester til bygg-, anleggs- og eiendomsbransjen i hele regionen, "
    "med avdelinger for service, prosjektering, montering og ettermarked, og egne "
    "kontaktpersoner for offentlige innkjøp",
    "totalleverandør innen drift, vedlikehold og rehabilitering av næringsbygg, offentlige "
    "bygg og borettslag, inkludert vaktmestertjenester, døgnbemannet beredskap og "
    "energirådgivning for eiendomsforvaltere",
)

CURRENCIES = (
    ("NOK", "Norske kroner"), ("SEK", "Svenske kronor"), ("DKK", "Danske kroner"),
    ("EUR", "Euro"), ("USD", "US-dollar"), ("GBP", "Britiske pund"), ("CHF", "Sveitsiske franc"),
    ("PLN", "Polske zloty"), ("ISK", "Islandske kronur"), ("JPY", "Japanske yen"),
    ("CNY", "Kinesiske yuan"), ("CAD", "Kanadiske dollar"), ("AUD", "Australske dollar"),
)  # fmt: skip

# Norwegian VAT codes (code, description, percent, tax account code or None).
VAT_CODES = (
    ("0", "Ingen mva-behandling", 0.0, None),
    ("1", "Inngående mva, høy sats", 25.0, "2710"),
    ("3", "Utgående mva, høy sats", 25.0, "2700"),
    ("5", "Innenlands omsetning, fritatt", 0.0, None),
    ("6", "Omsetning utenfor mva-loven", 0.0, None),
    ("11", "Inngående mva, middels sats", 15.0, "2710"),
    ("12", "Inngående mva, råfisk", 11.11, "2710"),
    ("13", "Inngående mva, lav sats", 12.0, "2710"),
    ("14", "Inngående mva betalt ved innførsel", 25.0, "2710"),
    ("31", "Utgående mva, middels sats", 15.0, "2700"),
    ("33", "Utgående mva, lav sats", 12.0, "2700"),
    ("81", "Innførsel av varer, høy sats, fradrag", 25.0, "2710"),
    ("86", "Kjøp av tjenester fra utlandet, fradrag", 25.0, "2710"),
    ("91", "Kjøp av klimakvoter og gull, fradrag", 25.0, "2710"),
)

# Rate history of some VAT codes: (percent, dateFrom) per setup, in dbId order. FUTURE is
# replaced by a date some months after the sandbox clock, so that the rate in force and the
# announced rate differ; "13" lists a later dbId with an earlier dateFrom on purpose. Codes not
# listed get one setup from DEFAULT_SETUP_FROM.
FUTURE = "future"
DEFAULT_SETUP_FROM = "2016-01-01"
VAT_RATE_HISTORY = {
    "1": ((24.0, "2001-01-01"), (25.0, "2005-01-01")),
    "3": ((25.0, "2016-01-01"), (26.0, FUTURE)),
    "11": ((14.0, "2016-01-01"), (15.0, "2018-01-01")),
    "13": ((12.0, "2018-01-01"), (10.0, "2016-01-01"), (8.0, "2010-01-01")),
    "31": ((15.0, "2018-01-01"), (16.0, FUTURE)),
}


def announced_date(now: datetime) -> str:
    """The first of the month about half a year after ``now``: a rate change announced."""
    later = now.date() + timedelta(days=180)
    return later.replace(day=1).isoformat()


# A Norwegian chart of accounts in the NS 4102 shape: "<code> <description>" per line.
_CHART = """
1000 Forskning og utvikling
1020 Konsesjoner
1030 Patenter
1070 Utsatt skattefordel
1080 Goodwill
1100 Forretningsbygg
1120 Bygningsmessige anlegg
1130 Anlegg under utførelse
1140 Jord- og skogbrukseiendommer
1150 Tomter og andre grunnarealer
1160 Boliger inkl. tomter
1200 Maskiner og anlegg
1230 Personbiler
1240 Lastebiler
1250 Inventar
1260 Fast bygningsinventar
1270 Verktøy
1280 Kontormaskiner
1290 Andre driftsmidler
1300 Investeringer i datterselskap
1320 Lån til foretak i samme konsern
1350 Investeringer i aksjer og andeler
1380 Fordringer på ansatte
1400 Råvarer og innkjøpte halvfabrikata
1420 Varer under tilvirkning
1440 Ferdige egentilvirkede varer
1460 Innkjøpte varer for videresalg
1500 Kundefordringer
1530 Opptjent, ikke fakturert driftsinntekt
1570 Andre kortsiktige fordringer
1580 Avsetning tap på fordringer
1600 Utgående merverdiavgift
1610 Inngående merverdiavgift
1640 Oppgjørskonto merverdiavgift
1700 Forskuddsbetalt leiekostnad
1710 Forskuddsbetalt rentekostnad
1749 Andre forskuddsbetalte kostnader
1750 Påløpt leieinntekt
1800 Aksjer og andeler i foretak i samme konsern
1810 Markedsbaserte aksjer
1900 Kontanter
1920 Bankinnskudd
1950 Bankinnskudd for skattetrekk
2000 Aksjekapital
2020 Overkurs
2050 Annen egenkapital
2080 Udekket tap
2100 Pensjonsforpliktelser
2120 Utsatt skatt
2160 Uopptjent inntekt
2200 Konvertible lån
2220 Gjeld til kredittinstitusjoner
2250 Gjeld til ansatte og eiere
2290 Annen langsiktig gjeld
2380 Kassekreditt
2400 Leverandørgjeld
2460 Leverandørgjeld til datterselskap
2500 Betalbar skatt, ikke utlignet
2510 Betalbar skatt, utlignet
2600 Forskuddstrekk
2610 Påleggstrekk
2700 Utgående merverdiavgift
2710 Inngående merverdiavgift
2740 Oppgjørskonto merverdiavgift
2770 Skyldig arbeidsgiveravgift
2780 Påløpt arbeidsgiveravgift på påløpt lønn
2800 Avsatt utbytte
2900 Forskudd fra kunder
2910 Gjeld til ansatte
2920 Gjeld til selskap i samme konsern
2940 Skyldig feriepenger
2960 Påløpt rente
2970 Uopptjent inntekt
2990 Annen kortsiktig gjeld
3000 Salgsinntekt, avgiftspliktig
3100 Salgsinntekt, avgiftsfri
3200 Salgsinntekt, utenfor avgiftsområdet
3400 Offentlig tilskudd
3600 Leieinntekt fast eiendom
3700 Provisjonsinntekt
3900 Annen driftsrelatert inntekt
4000 Innkjøp av råvarer og halvfabrikata
4100 Innkjøp av varer under tilvirkning
4300 Innkjøp av varer for videresalg
4500 Fremmedytelse og underentreprise
4990 Beholdningsendring
5000 Lønn til ansatte
5090 Påløpt, ikke utbetalt lønn
5180 Påløpte feriepenger
5200 Fri bil
5210 Fri telefon
5250 Gruppelivsforsikring
5280 Annen fordel i arbeidsforhold
5300 Annen oppgavepliktig godtgjørelse
5330 Godtgjørelse til styre
5400 Arbeidsgiveravgift
5420 Innberetningspliktig pensjonskostnad
5900 Annen personalkostnad
5910 Kantinekostnad
5920 Yrkesskadeforsikring
5950 Velferdstiltak
6000 Avskrivning på bygninger
6010 Avskrivning på transportmidler
6015 Avskrivning på maskiner
6017 Avskrivning på inventar
6100 Frakt, transport og forsikring ved vareforsendelse
6200 Elektrisitet
6210 Gass
6250 Bensin, dieselolje
6300 Leie lokaler
6320 Renovasjon, vann, avløp
6340 Lys, varme
6360 Renhold
6390 Annen kostnad lokaler
6400 Leie maskiner
6410 Leie inventar
6420 Leie datasystemer
6440 Leie transportmidler
6500 Motordrevet verktøy
6540 Inventar
6550 Driftsmaterialer
6551 Datautstyr (hardware)
6552 Programvare anskaffelse
6560 Rekvisita
6600 Reparasjon og vedlikehold bygninger
6620 Reparasjon og vedlikehold utstyr
6700 Revisjons- og regnskapshonorar
6705 Regnskapshonorar
6720 Honorar for økonomisk og juridisk bistand
6790 Annen fremmed tjeneste
6800 Kontorrekvisita
6840 Aviser, tidsskrifter, bøker
6860 Møte, kurs, oppdatering
6900 Telefon
6907 Datakommunikasjon
6940 Porto
7000 Drivstoff
7020 Vedlikehold
7040 Forsikring og avgifter
7100 Bilgodtgjørelse, oppgavepliktig
7130 Reisekostnad, oppgavepliktig
7140 Reisekostnad, ikke oppgavepliktig
7150 Diettkostnad, oppgavepliktig
7300 Salgskostnad
7320 Reklamekostnad
7350 Representasjon, fradragsberettiget
7400 Kontingent, fradragsberettiget
7420 Gave, fradragsberettiget
7500 Forsikringspremie
7600 Lisensavgift og royalties
7700 Styre- og bedriftsforsamlingsmøter
7770 Bank og kortgebyrer
7790 Annen kostnad
7830 Tap på fordringer
8040 Renteinntekt
8060 Valutagevinst (agio)
8140 Rentekostnad
8160 Valutatap (disagio)
8300 Betalbar skatt
8320 Endring utsatt skatt
8800 Årsresultat
"""
ACCOUNTS = tuple(tuple(line.split(" ", 1)) for line in _CHART.strip().splitlines())

OBJECT_KINDS = (
    ("AVDELING", "Avdeling"),
    ("PROSJEKT", "Prosjekt"),
    ("35", "Anleggsmidler"),
    ("TAX_RULE", "Mva-kode"),
    ("KOSTNADSSTED", "Kostnadssted"),
)
DEPARTMENTS = ("Administrasjon", "Salg", "Innkjøp", "Produksjon", "Lager", "Økonomi", "Drift")
ASSET_NAMES = (
    "Varebil Ford Transit", "Gaffeltruck Toyota", "Kjølerom", "Servere og nettverk",
    "Kontorinventar Bergen", "Produksjonslinje", "Båt med påhengsmotor", "Lagerreoler",
)  # fmt: skip
PROJECT_KINDS = ("rehabilitering", "nybygg", "drift", "utvidelse")
ASSET_STATUSES = ("Aktiv", "Aktiv", "Aktiv", "Solgt", "Utrangert")


def _mod11_check(body: str, weights: tuple[int, ...]) -> int | None:
    """The Norwegian mod-11 check digit of ``body``, or None where none exists."""
    check = 11 - sum(map(mul, map(int, body), weights)) % 11
    return 0 if check == 11 else None if check == 10 else check


def norwegian_org_number(rng: random.Random) -> str:
    """A nine-digit organisation number (first digit 8 or 9) with a valid mod-11 check."""
    while True:
        body = str(80_000_000 + int(rng.random() * 20_000_000))
        check = _mod11_check(body, (3, 2, 7, 6, 5, 4, 3, 2))
        if check is not None:
            return body + str(check)


def norwegian_bank_account(rng: random.Random) -> str:
    """An eleven-digit account number with a valid mod-11 check."""
    while True:
        body = f"{int(rng.random() * 10_000_000_000):010d}"
        check = _mod11_check(body, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
        if check is not None:
            return body + str(check)


def swedish_org_number(rng: random.Random) -> str:
    """556xxx-xxxx with a valid Luhn check digit."""
    body = f"556{int(rng.random() * 1_000_000):06d}"
    total = 0
    for i, ch in enumerate(body):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return f"{body[:6]}-{body[6:]}{(10 - total % 10) % 10}"


def danish_cvr(rng: random.Random) -> str:
    """Eight digits whose weighted sum (2,7,6,5,4,3,2,1) is divisible by 11."""
    while True:
        body = str(1_000_000 + int(rng.random() * 9_000_000))
        last = -sum(map(mul, map(int, body), (2, 7, 6, 5, 4, 3, 2))) % 11
        if last < 10:
            return body + str(last)


def iban(rng: random.Random, country: str, length: int) -> str:
    digits = length - 4
    bban = f"{int(rng.random() * 10**digits):0{digits}d}"
    numeric = bban + "".join(str(int(c, 36)) for c in country) + "00"
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


_SLUG = str.maketrans(
    {"æ": "ae", "ø": "o", "å": "a", "ä": "a", "ö": "o", "é": "e", " ": "-", "&": "-"}
)


def _slug(name: str) -> str:
    return name.lower().translate(_SLUG)


def supplier_identity(rng: random.Random):
    """(name, companyNumber, bankAccount, e-mail domain) of one made-up Nordic supplier."""
    r = rng.random
    roll = r()
    if roll < 0.8:
        first = SURNAMES if r() < 0.35 else NO_PLACES
        name = (
            f"{first[int(r() * len(first))]} {NO_TRADES[int(r() * len(NO_TRADES))]} "
            f"{NO_SUFFIXES[int(r() * len(NO_SUFFIXES))]}"
        )
        return name, norwegian_org_number(rng), norwegian_bank_account(rng), "no"
    if roll < 0.9:
        name = f"{SE_PLACES[int(r() * len(SE_PLACES))]} {SE_TRADES[int(r() * len(SE_TRADES))]} AB"
        return name, swedish_org_number(rng), iban(rng, "SE", 24), "se"
    name = f"{DK_PLACES[int(r() * len(DK_PLACES))]} {DK_TRADES[int(r() * len(DK_TRADES))]} ApS"
    return name, danish_cvr(rng), iban(rng, "DK", 18), "dk"


def swedish_supplier_identity(rng: random.Random):
    """(name, companyNumber, bankAccount, e-mail domain) of a supplier of a Swedish owner:
    mostly Swedish, some Norwegian; every name starts with a Swedish surname."""
    r = rng.random
    surname = SE_SURNAMES[int(r() * len(SE_SURNAMES))]
    if r() < 0.85:
        trade = SE_SUPPLIER_TRADES[int(r() * len(SE_SUPPLIER_TRADES))]
        name = f"{surname} {trade} {SE_SUFFIXES[int(r() * len(SE_SUFFIXES))]}"
        return name, swedish_org_number(rng), iban(rng, "SE", 24), "se"
    name = f"{surname} {NO_TRADES[int(r() * len(NO_TRADES))]} Norge AS"
    return name, norwegian_org_number(rng), norwegian_bank_account(rng), "no"


@dataclass(frozen=True)
class Flavour:
    """How one owner's domain names its entities and suppliers."""

    owner_name: Callable[[random.Random], str]
    client_name: Callable[[random.Random], str]
    org_number: Callable[[random.Random], str]
    supplier_identity: Callable[[random.Random], tuple]


NORWEGIAN = Flavour(
    owner_name=lambda rng: f"{rng.choice(SURNAMES)} Konsern AS",
    client_name=lambda rng: f"{rng.choice(NO_PLACES)} {rng.choice(NO_TRADES)} AS",
    org_number=norwegian_org_number,
    supplier_identity=supplier_identity,
)
SWEDISH = Flavour(
    owner_name=lambda rng: f"{rng.choice(SE_SURNAMES)} Koncern AB",
    client_name=lambda rng: f"{rng.choice(SE_PLACES)} {rng.choice(SE_TRADES)} AB",
    org_number=swedish_org_number,
    supplier_identity=swedish_supplier_identity,
)


def owner_db_id(n: int) -> int:
    """The dbId of the n-th owner entity (1-based): 10001, 20001, 30001, ..."""
    return OWNER_DB_ID + (n - 1) * OWNER_DB_ID_STEP


def seed_store(
    store: Store, *, seed: int, suppliers: int, clients: int, now: datetime, owners: int = 1
) -> dict[int, list[int]]:
    """Seed ``owners`` independent domains; ``suppliers`` and ``clients`` are per owner.

    Returns owner entity dbId -> its client entity dbIds, in order.
    """
    if owners < 1:
        raise ValueError("owners must be at least 1")
    if owners > 1 and clients >= OWNER_DB_ID_STEP - 1:
        raise ValueError(f"with several owners, clients must be below {OWNER_DB_ID_STEP - 1}")
    domains = {}
    for n in range(1, owners + 1):
        # The first owner's stream is the one the sandbox always used: its data stays the same.
        rng = random.Random(seed) if n == 1 else random.Random(f"{seed}-owner-{n}")
        domains[owner_db_id(n)] = seed_domain(
            store, rng, n=n, suppliers=suppliers, clients=clients, now=now,
            flavour=NORWEGIAN if n == 1 else SWEDISH,
        )  # fmt: skip
    return domains


def seed_domain(
    store: Store,
    rng: random.Random,
    *,
    n: int,
    suppliers: int,
    clients: int,
    now: datetime,
    flavour: Flavour,
) -> list[int]:
    """One owner entity (the n-th), its client entities and all their data; returns the
    client entity dbIds. Every record's dbId comes from its table's counter."""
    owner = owner_db_id(n)
    chart_db_id = 100 + n
    now_ts = int(now.timestamp()) // 86400 * 86400  # a day boundary: stable within a day
    year = 365 * 86400

    def stamp() -> tuple[str, float]:
        ts = float(now_ts - int(rng.random() * year))
        return store.format_ts(ts), ts

    store.transaction_sources[owner] = set(TRANSACTION_SOURCES)

    entities = store.tables["entities"]
    owner_name = flavour.owner_name(rng)
    entities.append(Entity(owner, str(1000 * n), owner_name, flavour.org_number(rng), owner, None))
    client_ids = []
    for i in range(clients):
        db_id = owner + 1 + i
        name = flavour.client_name(rng)
        code = str(1000 * n + 100 * (i + 1))
        entities.append(Entity(db_id, code, name, flavour.org_number(rng), owner, owner))
        client_ids.append(db_id)

    # Currencies, object kinds and the chart of accounts live on the owner entity.
    for code, description in CURRENCIES:
        store.tables["currencies"].append(
            Currency(store.tables["currencies"].take_id(), code, description, owner)
        )
    kinds = {}
    for code, name in OBJECT_KINDS:
        table = store.tables["objectKinds"]
        modified_at, ts = stamp()
        kinds[code] = ObjectKind(table.take_id(), code, name, owner, modified_at, ts)
        table.append(kinds[code])

    accounts = store.tables["accounts"]
    account_ids = {}
    for code, description in ACCOUNTS:
        modified_at, ts = stamp()
        number = int(code)
        account = Account(
            accounts.take_id(), code, description, owner, chart_db_id,
            posting=number not in (8800,), vat=3000 <= number < 8000,
            balanceSheet=number < 3000, modifiedAt=modified_at, modifiedTs=ts,
        )  # fmt: skip
        accounts.append(account)
        account_ids[code] = account.dbId
    for i, client in enumerate(client_ids):  # a client-only account, as real installations have
        modified_at, ts = stamp()
        accounts.append(
            Account(accounts.take_id(), str(6795 + i), f"Annen fremmed tjeneste, klient {i + 1}",
                    client, chart_db_id, True, True, False, modified_at, ts)
        )  # fmt: skip

    values = store.tables["objectValues"]
    setups = store.tables["taxTableSetups"]

    def add_value(kind_code, code, description, value_owner, date_from=None, date_to=None):
        modified_at, ts = stamp()
        value = ObjectValue(
            values.take_id(), code, description, kinds[kind_code].dbId, value_owner,
            date_from, date_to, modified_at, ts,
        )  # fmt: skip
        values.append(value)
        return value

    future = announced_date(now)
    for code, description, percent, tax_account in VAT_CODES:
        value = add_value("TAX_RULE", code, description, owner)
        for rate, date_from in VAT_RATE_HISTORY.get(code, ((percent, DEFAULT_SETUP_FROM),)):
            setups.append(
                TaxTableSetup(setups.take_id(), value.dbId, rate, account_ids.get(tax_account),
                              owner, future if date_from == FUTURE else date_from)
            )  # fmt: skip
    for i, name in enumerate(DEPARTMENTS):
        add_value("AVDELING", str(10 * (i + 1)), name, owner)
    for entity in [owner, *client_ids]:
        for j in range(rng.randint(3, 8)):
            start = date(2024, 1, 1) + timedelta(days=rng.randrange(500))
            end = start + timedelta(days=rng.randrange(90, 900)) if rng.random() < 0.4 else None
            add_value(
                "PROSJEKT", f"P{entity % 100:02d}{j + 1:03d}",
                f"Prosjekt {rng.choice(NO_PLACES)} {rng.choice(PROJECT_KINDS)}",
                entity, start.isoformat(), end.isoformat() if end else None,
            )  # fmt: skip
    for j in range(rng.randint(3, 6)):
        add_value("KOSTNADSSTED", f"K{j + 1}", f"Kostnadssted {j + 1}", owner)

    assets = store.tables["assets"]
    for entity in [owner, *client_ids]:
        for _ in range(rng.randint(2, 6)):
            name = rng.choice(ASSET_NAMES)
            purchased = date(2019, 1, 1) + timedelta(days=rng.randrange(2000))
            asset = Asset(
                assets.take_id(), str(4001 + len(assets.records)), name, purchased.isoformat(),
                rng.choice((701, 702, 703, 704)), rng.choice(ASSET_STATUSES), entity,
            )  # fmt: skip
            assets.append(asset)
            add_value("35", asset.code, name, entity)  # fixed assets as dimension values

    # Supplier codes 20000, 20001, ... for the first owner; n*1,000,000 + 20000 + i after it,
    # so a code sent to the wrong owner is not found there.
    first_code = 20000 if n == 1 else n * 1_000_000 + 20000
    _seed_suppliers(
        store, rng, suppliers, [owner, *client_ids], stamp, flavour.supplier_identity, first_code
    )
    return client_ids


def _seed_suppliers(
    store: Store, rng, count: int, owners: list[int], stamp, identity, first_code: int
) -> None:
    """Most suppliers on client entities, about one in six on the owner entity."""
    table = store.tables["suppliers"]
    clients = owners[1:] or owners
    first_id = table.next_id
    records, ids, by_id = table.records, table.ids, table.by_id
    random_ = rng.random
    for i in range(count):
        db_id = first_id + i
        owner = owners[0] if random_() < 0.17 else clients[i % len(clients)]
        name, company_number, bank_account, tld = identity(rng)
        roll = random_()
        email = None if roll < 0.12 else f"faktura@{_slug(name)}.{tld}"
        if random_() < 0.1:
            bank_account = None
        if random_() < 0.08:
            company_number = None
        description = name
        if random_() < 0.03:
            description = f"{name} – {rng.choice(LONG_TAILS)}"
        modified_at, ts = stamp()
        record = Supplier(
            db_id, str(first_code + i), description, email, bank_account, company_number, owner,
            modified_at, ts,
        )  # fmt: skip
        records.append(record)
        ids.append(db_id)
        by_id[db_id] = record
    table.next_id = first_id + count
    table.version += 1
