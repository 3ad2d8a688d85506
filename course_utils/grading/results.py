"""What a grading run produces: one result per submission, per exercise."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ExerciseResult", "SubmissionResult"]


@dataclass
class ExerciseResult:
    name: str
    points: float
    max_points: float
    reason: str = ""  # empty when full marks
    feedback: str = ""  # the verdict text for the learner


@dataclass
class SubmissionResult:
    name: str
    path: str
    lesson: str = ""
    exercises: list[ExerciseResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # execution events: errors, timeouts, deaths
    error: str = ""  # whole-submission failure (invalid notebook, refused, killed, ...)
    installed_changed: bool = False
    started: float = 0.0  # wall-clock window of the run (time.time()), to find who ran alongside whom
    finished: float = 0.0

    @property
    def total(self) -> float:
        return round(sum(e.points for e in self.exercises), 2)

    @property
    def max_points(self) -> float:
        return round(sum(e.max_points for e in self.exercises), 2)

    def zero_all(self, reason: str) -> None:
        self.error = reason
        for e in self.exercises:
            e.points, e.reason = 0.0, reason

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SubmissionResult:
        exercises = [ExerciseResult(**e) for e in data.get("exercises", [])]
        return cls(**{**data, "exercises": exercises})
