"""The processes of a target and their memory, read from /proc (Linux only).

A target's processes are found through its process group: the launcher (or
the bare bot's ``rasa run``) is started in a session of its own, and every
server it starts stays in that group.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

PROC = Path("/proc")
SAMPLE_SECONDS = 0.5


def parse_stat(stat: str) -> tuple[str, int]:
    """State and process group of a ``/proc/<pid>/stat`` line."""
    # Fields after the command name, which may itself hold spaces and parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0], int(fields[2])


def cpu_ticks(stat: str) -> int:
    """User + system CPU time of a ``/proc/<pid>/stat`` line, in clock ticks."""
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])


def machine_service_pids(names: Sequence[str] = ("postgres", "redis-server")) -> dict[int, str]:
    """The machine's own database processes (outside the target's group): they work for it too."""
    found = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm in names:
            found[int(entry.name)] = f"{comm} (machine)"
    return found


def group_members(pgid: int) -> list[int]:
    """Live processes of process group ``pgid``."""
    members = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            state, group = parse_stat((entry / "stat").read_text())
        except (OSError, ValueError, IndexError):
            continue
        if group == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def status_kb(status: str, field: str) -> int | None:
    """A ``kB`` field (``VmRSS``, ``VmHWM``) of a ``/proc/<pid>/status`` text."""
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0])
    return None


def _option(cmdline: Sequence[str], name: str) -> str | None:
    for index, arg in enumerate(cmdline[:-1]):
        if arg == name:
            return cmdline[index + 1]
    return None


def process_label(cmdline: Sequence[str]) -> str:
    """A readable name for one of the target's processes, from its command line."""
    if not cmdline:
        return "?"
    first = cmdline[0]
    if first.startswith("nginx:"):  # nginx renames its processes
        return "nginx worker" if "worker" in first else "nginx master"
    if os.path.basename(first) == "nginx":
        return "nginx master"
    args = list(cmdline)
    rasa = next((i for i, arg in enumerate(args) if os.path.basename(arg) == "rasa"), None)
    if rasa is not None and args[rasa + 1 : rasa + 2] == ["run"]:
        port = _option(args, "--port") or ("5055" if "actions" in args[rasa + 2 : rasa + 3] else "5005")
        kind = "action server" if args[rasa + 2 : rasa + 3] == ["actions"] else "rasa server"
        return f"{kind} :{port}"
    module = _option(args, "-m")
    if module == "noc.rasa_server":
        return f"rasa server :{_option(args, '--port') or '5005'}"
    if module == "noc.action_server":
        return f"action server :{_option(args, '--port') or '5055'}"
    if module == "noc.web":
        return "web server"
    if module == "scripts.cluster.launch":
        return "launcher"
    return os.path.basename(first)


def cmdline_of(pid: int) -> list[str]:
    raw = (PROC / str(pid) / "cmdline").read_bytes()
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


class MemorySampler:
    """Peak resident memory of each process of a group while the load runs (a thread)."""

    def __init__(self, pgid: int, interval: float = SAMPLE_SECONDS) -> None:
        self.pgid = pgid
        self.interval = interval
        self.peak_kb: dict[int, int] = {}
        self.lifetime_peak_kb: dict[int, int] = {}
        self.labels: dict[int, str] = {}
        # CPU ticks at the first and the last sample of each process: what the
        # load cost each one (a process that exits keeps its last reading).
        self.first_ticks: dict[int, int] = {}
        self.last_ticks: dict[int, int] = {}
        self.services = machine_service_pids()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def sample(self) -> None:
        for pid, label in self.services.items():
            try:
                self._ticks(pid, (PROC / str(pid) / "stat").read_text())
                self.labels[pid] = label
            except OSError:
                continue
        for pid in group_members(self.pgid):
            try:
                status = (PROC / str(pid) / "status").read_text()
                self._ticks(pid, (PROC / str(pid) / "stat").read_text())
                if pid not in self.labels:
                    self.labels[pid] = process_label(cmdline_of(pid))
            except OSError:  # it exited between the listing and the read
                continue
            rss, hwm = status_kb(status, "VmRSS"), status_kb(status, "VmHWM")
            if rss is not None:
                self.peak_kb[pid] = max(rss, self.peak_kb.get(pid, 0))
            if hwm is not None:
                self.lifetime_peak_kb[pid] = hwm

    def _ticks(self, pid: int, stat: str) -> None:
        ticks = cpu_ticks(stat)
        self.first_ticks.setdefault(pid, ticks)
        self.last_ticks[pid] = ticks

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds each process spent between the first and the last sample, by label."""
        hertz = os.sysconf("SC_CLK_TCK")
        spent = {pid: (self.last_ticks[pid] - first) for pid, first in self.first_ticks.items()}
        totals: dict[str, float] = {}
        for pid, ticks in spent.items():
            label = self.labels.get(pid, "?")
            totals[label] = round(totals.get(label, 0.0) + ticks / hertz, 1)
        return dict(sorted(totals.items()))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.sample()

    def report(self, peaks: dict[int, int] | None = None) -> dict[str, float]:
        """MB per process label, sorted by label (a pid is added when two processes share one)."""
        return by_label(self.labels, self.peak_kb if peaks is None else peaks)


def by_label(labels: dict[int, str], peaks_kb: dict[int, int]) -> dict[str, float]:
    """Peaks keyed by readable names instead of pids; MB with one decimal."""
    counts: dict[str, int] = {}
    for pid in peaks_kb:
        label = labels.get(pid, "?")
        counts[label] = counts.get(label, 0) + 1
    named = {}
    for pid, kb in peaks_kb.items():
        label = labels.get(pid, "?")
        named[label if counts[label] == 1 else f"{label} (pid {pid})"] = round(kb / 1024, 1)
    return dict(sorted(named.items()))
