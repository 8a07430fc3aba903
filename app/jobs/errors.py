"""What an outbox handler raises besides a plain failure (which is retried with back-off)."""


class Retry(Exception):
    """Not done yet; try again later without counting it as a failure (e.g. no LibreOffice)."""


class GiveUp(Exception):
    """This event can never succeed (e.g. a mailbox refused for good): record why, retry no more."""
