"""What an outbox handler raises besides a plain failure (which is retried with back-off)."""


class Retry(Exception):
    """Not done yet; try again later without counting it as a failure (e.g. no LibreOffice)."""


class GiveUp(Exception):
    """This event can never succeed (e.g. a mailbox refused for good): record why, retry no more."""


class Unreachable(Exception):
    """The server this kind of event needs is down or hanging: this attempt failed (retried
    with back-off), and the other events of the kind wait for a later round."""
