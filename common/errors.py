"""The one exception type for bad user input (files, configs, arguments).

Every package raises `InputError` for input a user can fix; the CLI turns it into one line on
stderr and exit status 2. Programming errors stay ordinary exceptions (and tracebacks).
"""


class InputError(ValueError):
    """Bad input that the user can fix: a missing, truncated or foreign file, NaN, a wrong shape."""
