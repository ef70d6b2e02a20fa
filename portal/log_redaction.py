"""No log line holds a link's secret: the token of an invitation link (a password until it is
used), of a replace-token link (it opens a connection's token page without a login) or of a
password-reset link is replaced by `[redacted]` in every log record.

Django writes the path of a failed request to its logs ("Forbidden (CSRF token missing.):
/invitation/<token>/", "Gone: ...", runserver's access line), so a still-valid invitation would
end up in the log whenever a POST to its link fails. `install()` (called from
`PortalConfig.ready()`, so in the web and worker processes alike) wraps logging's record factory:
every record of every logger, whatever its handlers, is redacted when it is made, before any
handler, filter or formatter sees it. No LOGGING setting is needed for it.
"""

import logging
import re

REDACTED = "[redacted]"
_SECRET_IN_PATH = re.compile(
    # An invitation link (not the admin's invitation pages, /admin/portal/invitation/<pk>/),
    # a replace-token link, a password-reset link ...
    r"(?P<keep>(?<!/admin/portal)/invitation/|/xledger/replace/|/reset/[^/\s\"'<>?#]+/)"
    r"(?!set-password/)(?P<secret>[^/\s\"'<>?#]+)"  # ... and the token after it
)


def redact(text: str) -> str:
    """`text` with the token of any invitation, replace-token or password-reset link replaced."""
    if "/invitation/" not in text and "/reset/" not in text and "/xledger/replace/" not in text:
        return text
    return _SECRET_IN_PATH.sub(lambda m: m.group("keep") + REDACTED, text)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact the message (formatted with its arguments) and any traceback, in place."""
    try:
        message = record.getMessage()
    except Exception:  # a broken format string: the handler will report it, unredacted args too
        return record
    redacted = redact(message)
    if redacted != message:
        record.msg, record.args = redacted, None
    if record.exc_info and not record.exc_text:
        # Formatters use a precomputed exc_text as it is.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Make every log record redacted from now on (once; further calls do nothing)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, "redacts", False):
        return

    def make_redacted_record(*args, **kwargs):
        return redact_record(factory(*args, **kwargs))

    make_redacted_record.redacts = True
    logging.setLogRecordFactory(make_redacted_record)
