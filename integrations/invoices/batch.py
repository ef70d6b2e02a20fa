"""Sending one claimed batch of invoices so that a bad invoice never holds back the others.

Xledger may answer a batch of `addGLImportItems` inputs in three ways, and which one it uses is
not public [ours]:

- it stores the valid inputs and answers an error for each invalid one (named by
  `extensions.clientId`, or only by the input's index in `path`);
- it refuses the whole call and names the invalid inputs by index (nothing is stored);
- it refuses the whole call without naming any input.

Errors are attributed to an invoice by the echoed clientId or by the input index in `path`.
Invoices named by a refused call are rejected with Xledger's message and the rest of the batch is
sent again at once, in the same pass. A call refused without naming an input is narrowed down
by sending halves (each invoice rejected this way was refused on its own, in a request of its
own), so one bad invoice costs O(log n) extra requests. A refusal that nothing in the batch gets
past is the connection's problem, not an invoice's (a changed schema, an input dbId of the wrong
type): nothing is rejected for it, the invoices are pending again and the error is raised.

Input dbIds: `owner { dbId }` must fit the server's dbId scalar exactly (a strict Int64String
refuses a number, Int refuses a string; both refuse the whole call). Until a server has accepted
a call, a call it refuses without naming an input is sent once more with the other form
(`mapping.DB_ID_FORMS`): the pass's first such call, and any invoice sent alone. The form a
server accepted is remembered per Xledger URL for the life of the process, so this costs one
request per worker process at most, and none once the guess is right.

Every request after the first re-asserts the claim (`outbox.renew`), so a pass of several
requests never sends an invoice whose lease another worker took over, and every state change is
conditional on still holding the claim (`outbox.finish`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from integrations.invoices import mapping, outbox
from integrations.models import Invoice
from integrations.xledger import queries
from integrations.xledger.dbids import db_id_of
from integrations.xledger.errors import QueryError, TransientError, XledgerError

Status = Invoice.Status

# Kinds of error that mean "this request was refused as invalid": nothing was stored, and an
# input may be to blame. Any other kind is the connection's (auth, permission, rate limit,
# credits, transport) and stops the pass.
REFUSED_KINDS = ("query", "schema")
# A lone invoice that Xledger keeps refusing without a reason, while nothing else is sent, is
# rejected after this many sends (it would otherwise cost a request every run, for ever).
FAILING_ATTEMPTS = 3

# Input dbId form accepted by each Xledger URL, learnt by this process (see the docstring).
_db_id_forms: dict[str, str] = {}


def accepted_db_id_form(url: str) -> str | None:
    return _db_id_forms.get(url)


def remember_db_id_form(url: str, form: str) -> None:
    if form not in mapping.DB_ID_FORMS:
        raise ValueError(f"unknown dbId form {form!r}")
    _db_id_forms[url] = form


def forget_db_id_forms() -> None:
    _db_id_forms.clear()


def input_index(path) -> int | None:
    """The input an error's `path` names: `["addGLImportItems", "inputs", 3, ...]` → 3."""
    if not path:
        return None
    parts = list(path)
    for position, part in enumerate(parts[:-1]):
        if part == "inputs":
            index = parts[position + 1]
            if isinstance(index, int) and not isinstance(index, bool):
                return index
            if isinstance(index, str) and index.isdigit():
                return int(index)
    return None


@dataclass
class Inputs:
    """One request's inputs: only items not yet in Xledger, their file parts, who owns what."""

    inputs: list = field(default_factory=list)
    files: dict = field(default_factory=dict)
    owners: dict = field(default_factory=dict)  # clientId → invoice
    pdf_names: dict = field(default_factory=dict)  # invoice pk → (name sent, names it may have)

    def owner_of(self, error: XledgerError) -> Invoice | None:
        invoice = self.owners.get(error.extensions.get("clientId"))
        if invoice is not None:
            return invoice
        index = input_index(error.path)
        if index is not None and 0 <= index < len(self.inputs):
            return self.owners.get(self.inputs[index]["clientId"])
        return None


def build_inputs(invoices, *, db_id_form: str = mapping.DB_ID_FORMS[0]) -> Inputs:
    """The inputs of one `addGLImportItems` call for `invoices` (their items not yet stored)."""
    built = Inputs()
    taken: set[str] = set()
    for invoice in invoices:
        customer = invoice.connection.customer
        items = mapping.import_items(
            invoice,
            list(invoice.lines.all()),
            supplier_account=getattr(customer, "supplier_posting_account", "") or "",
            db_id_form=db_id_form,
        )
        done = invoice.xledger_db_ids or {}
        for n, item in enumerate(items):
            if item["clientId"] in done:
                continue
            if n == 0 and invoice.attachment_size:
                attachment = invoice.attachment
                names = mapping.file_names(attachment.file_name, invoice.external_id)
                name = names[0] if names[0] not in taken else names[1]
                taken.add(name)
                mapping.attach_file(item, name)
                built.files[mapping.file_path(len(built.inputs))] = (
                    name,
                    bytes(attachment.content),
                    mapping.FILE_CONTENT_TYPE,
                )
                built.pdf_names[invoice.pk] = (name, names)
            built.owners[item["clientId"]] = invoice
            built.inputs.append(item)
    return built


@dataclass
class Answer:
    """Xledger's answer to one call, attributed to our invoices."""

    stored: dict = field(default_factory=dict)  # clientId → dbId
    named: dict = field(default_factory=dict)  # invoice pk → [message]
    unnamed: list = field(default_factory=list)  # errors naming no input

    @property
    def refused_unnamed(self) -> bool:
        """Refused as a whole without naming an input: nothing stored, nobody named."""
        return not self.stored and not self.named and bool(self.unnamed)


class BatchSend:
    """One claimed batch through to a state for each invoice (see the module docstring).
    `send()` raises the error that stopped it after putting every invoice it still held in a
    safe state: in doubt if it may have been stored, pending otherwise."""

    def __init__(self, *, client, token: str, lease, result):
        self.client = client
        self.token = token
        self.lease = lease
        self.result = result
        self.requests = 0
        self.accepted = False  # Xledger got past the call as a whole at least once
        known = accepted_db_id_form(client.url)
        self.form_known = known is not None
        self.form = known or mapping.DB_ID_FORMS[0]
        self.form_tried = False
        self.open: dict[int, Invoice] = {}  # held, no state written yet
        self.in_flight: list[Invoice] = []
        self.pdfs: dict[int, tuple] = {}  # invoice pk → (invoice, names): supplier line stored

    # --- the pass ------------------------------------------------------------------------------

    def send(self, invoices: list[Invoice]) -> None:
        self.open = {invoice.pk: invoice for invoice in invoices}
        try:
            self._send_all(invoices)
        except XledgerError as exc:
            self._stop(exc)
            raise

    def _send_all(self, invoices) -> None:
        untested = list(invoices)  # to send together in the next call
        # Groups refused as a whole with nobody named: (group, error, refused as this group).
        # A second half is only inferred refused (the first half went in), so an invoice is a
        # suspect only once a call of its own was refused.
        refused: list[tuple[list, XledgerError, bool]] = []
        suspects: list[tuple[Invoice, XledgerError]] = []
        cap = 4 * len(invoices) + 8  # never reached; a bug must not spend requests for ever
        while untested or refused:
            if self.requests >= cap:
                raise QueryError(f"Gave up on a batch after {self.requests} requests.")
            if refused:
                group, error, confirmed = refused.pop()
                held = self._held(group)
                if len(held) < len(group):  # some were taken over: no longer what was refused
                    untested.extend(held)
                    continue
                if len(group) == 1 and confirmed:
                    suspects.append((group[0], error))
                    continue
                half = max(1, len(group) // 2)
                tried, rest = group[:half], group[half:]
            else:
                tried, untested, rest = untested, [], []
            attempt = self._attempt(tried)
            if attempt is None:
                untested.extend(rest)
                continue
            answer, built, sent = attempt
            if answer.refused_unnamed:
                error = answer.unnamed[0]
                if not self.accepted and len(sent) > 1:
                    untested.extend(rest)
                    narrowed = self._probe(sent, error, suspects, untested)
                    if narrowed:
                        refused.append((narrowed, error, False))
                else:
                    refused.append((sent, error, True))
                    untested.extend(rest)  # not known to be refused: sent with the others
                continue
            untested.extend(self._settle(sent, answer, built))
            if rest:  # the first half went in, so the refusal lies in the second
                refused.append((rest, error, False))
        if suspects:
            lone = len(invoices) == 1 and invoices[0].attempts >= FAILING_ATTEMPTS
            if not (self.accepted or lone):
                raise suspects[-1][1]  # nothing got through: the call is refused, not it
            for invoice, error in suspects:
                self._reject(invoice, str(error), invoice.xledger_db_ids or {})

    def _probe(self, group, error, suspects, untested) -> list:
        """Nothing has got through yet and `group` was refused without a named input: is one
        of its invoices to blame, or the call itself (a changed schema, a dbId of the wrong
        type)? Send two of its invoices alone, picked at random (so that two bad invoices
        cannot hold the others back pass after pass). Both refused: the call is, and the error
        is raised with nothing rejected (three requests in all). The first one went in: the
        refusal lies in the rest (returned, to be halved). Only the second went in: the first
        may be all there was to it, so the rest is sent whole."""
        rng = random.Random(f"{group[0].pk}:{group[0].attempts}:{len(group)}")
        rest = list(group)
        refusals = []
        for probe in rng.sample(group, 2):
            rest.remove(probe)
            attempt = self._attempt([probe])
            if attempt is None:
                continue
            answer, built, sent = attempt
            if answer.refused_unnamed:
                refusals.append((probe, answer.unnamed[0]))
                continue
            untested.extend(self._settle(sent, answer, built))
            suspects.extend(refusals)
            if refusals:
                untested.extend(rest)
                return []
            return rest
        if not self.accepted:
            raise refusals[-1][1] if refusals else error
        suspects.extend(refusals)
        return rest

    def _held(self, group) -> list[Invoice]:
        return [invoice for invoice in group if invoice.pk in self.open]

    def _attempt(self, group):
        """Send `group` (what of it this worker still holds); returns (answer, inputs, the
        invoices sent), or None if none is held any more."""
        group = self._held(group)
        if group and self.requests:  # every request after the claim's first re-asserts it
            held = outbox.renew(group, token=self.token, lease=self.lease)
            for lost in {i.pk for i in group} - {i.pk for i in held}:
                self.open.pop(lost, None)  # taken over meanwhile: its new holder looks it up
            group = held
        if not group:
            return None
        answer, built = self._call(group)
        if answer.refused_unnamed and self._may_try_other_form(group):
            self.form_tried = True
            tried_form = self.form
            self.form = next(f for f in mapping.DB_ID_FORMS if f != tried_form)
            retry, retry_built = self._call(group)
            if retry.refused_unnamed:
                self.form = tried_form
            else:
                answer, built = retry, retry_built
        if not answer.refused_unnamed:
            self.accepted = True
            if not self.form_known:
                remember_db_id_form(self.client.url, self.form)
                self.form_known = True
        return answer, built, group

    def _may_try_other_form(self, group) -> bool:
        """While the server's dbId form is unknown, a call refused without a named input is sent
        once more with the other form: the first refused call of the pass, and any invoice sent
        alone (so a bad invoice in the first call cannot hide which form is right)."""
        return not self.form_known and (not self.form_tried or len(group) == 1)

    def _call(self, group) -> tuple[Answer, Inputs]:
        built = build_inputs(group, db_id_form=self.form)
        self.in_flight = group
        self.requests += 1
        try:
            data, errors = self.client.execute_partial(
                queries.ADD_GL_IMPORT_ITEMS,
                {"inputs": built.inputs},
                mutation=True,
                files=built.files or None,
            )
        except XledgerError as exc:
            if exc.kind not in REFUSED_KINDS:
                raise
            data, errors = None, [exc]  # refused as invalid: nothing was stored
        self.in_flight = []
        answer = Answer()
        edges = ((data or {}).get("addGLImportItems") or {}).get("edges") or []
        for edge in edges:
            cid, node = edge.get("clientId"), edge.get("node") or {}
            if cid in built.owners and db_id_of(node.get("dbId")) is not None:
                answer.stored[cid] = db_id_of(node["dbId"])
        for error in errors:
            owner = built.owner_of(error)
            if owner is not None:
                answer.named.setdefault(owner.pk, []).append(error.message)
            elif error.kind in REFUSED_KINDS:
                answer.unnamed.append(error)
            else:  # a missing write scope, answered as a field error: the connection's problem
                raise error
        return answer, built

    # --- writing the outcome -------------------------------------------------------------------

    def _settle(self, group, answer: Answer, built: Inputs) -> list[Invoice]:
        """Write each invoice's outcome; returns those to send again at once: the ones a call
        that stored nothing did not name (only the named ones were refused)."""
        innocent = not answer.stored and bool(answer.named)
        again = []
        now = timezone.now()
        with transaction.atomic():
            for invoice in group:
                expected = mapping.client_ids(invoice)
                db_ids = dict(invoice.xledger_db_ids or {})
                new = {cid: answer.stored[cid] for cid in expected if cid in answer.stored}
                db_ids.update(new)
                invoice.xledger_db_ids = db_ids  # what this pass knows from here on
                changes = {}
                supplier = mapping.client_id(invoice.external_id, 0)
                if supplier in new and invoice.pk in built.pdf_names:
                    changes["attachment_status"] = Invoice.AttachmentStatus.UNCHECKED
                    self.pdfs[invoice.pk] = (invoice, built.pdf_names[invoice.pk][:1])
                if all(cid in db_ids for cid in expected):
                    if outbox.finish(
                        invoice, token=self.token, from_status=Status.SENDING, status=Status.SENT,
                        xledger_db_ids=db_ids, sent_at=now, last_error="", xledger_message="",
                        **changes,
                    ):  # fmt: skip
                        self.result.sent += 1
                    self.open.pop(invoice.pk, None)
                elif invoice.pk in answer.named:
                    self._reject(invoice, "; ".join(answer.named[invoice.pk]), db_ids, **changes)
                elif innocent:
                    again.append(invoice)
                else:
                    missing = [cid for cid in expected if cid not in db_ids]
                    message = "; ".join(e.message for e in answer.unnamed) or (
                        f"Xledger did not store {', '.join(missing)} and gave no reason."
                    )
                    self._reject(invoice, message, db_ids, **changes)
        return again

    def _reject(self, invoice, message: str, db_ids: dict, **changes) -> None:
        if outbox.finish(
            invoice, token=self.token, from_status=Status.SENDING, status=Status.REJECTED,
            xledger_db_ids=db_ids, xledger_message=message, last_error="", **changes,
        ):  # fmt: skip
            self.result.rejected += 1
            self.result.rejections.append({"externalId": invoice.external_id, "message": message})
        self.open.pop(invoice.pk, None)

    def _stop(self, exc: XledgerError) -> None:
        """The pass stops: what may have been stored is in doubt, the rest is pending again."""
        doubtful = []
        if isinstance(exc, TransientError) and exc.in_doubt:
            doubtful = self._held(self.in_flight)
        if doubtful:
            self.result.in_doubt += outbox.finish_many(
                doubtful,
                token=self.token,
                from_status=Status.SENDING,
                status=Status.IN_DOUBT,
                claimed_until=timezone.now() + outbox.in_doubt_settle(),
                last_error=str(exc),
            )
        rest = [i for i in self.open.values() if i.pk not in {d.pk for d in doubtful}]
        if rest:
            self.result.released += outbox.finish_many(
                rest, token=self.token, from_status=Status.SENDING, status=Status.PENDING,
                last_error=str(exc),
            )  # fmt: skip
        self.open.clear()
        self.result.error = exc
