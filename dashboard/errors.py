"""The errors services raise for the user to read: what went wrong and, where known, which field."""

from __future__ import annotations


class ServiceError(Exception):
    """A mistake the user can fix; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StaleWrite(ServiceError):
    pass
