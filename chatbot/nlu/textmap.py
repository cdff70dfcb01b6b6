"""Text that remembers where each of its characters came from.

Every normalization step rewrites text; a ``MappedText`` keeps, for each character,
the half-open span ``[start, end)`` of the original characters it was derived from,
so an entity found in normalized text can be cut out of the original exactly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# (start, end, replacement) in the coordinates of the text being edited.
Edit = tuple[int, int, str]


@dataclass(frozen=True, slots=True)
class MappedText:
    """Text plus, per character, the original span it stands for."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def identity(cls, text: str) -> MappedText:
        """Wrap original text: character i stands for original span [i, i+1)."""
        n = len(text)
        return cls(text, tuple(range(n)), tuple(range(1, n + 1)))

    def with_text(self, text: str) -> MappedText:
        """Replace characters one for one (the new text must have the same length)."""
        if len(text) != len(self.text):
            raise ValueError("with_text needs a same-length text; use apply() instead")
        return MappedText(text, self.starts, self.ends)

    def apply(self, edits: Iterable[Edit]) -> MappedText:
        """Apply sorted, non-overlapping edits and carry the spans along.

        A same-length replacement keeps the per-character spans; any other
        replacement maps each new character to the whole replaced span, so a
        squeezed run or an expanded ligature still points at all its sources.
        """
        parts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        for start, end, new in edits:
            self._keep(pos, start, parts, starts, ends)
            self._replace(start, end, new, parts, starts, ends)
            pos = end
        if pos == 0 and not parts:
            return self
        self._keep(pos, len(self.text), parts, starts, ends)
        return MappedText("".join(parts), tuple(starts), tuple(ends))

    def _keep(self, i: int, j: int, parts: list[str], starts: list[int], ends: list[int]) -> None:
        if i < j:
            parts.append(self.text[i:j])
            starts.extend(self.starts[i:j])
            ends.extend(self.ends[i:j])

    def _replace(
        self, i: int, j: int, new: str, parts: list[str], starts: list[int], ends: list[int]
    ) -> None:
        if not new:
            return
        parts.append(new)
        if len(new) == j - i:
            starts.extend(self.starts[i:j])
            ends.extend(self.ends[i:j])
        else:
            starts.extend([self.starts[i]] * len(new))
            ends.extend([self.ends[j - 1]] * len(new))
