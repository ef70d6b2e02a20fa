"""A local stand-in for Brønnøysundregistrene's Enhetsregisteret, for tests and `make run`
(`BRREG_TRANSPORT_FACTORY=portal.brreg_fake.transport`): an httpx transport that answers
`GET …/enheter/{orgnr}` in the register's shape, in process, with no network.

Known numbers (all with a valid check digit):

- 974760673 Fjordbåt Shipping AS, Bergen (the demo customer)
- 923609016 Nordlys Regnskap AS, Tromsø, with a two-line address
- 910000004 Konkursbo Båtbygg AS: bankrupt
- 910000012 Avvikling Handel AS: being wound up
- 910000020 Tvang Drift AS: being compulsorily wound up or dissolved
- 910000039 deleted: 410 Gone
- 910000047 the register is down (the connection fails), to see the "fill in by hand" notice

Any other number: 404, as the register answers a number it does not know.
"""

import httpx

COMPANIES = {
    "974760673": {
        "navn": "FJORDBÅT SHIPPING AS",
        "forretningsadresse": {
            "adresse": ["Bryggen 1"],
            "postnummer": "5003",
            "poststed": "BERGEN",
            "landkode": "NO",
        },
    },
    "923609016": {
        "navn": "NORDLYS REGNSKAP AS",
        "forretningsadresse": {
            "adresse": ["c/o Nordlys Hus", "Storgata 10"],
            "postnummer": "9008",
            "poststed": "TROMSØ",
            "landkode": "NO",
        },
    },
    "910000004": {
        "navn": "KONKURSBO BÅTBYGG AS",
        "forretningsadresse": {
            "adresse": ["Verftsveien 3"],
            "postnummer": "6002",
            "poststed": "ÅLESUND",
            "landkode": "NO",
        },
        "konkurs": True,
    },
    "910000012": {
        "navn": "AVVIKLING HANDEL AS",
        "forretningsadresse": {
            "adresse": ["Torget 2"],
            "postnummer": "7011",
            "poststed": "TRONDHEIM",
            "landkode": "NO",
        },
        "underAvvikling": True,
    },
    "910000020": {
        "navn": "TVANG DRIFT AS",
        "forretningsadresse": {
            "adresse": ["Kaigata 5"],
            "postnummer": "4006",
            "poststed": "STAVANGER",
            "landkode": "NO",
        },
        "underTvangsavviklingEllerTvangsopplosning": True,
    },
}
DELETED = {"910000039": "2023-05-31"}
DOWN = {"910000047"}

DEFAULTS = {
    "konkurs": False,
    "underAvvikling": False,
    "underTvangsavviklingEllerTvangsopplosning": False,
}


def answer(request: httpx.Request) -> httpx.Response:
    parts = request.url.path.rstrip("/").split("/")
    if request.method != "GET" or len(parts) < 2 or parts[-2] != "enheter":
        return httpx.Response(404, json={"status": 404, "error": "Not Found"})
    orgnr = parts[-1]
    if orgnr in DOWN:
        raise httpx.ConnectError("fake register: down", request=request)
    if orgnr in DELETED:
        return httpx.Response(
            410, json={"organisasjonsnummer": orgnr, "slettedato": DELETED[orgnr]}
        )
    company = COMPANIES.get(orgnr)
    if company is None:
        return httpx.Response(404, json={"status": 404, "error": "Not Found"})
    return httpx.Response(200, json={"organisasjonsnummer": orgnr, **DEFAULTS, **company})


def transport() -> httpx.MockTransport:
    return httpx.MockTransport(answer)
