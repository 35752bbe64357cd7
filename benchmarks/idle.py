"""What an idle sandbox costs: CPU seconds a minute, component by component.

Prints figures; asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/idle.py                      # 3 nodes, no workload, 120 s
    .venv/bin/python benchmarks/idle.py --seconds 60 \\
        --flag kube-controller-manager:leader-elect=false    # with a component flag

The test suite runs one sandbox per worker, and a learner's laptop runs one all day, so what
a sandbox burns while nothing happens is paid for the whole time. It uses a sandbox of its
own (benchmarks/_bench.py), started with the given flags, left 30 s to settle, then measured.
"""

from __future__ import annotations

import argparse
import time

import psutil

from _bench import own_sandbox

SETTLE = 30.0
"""Seconds between the sandbox being Ready and the start of the measurement."""


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User plus system CPU seconds each component has used so far (0 for one gone)."""
    used = {}
    for name, pid in pids.items():
        try:
            times = psutil.Process(pid).cpu_times()
            used[name] = times.user + times.system
        except psutil.NoSuchProcess:
            used[name] = 0.0
    return used


def parse_flag(text: str) -> tuple[str, str, str]:
    """"component:key=value" as its three parts."""
    component, sep, setting = text.partition(":")
    key, eq, value = setting.partition("=")
    if not (sep and eq and component and key):
        raise argparse.ArgumentTypeError(f"expected component:key=value, got {text!r}")
    return component, key, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="how long to measure")
    parser.add_argument("--flag", type=parse_flag, action="append", default=[],
                        metavar="COMPONENT:KEY=VALUE", help="an extra component flag "
                        "(kwokctl's component patches); may be repeated")
    parser.add_argument("--name", default="rwk-idle", help="the sandbox's name (two runs at "
                        "once, to compare flags under one load, need two names)")
    args = parser.parse_args()
    flags: dict[str, dict[str, str]] = {}
    for component, key, value in args.flag:
        flags.setdefault(component, {})[key] = value

    with own_sandbox(args.name, flags=flags) as (box, _):
        time.sleep(SETTLE)
        pids = box.pids()
        before, start = cpu_seconds(pids), time.monotonic()
        time.sleep(args.seconds)
        after, elapsed = cpu_seconds(pids), time.monotonic() - start
    per_minute = {name: (after[name] - before[name]) * 60 / elapsed for name in pids}
    shown = ", ".join(f"{name} {value:.2f}" for name, value in
                      sorted(per_minute.items(), key=lambda item: -item[1]))
    extra = "; ".join(f"{c}: {', '.join(f'--{k}={v}' for k, v in f.items())}"
                      for c, f in flags.items()) or "none"
    print(f"idle sandbox over {elapsed:.0f} s (extra flags: {extra})")
    print(f"CPU seconds a minute: {sum(per_minute.values()):.2f} in all; {shown}")


if __name__ == "__main__":
    main()
