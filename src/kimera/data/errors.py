"""Errors and counters shared by every loader: a bad line is an error naming file and line, or counted."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any


class MalformedInputError(ValueError):
    """A line or record that cannot be decoded; says which file, which line and why."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


@dataclass
class LoadStats:
    """What a loader read: lines, events by kind, and bad lines skipped under an explicit skip-bad."""

    lines: int = 0
    events: int = 0
    bad_lines: int = 0
    bad_examples: list[str] = field(default_factory=list)
    ignored: int = 0  # well-formed messages of streams we do not model (e.g. subscription acks)

    def reject(self, source: str, line: int, exc: Exception, skip_bad: bool) -> None:
        """A line failed to decode: raise `MalformedInputError` naming file and line, or (under an explicit
        skip-bad) count it. Every loader goes through here, so the policy lives once."""
        err = MalformedInputError(source, line, f"{type(exc).__name__}: {exc}")
        if not skip_bad:
            raise err from exc
        self.bad(err)

    def bad(self, err: MalformedInputError) -> None:
        """Count a skipped bad line, keeping the first few messages for the report."""
        self.bad_lines += 1
        if len(self.bad_examples) < 10:
            self.bad_examples.append(str(err))

    def decode_lines(
        self, source: str, data: bytes, parse: Callable[[bytes], Sequence[Any] | None], skip_bad: bool
    ) -> Iterator[Any]:
        """The events of every non-blank line of `data`, counted: `parse` returns a line's events (None or
        empty: a message we do not model, counted as ignored); a line it fails on goes to `reject`."""
        for lineno, line in enumerate(data.split(b"\n"), 1):
            if not line.strip():
                continue
            self.lines += 1
            try:
                events = parse(line)
            # orjson.JSONDecodeError is a ValueError
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                self.reject(source, lineno, exc, skip_bad)
                continue
            if not events:
                self.ignored += 1
                continue
            self.events += len(events)
            yield from events
