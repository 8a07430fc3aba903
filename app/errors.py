"""Errors a user can cause: expected values with a Chinese message, never a stack trace."""

from __future__ import annotations


class WorkflowError(Exception):
    status = 409
    code = "conflict"

    def __init__(self, message: str, errors: list[dict] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []

    def as_dict(self) -> dict:
        return {"error": self.code, "message": self.message, "errors": self.errors}


class ValidationFailed(WorkflowError):
    status = 422
    code = "validation_failed"


class Forbidden(WorkflowError):
    status = 403
    code = "forbidden"


class NotFound(WorkflowError):
    status = 404
    code = "not_found"


def require_confirmation(confirmed: bool, statement: str) -> None:
    """Refuse an act that cannot be undone unless the user confirmed `statement` (the web's
    checkbox, the CLI's prompt or --yes; an API call is its own confirmation)."""
    if not confirmed:
        raise ValidationFailed(
            f"此操作不可撤销，请确认后再办理：{statement}。",
            [
                {
                    "field": "confirm",
                    "label": "确认",
                    "message": "请确认后再办理（网页上勾选确认，命令行加 --yes）",
                }
            ],
        )
