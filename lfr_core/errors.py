"""Errors a user can cause, each mapped to a CLI exit code and an HTTP status by the interfaces."""


class LfrError(Exception):
    """Base for errors with a message meant for the person who caused them."""


class InvalidInput(LfrError, ValueError):
    """The request or file is malformed (CLI exit 2, HTTP 422)."""


class NotFound(LfrError, LookupError):
    """The named deployment, version or alert does not exist (CLI exit 2, HTTP 404)."""


class Refused(LfrError):
    """A well-formed request the rules forbid: an illegal transition, the wrong role (CLI exit 3, HTTP 409/403)."""
