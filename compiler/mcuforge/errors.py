"""The one exception type users see: a message that names what is wrong and what would work."""


class MfError(Exception):
    """An error in the user's input (model, data, options), reported as one line, exit code 2."""
