"""`python -m bench.chaos`: members on two workers chat in one room with acknowledged sends
while, in turn, a worker is killed with SIGKILL and restarted, the private Redis stops for a
while and comes back empty, the private PostgreSQL restarts, and (netsplit) one worker's
network link is cut and restored, with the workers in two network namespaces and Redis and
PostgreSQL in a third. Per fault: acknowledged messages lost, duplicates, out-of-order
deliveries and each member's longest deaf spell. Exits 1 on any acknowledged loss (never on
timing)."""

from __future__ import annotations

import argparse
import asyncio
import atexit
import itertools
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.chaos.client import Member, Sent, session_cookie
from bench.chaos.network import LOOPBACK, SplitNetwork, netns_unavailable
from bench.chaos.services import PrivatePostgres, PrivateRedis, Workers, hearth_env
from bench.fanout.bodies import BodyGenerator
from bench.fanout.options import PROJECT_ROOT
from bench.fanout.servers import free_port

FAULTS = ("kill9", "redis", "postgres", "netsplit")
WORKERS = 2
ROOM = "chaos-room"


@dataclass(frozen=True)
class Options:
    duration: float
    members: int  # per worker
    rate: float  # messages per second per member
    faults: tuple[str, ...]
    redis_outage: float
    cut_seconds: float
    heartbeat: float
    drain_max: float
    json_path: Path | None
    keep_work_dir: bool
    in_network: str  # the tag of a SplitNetwork this process runs inside, or ""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    add = parser.add_argument
    add("--duration", type=float, default=30.0,
        help="seconds of sending per phase (at least; the phase lasts until a third of it "
             "has passed after the fault ended) (default 30)")
    add("--members", type=int, default=3, help="members per worker, all in one room (default 3)")
    add("--rate", type=float, default=2.0,
        help="messages per second each member tries to send, one at a time, each waiting for "
             "its ack (default 2)")
    add("--faults", default=",".join(FAULTS),
        help=f"comma-separated subset of {','.join(FAULTS)}, run in that order (default all; "
             "with netsplit every fault runs in network namespaces, which needs root)")
    add("--redis-outage", type=float, default=10.0,
        help="seconds Redis stays down (default 10)")
    add("--cut-seconds", type=float, default=10.0,
        help="seconds worker 1's network link stays cut in the netsplit fault (default 10)")
    add("--heartbeat", type=float, default=2.0,
        help="HEARTH_HEARTBEAT_SECONDS for the workers (default 2)")
    add("--drain-max", type=float, default=0.0,
        help="after sending stops, longest wait for every acked message to reach everyone "
             "(default: 5 heartbeats + 5 s)")
    add("--json", type=Path, dest="json_path", metavar="PATH", help="also write the figures here")
    add("--keep-work-dir", action="store_true", help="keep logs and the PostgreSQL cluster")
    # Set by the run itself when it starts its own copy inside the namespaces it made.
    add("--in-network", default="", help=argparse.SUPPRESS)
    return parser


def parse(argv: Sequence[str] | None) -> Options:
    parser = build_parser()
    args = parser.parse_args(argv)
    faults = tuple(f.strip() for f in args.faults.split(",") if f.strip())
    unknown = sorted(set(faults) - set(FAULTS))
    if unknown or not faults:
        parser.error(f"--faults: choose from {','.join(FAULTS)} (got {args.faults!r})")
    if args.members < 1 or args.rate <= 0 or args.duration <= 0 or args.heartbeat <= 0:
        parser.error("--members, --rate, --duration and --heartbeat must be above 0")
    if args.redis_outage <= 0 or args.cut_seconds <= 0:
        parser.error("--redis-outage and --cut-seconds must be above 0")
    if "netsplit" in faults and not args.in_network and (why := netns_unavailable()):
        parser.error(f"the netsplit fault {why}; leave it out with --faults "
                     f"{','.join(f for f in FAULTS if f != 'netsplit')}")
    return Options(duration=args.duration, members=args.members, rate=args.rate,
                   faults=faults, redis_outage=args.redis_outage, cut_seconds=args.cut_seconds,
                   heartbeat=args.heartbeat, drain_max=args.drain_max or 5 * args.heartbeat + 5,
                   json_path=args.json_path.resolve() if args.json_path else None,
                   keep_work_dir=bool(args.keep_work_dir), in_network=args.in_network)


@dataclass
class Phase:
    fault: str
    started: float = 0.0
    fault_at: float = 0.0
    recovered_at: float = 0.0
    send_ended: float = 0.0
    drained_at: float = 0.0
    sent: list[Sent] = field(default_factory=list)
    out_of_order_before: dict[int, int] = field(default_factory=dict)
    reconnects_before: dict[int, int] = field(default_factory=dict)
    repeated_before: int = 0
    note: str = ""
    connected_at_end: int = 0


class Chaos:
    def __init__(self, options: Options, work_dir: Path) -> None:
        self.options = options
        self.work_dir = work_dir
        self.tag = secrets.token_hex(3)
        # Made and removed by the parent process that started this one inside it.
        self.network = SplitNetwork(tag=options.in_network) if options.in_network else None
        network = self.network
        self.worker_places = ([network.worker(i) for i in range(WORKERS)] if network
                              else [LOOPBACK] * WORKERS)
        services = network.services if network else LOOPBACK
        self.redis = PrivateRedis(work_dir, place=services)
        self.postgres = PrivatePostgres(work_dir / "pg", place=services)
        self.workers: Workers | None = None
        self.members: list[Member] = []
        self.sending = False
        self.bodies = BodyGenerator(120, seed=14)
        self.readers: list[asyncio.Task[None]] = []

    # --- setting up -----------------------------------------------------------------------
    def start_services(self) -> None:
        self.redis.start()
        self.postgres.init()
        env = hearth_env(self.work_dir, database_url=self.postgres.url,
                         redis_url=self.redis.url, heartbeat_seconds=self.options.heartbeat,
                         hosts=sorted({place.address for place in self.worker_places}))
        self.workers = Workers(self.work_dir, env, [free_port() for _ in range(WORKERS)],
                               self.worker_places)
        self.workers.start_all()
        self.workers.manage("add_room", ROOM, "--title", "Chaos room", "--capacity",
                            str(WORKERS * self.options.members + 5))

    async def join(self) -> None:
        assert self.workers is not None  # noqa: S101
        for index in range(WORKERS * self.options.members):
            worker = index % WORKERS
            port = self.workers.ports[worker]
            host = self.worker_places[worker].address
            self.members.append(Member(
                index=index, worker=worker, slug=ROOM, port=port, host=host,
                cookie=await session_cookie(port, host),
                heartbeat=self.options.heartbeat))
        self.readers = [asyncio.create_task(m.stay_connected()) for m in self.members]
        await asyncio.wait_for(asyncio.gather(*(m.connected.wait() for m in self.members)), 60)

    # --- one phase --------------------------------------------------------------------------
    async def run_phase(self, fault: str) -> Phase:
        options = self.options
        phase = Phase(fault=fault, started=time.perf_counter(),
                      out_of_order_before={m.index: m.out_of_order for m in self.members},
                      reconnects_before={m.index: m.reconnects for m in self.members},
                      repeated_before=sum(m.seq_frames_repeated for m in self.members))
        self.sending = True
        senders = [asyncio.create_task(self._send_loop(m, phase)) for m in self.members]
        await asyncio.sleep(options.duration / 3)
        phase.fault_at = time.perf_counter()
        await self._inject(fault, phase)
        phase.recovered_at = time.perf_counter()
        end = max(phase.started + options.duration, phase.recovered_at + options.duration / 3)
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        self.sending = False
        phase.send_ended = time.perf_counter()
        # Unacked sends keep retrying during the drain; the ones still open at its end count
        # as unacknowledged, never as lost.
        deadline = phase.send_ended + options.drain_max
        _done, pending = await asyncio.wait(senders, timeout=options.drain_max)
        for task in pending:
            task.cancel()
        while time.perf_counter() < deadline:
            if self._everyone_has_everything(phase):
                break
            await asyncio.sleep(0.1)
        phase.drained_at = time.perf_counter()
        phase.connected_at_end = sum(1 for m in self.members if m.connected.is_set())
        return phase

    async def _inject(self, fault: str, phase: Phase) -> None:
        assert self.workers is not None  # noqa: S101
        if fault == "kill9":
            self.workers.kill(1)
            await asyncio.to_thread(self.workers.restart, 1)
            phase.note = "worker 1 killed with SIGKILL, restarted at once"
        elif fault == "redis":
            await asyncio.to_thread(self.redis.stop)
            await asyncio.sleep(self.options.redis_outage)
            await asyncio.to_thread(self.redis.start)
            phase.note = (f"private Redis stopped for {self.options.redis_outage:g} s, "
                          "restarted empty")
        elif fault == "postgres":
            await asyncio.to_thread(self.postgres.restart)
            phase.note = "private PostgreSQL stopped (pg_ctl stop -m fast) and started again"
        else:
            assert self.network is not None  # noqa: S101
            await asyncio.to_thread(self.network.cut, 1)
            await asyncio.sleep(self.options.cut_seconds)
            await asyncio.to_thread(self.network.restore, 1)
            phase.note = (f"worker 1's only network link (to members, Redis and PostgreSQL) "
                          f"cut for {self.options.cut_seconds:g} s, then restored")

    async def _send_loop(self, member: Member, phase: Phase) -> None:
        interval = 1 / self.options.rate
        number = 0
        while self.sending:
            began = time.perf_counter()
            sent = Sent(client_id=f"{self.tag}-{phase.fault}-{member.index}-{number}",
                        sender=member.index, sent_at=began)
            phase.sent.append(sent)
            number += 1
            await member.send_until_acked(sent, self.bodies.next_body())
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - began)))

    def _everyone_has_everything(self, phase: Phase) -> bool:
        seqs = {s.seq for s in phase.sent if s.seq is not None}
        return all(seqs <= m.received.keys() for m in self.members)

    async def close(self) -> None:
        for member in self.members:
            await member.close()
        for task in self.readers:
            task.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)

    def stop_services(self) -> None:
        if self.workers is not None:
            self.workers.stop()
        self.redis.stop()
        self.postgres.stop()


# --- figures -----------------------------------------------------------------------------------

def phase_figures(phase: Phase, members: list[Member]) -> dict[str, Any]:
    acked = [s for s in phase.sent if s.seq is not None]
    by_id = {s.client_id: s for s in phase.sent}
    lost_pairs = [(s.seq, m.index) for s in acked for m in members if s.seq not in m.received]
    # A retry stored twice shows as one client_id under two seqs, whatever de-duplication by
    # seq the client does.
    stored_twice = {cid for m in members for cid, seqs in m.ids_seen.items()
                    if cid in by_id and len(seqs) > 1}
    deaf = {m.index: deaf_spells(m, phase, members, by_id) for m in members}
    # Whether live broadcasts came back after the fault, or members lived on replays.
    after = [r for m in members for r in m.received.values()
             if r.client_id in by_id and r.at > phase.recovered_at]
    # Live broadcasts of messages acknowledged after the fault: how late each came, from its
    # ack (a late live frame may follow the replay that already delivered it).
    live_late = sorted(at - acked_at for m in members for at, cid in m.live_frames
                       if cid in by_id and (acked_at := by_id[cid].acked_at) is not None
                       and acked_at > phase.recovered_at)
    return {
        "fault": phase.fault, "note": phase.note,
        "seconds": round(phase.send_ended - phase.started, 1),
        "fault_seconds": round(phase.recovered_at - phase.fault_at, 1),
        "drain_seconds": round(phase.drained_at - phase.send_ended, 1),
        "sent": len(phase.sent), "acked": len(acked),
        "refused": sum(1 for s in phase.sent if s.refused),
        "refused_codes": dict(Counter(s.refused for s in phase.sent if s.refused)),
        "unacked": sum(1 for s in phase.sent if s.seq is None and not s.refused),
        "acked_lost_messages": len({seq for seq, _ in lost_pairs}),
        "acked_lost_deliveries": len(lost_pairs),
        # Lost counts every member, connected or not at the end (all keep reconnecting).
        "members_connected_at_end": phase.connected_at_end,
        "duplicates": len(stored_twice),
        "deliveries_after_recovery": len(after),
        "by_resume_after_recovery": sum(1 for r in after if r.replayed),
        # Frames for a seq the member already had (a live frame after the replay that carried
        # it, or the reverse): what de-duplication by seq removed.
        "repeated_frames_removed": sum(m.seq_frames_repeated for m in members)
        - phase.repeated_before,
        "live_frames_after_recovery": len(live_late),
        "live_frame_delay_median": round(live_late[len(live_late) // 2], 3) if live_late
        else None,
        "live_frame_delay_max": round(live_late[-1], 3) if live_late else None,
        "out_of_order": sum(m.out_of_order - phase.out_of_order_before.get(m.index, 0)
                            for m in members),
        "deaf_worst_same_worker": max((d["same"] for d in deaf.values()), default=0.0),
        "deaf_worst_cross_worker": max((d["cross"] for d in deaf.values()), default=0.0),
        "members": [{"member": m.index, "worker": m.worker,
                     "reconnects": m.reconnects - phase.reconnects_before.get(m.index, 0),
                     "deaf_same_worker": deaf[m.index]["same"],
                     "deaf_cross_worker": deaf[m.index]["cross"]} for m in members],
    }


def deaf_spells(member: Member, phase: Phase, members: list[Member],
                by_id: dict[str, Sent]) -> dict[str, float]:
    """The longest time between two consecutive arrivals of others' messages, counted only
    when one of those others sent something in between: for senders on this member's worker
    (same) and on the other worker (cross)."""
    spells = {}
    for group in ("same", "cross"):
        others = [m for m in members if m is not member
                  and (m.worker == member.worker) == (group == "same")]
        ids = {m.index for m in others}
        arrivals = sorted(r.at for r in member.received.values()
                          if r.client_id in by_id and by_id[r.client_id].sender in ids)
        points = [phase.started, *arrivals, phase.send_ended]
        sends = sorted(t for m in others for t in m.send_times
                       if phase.started <= t <= phase.send_ended)
        longest = 0.0
        for before, after in itertools.pairwise(points):
            if any(before < t < after for t in sends):
                longest = max(longest, after - before)
        spells[group] = round(longest, 2)
    return spells


def render(figures: list[dict[str, Any]], options: Options) -> str:
    where = ("workers in two network namespaces, Redis and PostgreSQL in a third"
             if "netsplit" in options.faults else "all on loopback")
    lines = [f"chaos: {WORKERS} workers x {options.members} members, {options.rate:g} msg/s "
             f"each (acked one at a time), heartbeat {options.heartbeat:g} s, phases of "
             f"{options.duration:g} s, {where}"]
    lines.extend(
            f"{f['fault']:>8}: {f['note']}; sent {f['sent']}, acked {f['acked']}, "
            f"unacked {f['unacked']}, refused {f['refused']}{_codes(f['refused_codes'])}; ACKED "
            f"LOST "
            f"{f['acked_lost_messages']} ({f['acked_lost_deliveries']} deliveries), "
            f"duplicates {f['duplicates']}, out of order {f['out_of_order']}; after the "
            f"fault {f['by_resume_after_recovery']} of {f['deliveries_after_recovery']} "
            f"deliveries came by resume, live frames after it came a median "
            f"{f['live_frame_delay_median']} s after their ack; worst deaf "
            f"spell same-worker {f['deaf_worst_same_worker']:.2f} s, cross-worker "
            f"{f['deaf_worst_cross_worker']:.2f} s" for f in figures)
    return "\n".join(lines)


def _codes(codes: dict[str, int]) -> str:
    return f" ({', '.join(f'{code} {n}' for code, n in codes.items())})" if codes else ""


async def _run(chaos: Chaos) -> list[dict[str, Any]]:
    await chaos.join()
    figures = []
    try:
        for fault in chaos.options.faults:
            phase = await chaos.run_phase(fault)
            figures.append(phase_figures(phase, chaos.members))
    finally:
        await chaos.close()
    return figures


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    if "netsplit" in options.faults and not options.in_network:
        return _run_in_split_network(options)
    work_dir = Path(tempfile.mkdtemp(prefix="hearth-chaos-"))
    chaos = Chaos(options, work_dir)
    atexit.register(chaos.stop_services)  # also on an exception or Ctrl-C
    failed = True
    try:
        chaos.start_services()
        figures = asyncio.run(_run(chaos))
        failed = any(f["acked_lost_messages"] for f in figures)
    finally:
        chaos.stop_services()
        if options.keep_work_dir or failed:
            print(f"work directory kept: {work_dir}", file=sys.stderr)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    print(render(figures, options))
    if options.json_path is not None:
        options.json_path.write_text(json.dumps(
            {"options": {"duration": options.duration, "members_per_worker": options.members,
                         "rate": options.rate, "faults": list(options.faults),
                         "redis_outage": options.redis_outage,
                         "cut_seconds": options.cut_seconds,
                         "heartbeat": options.heartbeat},
             "phases": figures}, indent=2))
    return 1 if failed else 0



def _run_in_split_network(options: Options) -> int:
    """Make the namespaces, run this benchmark again inside the members' one (so that nothing
    is added to the machine's own network), and remove them whatever happened."""
    network = SplitNetwork()
    atexit.register(network.remove)
    try:
        network.create(WORKERS)
        clients = network.clients
        command = clients.wrap([
            sys.executable, "-m", "bench.chaos", "--in-network", network.tag,
            "--duration", f"{options.duration!r}", "--members", str(options.members),
            "--rate", f"{options.rate!r}", "--faults", ",".join(options.faults),
            "--redis-outage", f"{options.redis_outage!r}",
            "--cut-seconds", f"{options.cut_seconds!r}",
            "--heartbeat", f"{options.heartbeat!r}", "--drain-max", f"{options.drain_max!r}",
            *(["--json", str(options.json_path)] if options.json_path else []),
            *(["--keep-work-dir"] if options.keep_work_dir else [])])
        return subprocess.run(command, cwd=PROJECT_ROOT, check=False).returncode
    finally:
        network.remove()
