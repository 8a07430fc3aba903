"""Drafts, versions, the review chain, sign-off and issuance: one path for web, API and CLI."""

from app.workflow.errors import Forbidden, NotFound, ValidationFailed, WorkflowError

__all__ = ["Forbidden", "NotFound", "ValidationFailed", "WorkflowError"]
