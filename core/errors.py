"""The bank's domain errors. The service raises them; REST and MCP each render them once."""


class BankError(Exception):
    """An error a client caused and can act on; ``str(error)`` is the readable detail."""

    status_code = 400
    headers: dict[str, str] = {}  # noqa: RUF012 (never mutated: a class-wide default)

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.detail!r})"


class InvalidInput(BankError):
    pass


class Unauthorized(BankError):
    """No key, or one this bank does not know."""

    status_code = 401
    headers = {"WWW-Authenticate": 'Bearer realm="dummy-bank"'}  # noqa: RUF012


class Forbidden(BankError):
    status_code = 403


class NotFound(BankError):
    status_code = 404


class Conflict(BankError):
    status_code = 409


class Refused(BankError):
    """A well-formed instruction the bank's rules do not allow (not enough money, more than
    is held, over the limit...): 422, with ``rule`` naming the rule for a program to read."""

    status_code = 422

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule


class ServiceUnavailable(BankError):
    status_code = 503


class Overloaded(ServiceUnavailable):
    """Refused at once because the bank is busy; the client should retry after a moment."""

    headers = {"Retry-After": "1"}  # noqa: RUF012
    busy = "The bank is busy: too many requests are waiting; retry shortly"


class TooMany(BankError):
    """A limit is reached; ``retry_after`` seconds from now something may have freed up."""

    status_code = 429

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(max(1, retry_after))}
