"""Reading a target's processes from /proc (scripts/load/procs.py)."""

from __future__ import annotations

import os
import time

import pytest

from scripts.load.procs import MemorySampler, by_label, cpu_ticks, parse_stat, process_label, status_kb

VENV = "/work/main/.venv/bin"


@pytest.mark.parametrize(
    ("stat", "expected"),
    [
        ("1234 (python3.10) S 1 1234 1234 0 -1", ("S", 1234)),
        # The command name may hold spaces and parentheses.
        ("99 (nginx: worker (x)) R 98 77 77 0", ("R", 77)),
        ("5 (rasa) Z 1 5 5 0", ("Z", 5)),
    ],
)
def test_parse_stat(stat: str, expected: tuple[str, int]) -> None:
    assert parse_stat(stat) == expected


@pytest.mark.parametrize(
    ("field", "expected"), [("VmRSS", 812344), ("VmHWM", 901000), ("VmSwap", None)]
)
def test_status_kb(field: str, expected: int | None) -> None:
    status = "Name:\trasa\nVmHWM:\t  901000 kB\nVmRSS:\t  812344 kB\nThreads:\t12\n"
    assert status_kb(status, field) == expected


@pytest.mark.parametrize(
    ("cmdline", "label"),
    [
        ([f"{VENV}/python3.10", f"{VENV}/rasa", "run", "--model", "m.tar.gz", "--port", "17105"], "rasa server :17105"),
        ([f"{VENV}/python3.10", f"{VENV}/rasa", "run", "actions", "--actions", "actions", "--port", "17155"],
         "action server :17155"),
        ([f"{VENV}/python3.10", f"{VENV}/rasa", "run", "--port", "17405"], "rasa server :17405"),
        ([f"{VENV}/python", "-m", "noc.rasa_server", "run", "--port", "17106"], "rasa server :17106"),
        ([f"{VENV}/python", "-m", "noc.rasa_server", "run"], "rasa server :5005"),
        ([f"{VENV}/python", "-m", "noc.action_server", "--port", "17156"], "action server :17156"),
        ([f"{VENV}/python", "-m", "noc.web"], "web server"),
        ([f"{VENV}/python", "-m", "scripts.cluster.launch", "--rasa-servers", "2"], "launcher"),
        (["nginx: master process /usr/sbin/nginx -p /tmp/x -c /tmp/x/nginx.conf"], "nginx master"),
        (["nginx: worker process"], "nginx worker"),
        (["/usr/sbin/nginx", "-p", "/tmp/x"], "nginx master"),
        (["/bin/bash", "scripts/run_cluster.sh"], "bash"),
        ([], "?"),
    ],
)  # fmt: skip
def test_process_label(cmdline: list[str], label: str) -> None:
    assert process_label(cmdline) == label


def test_two_processes_with_one_label_keep_their_pids() -> None:
    labels = {10: "nginx worker", 11: "nginx worker", 12: "web server"}
    assert by_label(labels, {10: 2048, 11: 1024, 12: 51200}) == {
        "nginx worker (pid 10)": 2.0,
        "nginx worker (pid 11)": 1.0,
        "web server": 50.0,
    }


def test_the_sampler_reads_this_process_group() -> None:
    sampler = MemorySampler(os.getpgid(0))
    sampler.sample()
    assert os.getpid() in sampler.peak_kb and sampler.peak_kb[os.getpid()] > 0
    assert sampler.lifetime_peak_kb[os.getpid()] >= sampler.peak_kb[os.getpid()]


@pytest.mark.parametrize(
    ("stat", "ticks"),
    [
        # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        ("1234 (python3.10) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 30 0 0 20", 280),
        ("99 (nginx: worker (x)) R 98 77 77 0 -1 0 1 0 0 0 7 3 0 0", 10),
    ],
)
def test_cpu_ticks(stat: str, ticks: int) -> None:
    assert cpu_ticks(stat) == ticks


def test_the_sampler_counts_the_cpu_this_process_spends() -> None:
    sampler = MemorySampler(os.getpgid(0))
    sampler.sample()
    deadline = time.process_time() + 0.3
    while time.process_time() < deadline:  # burn a third of a second of CPU
        pass
    sampler.sample()
    mine = sampler.cpu_seconds()[sampler.labels[os.getpid()]]
    assert 0.2 <= mine <= 5
