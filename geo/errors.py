"""The project's errors and warnings: one module, one base class.

Every error raised on purpose by :mod:`geo` or :mod:`layers` derives from
:class:`BorderMonitorError` and from the standard exception it refines, so a
caller can catch either. Messages name the feature, the field, the value,
what is allowed and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class BorderMonitorError(Exception):
    """Base of every error the border monitor raises on purpose."""


class ConfigurationError(BorderMonitorError, ValueError):
    """An option or setting has a value that cannot be used."""


class LayerError(BorderMonitorError, LookupError):
    """A reference layer is unknown, missing or unreadable."""


class StoreError(BorderMonitorError, OSError):
    """The incident store cannot be opened, read or written."""


class PermissionDeniedError(BorderMonitorError, PermissionError):
    """The signed-in user's role does not allow the action (see :mod:`geo.roles`)."""


class InsufficientDataError(BorderMonitorError, ValueError):
    """Too few incidents for a statistic to mean anything."""


@dataclass(frozen=True)
class FeatureProblem:
    """One problem with one input feature.

    Attributes
    ----------
    index
        Zero-based position of the feature in its file (``None`` for a
        problem with the whole file).
    feature_id
        The feature's ``id`` if it has one.
    field
        The field (property, ``geometry`` or ``file``) at fault.
    value
        The offending value, as text, shortened for display.
    reason
        What is wrong.
    fix
        What the analyst can do about it.
    severity
        ``"error"`` (the feature is rejected) or ``"warning"`` (accepted).
    """

    index: int | None
    feature_id: str | None
    field: str
    value: str
    reason: str
    fix: str
    severity: str = "error"

    def __str__(self) -> str:
        where = "file" if self.index is None else f"feature {self.index}"
        if self.feature_id:
            where += f" (id {self.feature_id!r})"
        return f"{where}: {self.field}={self.value!r}: {self.reason}; fix: {self.fix}"


@dataclass
class ValidationError(BorderMonitorError, ValueError):
    """Input that failed validation, with every problem found.

    Attributes
    ----------
    problems
        Every problem found, not only the first.
    """

    problems: list[FeatureProblem] = field(default_factory=list)
    summary: str = "input failed validation"

    def __str__(self) -> str:
        lines = [f"{self.summary} ({len(self.problems)} problem(s))"]
        lines += [f"  - {p}" for p in self.problems[:50]]
        if len(self.problems) > 50:
            lines.append(f"  ... and {len(self.problems) - 50} more")
        return "\n".join(lines)


class BorderMonitorWarning(UserWarning):
    """Base of the project's warnings."""
