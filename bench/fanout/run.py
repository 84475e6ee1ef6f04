"""One benchmark run: for each target, start its servers, set up, load, measure, stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from bench.fanout.load import Load, LoadOutcome, Sampler
from bench.fanout.options import Options, resolve_options
from bench.fanout.probe import ProbePlan
from bench.fanout.procstat import with_descendants
from bench.fanout.report import figures, ratio_figures, render, render_ratio
from bench.fanout.servers import (
    Deployment,
    crisis_probe_texts,
    hearth_env,
    reference_env,
    scratch_postgres,
    set_up_hearth,
    start_hearth,
    start_own_redis,
    start_reference,
)


def main(argv: Sequence[str] | None = None) -> int:
    options = resolve_options(argv)
    _raise_open_file_limit()
    if options.client_cpus is not None:
        os.sched_setaffinity(0, options.client_cpus)  # before any thread starts
    work_dir = _work_dir()
    print(f"# {options.describe()}", flush=True)
    print(f"# {_environment_line(options)}; work dir {work_dir}", flush=True)
    results: dict[str, dict[str, Any]] = {}
    failed = False
    try:
        for target in options.targets:
            results[target] = run_target(options, target, work_dir / target)
            print(render(options, results[target]), flush=True)
            failed = failed or bool(results[target]["failures"])
    except BaseException:
        print(f"# work dir kept: {work_dir}", file=sys.stderr)
        raise
    report: dict[str, Any] = {"options": _options_dict(options),
                              "environment": _environment(options), "targets": results}
    if "hearth" in results and "reference" in results:
        report["hearth_over_reference"] = ratio_figures(results["hearth"], results["reference"])
        print(render_ratio(report["hearth_over_reference"]), flush=True)
    if options.json_path is not None:
        options.json_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    if failed or options.keep_work_dir:
        print(f"# work dir kept: {work_dir}")
    else:
        shutil.rmtree(work_dir, ignore_errors=True)
    return 1 if options.check and failed else 0


def run_target(options: Options, target: str, work_dir: Path) -> dict[str, Any]:
    work_dir.mkdir(parents=True)
    deployment = Deployment(target=target)
    with contextlib.ExitStack() as stack:
        database_url = f"sqlite:///{work_dir / 'hearth.sqlite3'}"
        if target == "hearth" and options.database == "postgres":
            database_url = stack.enter_context(scratch_postgres(options.postgres_url))
        stack.callback(deployment.stop)  # before the scratch database is dropped
        redis_url = options.redis_url if options.layer == "redis" else ""
        if options.layer == "redis" and options.own_redis:
            deployment.redis = start_own_redis(work_dir, options.server_cpus)
            redis_url = f"redis://127.0.0.1:{deployment.redis.port}/0"
        rooms = [f"bench-room-{index + 1}" for index in range(options.rooms)]
        cookies: list[str] = []
        setup_seconds = 0.0
        probe: ProbePlan | None = None
        if target == "hearth":
            env = hearth_env(options, work_dir, database_url, redis_url)
            # Chosen before any server starts, so a probe with nothing to send fails at once.
            probe_texts = crisis_probe_texts(options, env) if options.crisis_probe else []
            start_hearth(options, work_dir, env, deployment)
            setup = set_up_hearth(options, env)
            rooms, cookies, setup_seconds = setup.rooms, setup.cookies, setup.seconds
            if options.crisis_probe and setup.probe_room:
                probe = ProbePlan(room=setup.probe_room, texts=tuple(probe_texts),
                                  rate=options.crisis_probe, cookie=setup.probe_cookie)
        else:
            start_reference(options, work_dir, reference_env(work_dir, redis_url), deployment)
        sampler = Sampler([with_descendants([worker.pid]) for worker in deployment.workers],
                          deployment.redis.pid if deployment.redis else None)
        load = Load(options, target, [worker.port for worker in deployment.workers], rooms,
                    cookies, sampler, probe)
        outcome = _run_client(load.run(options.sessions, setup_seconds))
        outcome.log_problems = deployment.log_problems()
    return figures(options, outcome)


def _run_client(main: Coroutine[Any, Any, LoadOutcome]) -> LoadOutcome:
    """The client's event loop: uvloop when installed (its sockets and timers are C, so the
    client's own overhead adds less to the latency it reports), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def _raise_open_file_limit() -> None:
    """Every socket is a file; thousands of them need more than the usual 1,024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _work_dir() -> Path:
    parent = os.environ.get("HEARTH_STATE_DIR") or None
    if parent:
        Path(parent).mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="fanout-", dir=parent))


def _environment(options: Options) -> dict[str, Any]:
    return {
        "hearth_dir": str(options.hearth_dir),
        "hearth_commit": _git(options.hearth_dir, "rev-parse", "--short", "HEAD"),
        "hearth_uncommitted_server_changes": _git(
            options.hearth_dir, "status", "--porcelain", "--", "chat", "rooms", "moderation",
            "hearth", "frontend").splitlines(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "open_file_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        # Other work on the machine shows in every figure: say how busy it was.
        "load_average": _load_average(),
    }


def _environment_line(options: Options) -> str:
    environment = _environment(options)
    changed = environment["hearth_uncommitted_server_changes"]
    return (f"hearth {environment['hearth_commit'] or 'unknown commit'}"
            + (f" + {len(changed)} uncommitted server files" if changed else "")
            + f", Python {environment['python']}, {environment['cpus']} CPUs, server CPUs "
            f"{_cpus(options.server_cpus)}, client CPUs {_cpus(options.client_cpus)}, "
            f"load average {' '.join(environment['load_average'])}")


def _load_average() -> list[str]:
    try:
        return Path("/proc/loadavg").read_text().split()[:3]
    except OSError:
        return []


def _cpus(cpus: frozenset[int] | None) -> str:
    return ",".join(map(str, sorted(cpus))) if cpus else "any"


def _git(directory: Path, *args: str) -> str:
    git = shutil.which("git")
    if git is None:
        return ""
    done = subprocess.run([git, "-C", str(directory), *args], capture_output=True, text=True,
                          check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def _options_dict(options: Options) -> dict[str, Any]:
    values = {key: getattr(options, key) for key in options.__dataclass_fields__}
    values.update(offered=options.offered, connections=options.connections,
                  server_cpus=sorted(options.server_cpus or ()),
                  client_cpus=sorted(options.client_cpus or ()))
    for secret in ("redis_url", "postgres_url"):
        values[secret] = bool(values[secret])  # never write addresses into a report
    return values
