"""What the fault suite measured: each fault injected and how long until the platform recovered,
kept for the session's summary (and a JSON file for docs/reliability.md)."""

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Recovery:
    kind: str  # the fault, e.g. "service SIGKILL"
    target: str  # what it hit, e.g. "notification replica 1", "broker 2"
    ready_seconds: float  # restored (or killed) → every service replica ready again
    converged_seconds: float | None  # restored → every check of checks.py passes


@dataclass
class Figures:
    recoveries: list[Recovery] = field(default_factory=list)
    lost: int = 0
    repeated_mails: int = 0  # a mail sent again with the same Message-ID (a cut send)
    on_their_way_at_faults: int = 0  # the mails that were allowed to repeat
    registrations_accepted: int = 0
    cancellations_accepted: int = 0

    def add(self, recovery: Recovery) -> None:
        self.recoveries.append(recovery)
        print(
            f"fault {recovery.kind} on {recovery.target}: ready after "
            f"{recovery.ready_seconds:.1f}s, converged after {recovery.converged_seconds}s"
        )

    def lines(self) -> list[str]:
        """A table per fault kind: count, and min/median/max of both recovery times."""
        kinds = sorted({recovery.kind for recovery in self.recoveries})
        lines = ["fault kind | injected | ready s (min/median/max) | converged s (min/median/max)"]
        for kind in kinds:
            of_kind = [r for r in self.recoveries if r.kind == kind]
            ready = _spread([r.ready_seconds for r in of_kind])
            converged = _spread([r.converged_seconds for r in of_kind if r.converged_seconds])
            lines.append(f"{kind} | {len(of_kind)} | {ready} | {converged}")
        lines.append(
            f"accepted registrations {self.registrations_accepted}, cancellations "
            f"{self.cancellations_accepted}; lost {self.lost}; mails repeated with the same "
            f"Message-ID {self.repeated_mails} (of {self.on_their_way_at_faults} on their way"
            " when a fault that can cut a send struck)"
        )
        return lines

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2))


def _spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"
