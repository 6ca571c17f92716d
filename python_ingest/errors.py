"""The one exception type whose message is shown to the user as-is."""


class IngestError(Exception):
    """A problem the user can fix; ``str(err)`` is a one-line message saying how."""
