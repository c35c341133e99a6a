"""Secrets at rest: sealed with a key from the environment, never from the database.

`seal(text)` -> an opaque token (Fernet: AES-128-CBC + HMAC-SHA256) stored in the
database; `open_(token)` -> the text again, for the worker that delivers it to AWS.
The key comes from STRANDS_SECRETS_KEY (one Fernet key, or several separated by commas:
the first seals, all open, so a key can be rotated); without it the embedded mode
derives one from SECRET_KEY and says so in the log, because then the key and the
database usually sit on the same disk.

Every plaintext this process seals or opens is remembered, and a log-record factory
installed at start-up (`install_log_redaction`) blanks them out of every log line;
`redact(obj, secrets)` does the same to events, plans, snapshots and exports. A secret is
blanked where it stands as a whole token, never as a piece of a longer word or number;
only a long secret is blanked wherever it appears (see ANYWHERE_LENGTH).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

KEY_ENV = "STRANDS_SECRETS_KEY"
REDACTED = "[redacted]"
MASK = "••••••••"
MIN_LENGTH = 4
"""Shorter secrets are never redacted: even as whole tokens they would blank ordinary words."""
ANYWHERE_LENGTH = 16
"""Secrets this long are blanked wherever they appear, even glued to other text (after an
escape such as a literal \\n or %3D), where a chance match is as good as impossible.
Shorter ones only as whole tokens, so an 11-digit secret never cuts a 12-digit account id."""
_WORD = re.compile(r"\w")

log = logging.getLogger(__name__)


class SecretError(ValueError):
    """A token that does not open with any configured key (wrong key or tampered)."""


def _fernet_key(text: str) -> bytes:
    """A Fernet key as given, or one derived from any other string (a passphrase)."""
    raw = text.strip().encode()
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32:
            return raw
    except ValueError:
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(b"strands-deploy-secrets:" + raw).digest())


@lru_cache(maxsize=1)
def _cipher(configured: str, fallback: str) -> MultiFernet:
    if configured.strip():
        keys = [k for k in configured.split(",") if k.strip()]
    else:
        log.warning(
            "%s is not set: secrets are encrypted with a key derived from SECRET_KEY. "
            "Set %s (python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())') outside the database in production.",
            KEY_ENV,
            KEY_ENV,
        )
        keys = [fallback]
    return MultiFernet([Fernet(_fernet_key(k)) for k in keys])


def cipher() -> MultiFernet:
    return _cipher(os.environ.get(KEY_ENV, ""), str(settings.SECRET_KEY))


# --- the registry of plaintexts this process has handled, for redaction --------------------
_seen: set[str] = set()
_seen_lock = threading.Lock()


def remember(text: str) -> None:
    if len(text) >= MIN_LENGTH:
        with _seen_lock:
            _seen.add(text)


def known_secrets() -> frozenset[str]:
    with _seen_lock:
        return frozenset(_seen)


# --- the API -------------------------------------------------------------------------------
def seal(text: str) -> str:
    remember(text)
    return cipher().encrypt(text.encode()).decode("ascii")


def open_(token: str) -> str:
    try:
        text = cipher().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError, ValueError):
        raise SecretError(
            f"a stored secret does not open with the key in {KEY_ENV} "
            "(was the key changed without keeping the old one after a comma?)"
        ) from None
    remember(text)
    return text


def mask(text: str | None) -> str:
    """What a page shows for a stored secret: that there is one, never any of it."""
    return MASK if text else ""


def redact(obj: Any, secrets: Iterable[str] | None = None) -> Any:
    """`obj` with each secret (default: all this process has seen) replaced by "[redacted]"
    where it stands as a whole token, in strings nested in dicts, lists and tuples (keys too)."""
    wanted = {s for s in (known_secrets() if secrets is None else secrets) if len(s) >= MIN_LENGTH}
    if not wanted:
        return obj
    # Longest first: a secret containing another is blanked whole.
    return _redact(obj, _pattern(tuple(sorted(wanted, key=lambda s: (-len(s), s)))))


@lru_cache(maxsize=64)
def _pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(_token(secret) for secret in secrets))


def _token(secret: str) -> str:
    """The secret, not preceded or followed by a character that would make it part of a
    longer word or number (a side that is itself punctuation needs no such guard)."""
    text = re.escape(secret)
    if len(secret) >= ANYWHERE_LENGTH:
        return text
    before = r"(?<!\w)" if _WORD.match(secret[0]) else ""
    after = r"(?!\w)" if _WORD.match(secret[-1]) else ""
    return before + text + after


def _redact(obj: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(obj, str):
        return pattern.sub(REDACTED, obj)
    if isinstance(obj, dict):
        return {_redact(k, pattern): _redact(v, pattern) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return type(obj)(_redact(v, pattern) for v in obj)
    return obj


# --- logs ----------------------------------------------------------------------------------
_installed = False


def install_log_redaction() -> None:
    """Every log record made in this process is redacted as it is created, whichever
    handler (console, file, pytest's capture) later formats it."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        secrets = known_secrets()
        if secrets:
            _redact_record(record, secrets)
        return record

    logging.setLogRecordFactory(factory)


def _redact_record(record: logging.LogRecord, secrets: frozenset[str]) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: leave it to logging's own error report
        return
    clean = redact(message, secrets)
    if clean != message:
        record.msg, record.args = clean, ()
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        clean_text = redact(text, secrets)
        if clean_text != text:
            record.exc_text = clean_text
