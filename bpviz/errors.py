"""The one error type bpviz raises for anything a user got wrong, and the key check
shared by the ``from_dict`` readers of saved JSON."""

from dataclasses import fields


class BpvizError(ValueError):
    """Bad input from a user: a layer spec, a file, a setting. The message is for people."""


class DivergenceError(BpvizError):
    """Training produced a non-finite loss or weight, or the loss exploded."""


def check_fields(data, cls, what: str, keys: str) -> None:
    """Raise unless ``data`` is a dict whose keys are all fields of the dataclass
    ``cls``; ``what`` names the object ("settings"), ``keys`` its keys ("setting(s)")."""
    if not isinstance(data, dict):
        raise BpvizError(f"{what} must be a JSON object")
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise BpvizError(f"unknown {keys}: {', '.join(sorted(map(str, unknown)))}")
