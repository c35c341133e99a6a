"""Errors the engine raises, each naming the action, the resource and AWS's message."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
)


class EngineError(Exception):
    """Base class for every error the engine means a user to read."""


class ProvisioningError(EngineError):
    def __init__(self, action: str, resource: str, detail: str, *, code: str = "") -> None:
        self.action = action
        self.resource = resource
        self.detail = detail
        self.code = code
        super().__init__(f"{action} {resource}: {detail}")


class BlueprintError(EngineError):
    """The blueprint asks for something AWS would refuse; names the node and field."""

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems = problems  # (node, field, message)
        lines = [f"{node}.{fld}: {msg}" if fld else f"{node}: {msg}" for node, fld, msg in problems]
        super().__init__("; ".join(lines))


class RunSuperseded(EngineError):
    """This run may no longer write: it was declared dead, or a newer run owns the stage.

    Raised by a store or sink whose run lost its fence (a worker that paused past its
    heartbeat, a message delivered twice); the orchestrator stops starting work and
    lets the exception end the run without touching state or history again.
    """


THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)  # botocore's own list (retries/standard.py), minus TransactionInProgress
TRANSIENT_CODES = frozenset(
    {"InternalFailure", "InternalError", "InternalServerError", "ServiceUnavailable",
     "ServiceException", "RequestTimeout", "RequestTimeoutException"}
)  # fmt: skip


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}
)
ACCESS_DENIED_HINT = (
    "`python manage.py deployer_policy` prints the policy the deploying identity needs"
)


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        text = f"{err.get('Code', 'Error')}: {err.get('Message', str(exc))}"
        if err.get("Code") in ACCESS_DENIED_CODES:
            text += f" ({ACCESS_DENIED_HINT})"
        return text
    return str(exc)


@contextmanager
def aws_errors(action: str, resource: str) -> Iterator[None]:
    """Wrap boto errors once as a `ProvisioningError` ("creating Lambda function x: ...")."""
    try:
        yield
    except ProvisioningError:
        raise
    except ClientError as exc:
        raise ProvisioningError(action, resource, error_message(exc), code=error_code(exc)) from exc
    except BotoCoreError as exc:
        raise ProvisioningError(action, resource, str(exc)) from exc


def is_transient(exc: BaseException) -> bool:
    """Worth another try: throttled, a 5xx, or the reply never arrived."""
    if isinstance(exc, ClientError):
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        code = error_code(exc)
        return code in THROTTLE_CODES or code in TRANSIENT_CODES or status >= 500 or status == 429
    if isinstance(exc, ParamValidationError | NoCredentialsError | NoRegionError):
        return False  # refused before anything was sent: trying again changes nothing
    return isinstance(exc, BotoCoreError)  # connection reset, timeouts, ...


def is_not_found(exc: ClientError, *codes: str) -> bool:
    code = error_code(exc)
    defaults = ("ResourceNotFoundException", "NoSuchEntity", "NotFoundException", "NotFound")
    return code in (codes or defaults) or code in defaults


def found_or_none(call: Callable[..., Any], *codes: str, **kwargs: object) -> Any:
    """A read whose "not found" (the default codes and `codes`) is the answer None: AWS
    has no such resource, which is no error."""
    try:
        return call(**kwargs)
    except ClientError as exc:
        if is_not_found(exc, *codes):
            return None
        raise


def delete_if_present(call: Callable[..., object], *codes: str, **kwargs: object) -> bool:
    """Call a delete; "not found" (the default codes and `codes`) means it is already gone,
    which is what we wanted. True when this call deleted it, False when it was gone, so a
    caller can skip waiting for a deletion that never started."""
    try:
        call(**kwargs)
    except ClientError as exc:
        if not is_not_found(exc, *codes):
            raise
        return False
    return True


def retry_while(
    predicate: Callable[[Exception], bool],
    call: Callable[[], object],
    *,
    timeout_s: float,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    first_delay_s: float = 0.5,
    max_delay_s: float = 8.0,
    on_wait: Callable[[Exception, float], None] | None = None,
) -> object:
    """Retry `call` with bounded exponential backoff while `predicate(error)` holds.

    For the eventual-consistency errors AWS documents (a new role not yet
    assumable by Lambda, ...), which botocore's retry modes do not cover.
    `on_wait(error, waited_s)` is told before each sleep (progress for the user).
    """
    started = clock()
    deadline = started + timeout_s
    delay = first_delay_s
    while True:
        try:
            return call()
        except Exception as exc:
            if not predicate(exc) or clock() + delay > deadline:
                raise
            if on_wait is not None:
                on_wait(exc, clock() - started)
            sleep(delay)
            delay = min(delay * 2, max_delay_s)
