"""The one error type bpviz raises for anything a user got wrong."""


class BpvizError(ValueError):
    """Bad input from a user: a layer spec, a file, a setting. The message is for people."""


class DivergenceError(BpvizError):
    """Training produced a non-finite loss or weight, or the loss exploded."""
