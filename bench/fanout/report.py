"""Turning what the load measured into figures: a dict (for --json) and printed lines."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from bench.fanout.load import LoadOutcome
from bench.fanout.options import Options
from bench.fanout.probe import probe_figures
from bench.fanout.screening_model import NOT_REPORTED, READY, model_figures
from bench.fanout.stats import Distribution, ratio

MB = 1024 * 1024


def figures(options: Options, outcome: LoadOutcome) -> dict[str, Any]:
    members = outcome.members
    welcomed = [m for m in members if not m.failure]
    failures = Counter(m.failure.split(":", 1)[0] for m in members if m.failure)
    connect = {
        "sockets": len(members),
        "welcomed": len(welcomed),
        "failures": len(members) - len(welcomed),
        "failure_kinds": dict(failures),
        "failure_examples": sorted({m.failure for m in members if m.failure})[:5],
        "seconds_to_all_welcomed": outcome.connect_ended - outcome.connect_started,
        "per_socket_ms": _distribution(Distribution.of_seconds(
            [m.welcomed_at - m.started for m in welcomed])),
        "server_cpu_percent": _cpu_percent(outcome.connect_window.server_cpu,
                                           outcome.connect_window.seconds),
        "client_cpu_percent": 100 * ratio(outcome.connect_window.client_cpu,
                                          outcome.connect_window.seconds),
    }
    grown = sum(outcome.rss_after) - sum(outcome.rss_before)
    memory = {
        "rss_before_connects_mb": _mb(outcome.rss_before),
        "rss_after_connects_mb": _mb(outcome.rss_after),
        "rss_peak_mb": {"total": outcome.rss_peak_total / MB,
                        "per_worker": [value / MB for value in outcome.rss_peak]},
        "rss_per_connection_kb": grown / 1024 / len(welcomed) if welcomed else math.nan,
        "redis_rss_peak_mb": outcome.redis_rss_peak / MB if outcome.redis_rss_peak else None,
    }
    result: dict[str, Any] = {
        "target": outcome.target,
        "sessions": {"method": outcome.sessions_method, "seconds": outcome.sessions_seconds},
        "setup_seconds": outcome.setup_seconds,
        "connect": connect,
        "memory": memory,
        "load": _load_figures(options, outcome) if outcome.load_window else None,
        "screening_model": model_figures(outcome.model_before, outcome.model_after,
                                         outcome.stored_messages)
        if outcome.model_before else None,
        "crisis_probe": probe_figures(outcome.probe) if outcome.probe else None,
        "hold": {"seconds": outcome.hold_seconds, "open_after": outcome.open_after_hold,
                 "heard_heartbeat": outcome.heartbeat_after_hold,
                 "sockets": len(welcomed)} if outcome.hold_seconds else None,
        "closed_early": outcome.closed_early,
        "server_log_problems": {"count": len(outcome.log_problems),
                                "first": outcome.log_problems[:10]},
    }
    result["failures"] = failed_checks(result)
    return result


def _load_figures(options: Options, outcome: LoadOutcome) -> dict[str, Any]:
    tally, window = outcome.tally, outcome.load_window
    if window is None:
        raise ValueError("no load was run")
    hearth = outcome.target == "hearth"
    accepted = tally.acked if hearth else dict.fromkeys(tally.sent_at, "visible")
    receivers = outcome.receivers_by_room
    expected = sum(receivers.get(tally.origin[cid][0], 0) for cid in accepted
                   if cid in tally.origin)
    delivered = sum(tally.delivered.get(cid, 0) for cid in accepted)
    unaccepted_deliveries = sum(count for cid, count in tally.delivered.items()
                                if cid not in accepted)
    unacked = (len(tally.sent_at) - len(tally.acked) - len(tally.refused)) if hearth else 0
    received_per_second = outcome.deliveries_in_window / window.seconds
    return {
        "offered_deliveries_per_second": options.offered,
        "received_deliveries_per_second": received_per_second,
        "throughput_ratio": ratio(received_per_second, options.offered),
        "delivery_ratio": ratio(delivered, expected),
        "sent": len(tally.sent_at),
        "acked": len(tally.acked) if hearth else None,
        "acked_not_visible": sum(1 for s in tally.acked.values() if s != "visible"),
        "refused": len(tally.refused),
        "refusal_codes": dict(Counter(tally.refused.values())),
        "unacked": unacked,
        "send_failures": tally.send_failures,
        "expected_deliveries": expected,
        "delivered": delivered,
        "lost": expected - delivered,
        "deliveries_of_unacked_sends": unaccepted_deliveries,
        "duplicates": tally.duplicates,
        "status_updates": tally.status_updates,
        "duplicate_acks": tally.duplicate_acks,
        "out_of_order": tally.out_of_order,
        "order_basis": "per-room seq" if hearth else "per-sender send order",
        "unknown_messages": tally.unknown,
        "delivered_not_visible": tally.not_visible,
        "other_error_frames": dict(tally.other_errors),
        "latency_ms": _distribution(Distribution.of_seconds(tally.latencies)),
        "ack_latency_ms": _distribution(Distribution.of_seconds(tally.ack_latencies))
        if hearth else None,
        "send_lag_ms": _distribution(Distribution.of_seconds(tally.send_lag)),
        "send_wait_ms": _distribution(Distribution.of_seconds(tally.send_wait)),
        "window_seconds": window.seconds,
        "drain_seconds": outcome.drain_seconds,
        "server_cpu_percent": _cpu_percent(window.server_cpu, window.seconds),
        "client_cpu_percent": 100 * ratio(window.client_cpu, window.seconds),
        # What one received frame costs this process (all its work over the window).
        "client_cpu_us_per_delivery": 1e6 * ratio(window.client_cpu,
                                                  outcome.deliveries_in_window),
        "redis_cpu_percent": (100 * outcome.redis_cpu_load
                              if outcome.redis_cpu_load is not None else None),
    }


def failed_checks(result: dict[str, Any]) -> list[str]:
    """What --check (and --smoke) fails on; never a timing."""
    failures: list[str] = []
    connect, load, hold = result["connect"], result["load"], result["hold"]
    if connect["failures"]:
        failures.append(f"{connect['failures']} failed connects")
    if load:
        failures.extend(f"{key.replace('_', ' ')}: {load[key]}" for key in (
            "lost", "duplicates", "out_of_order", "refused", "unacked", "send_failures",
            "acked_not_visible", "delivered_not_visible", "unknown_messages",
            "deliveries_of_unacked_sends") if load[key])
    if hold and hold["open_after"] < hold["sockets"]:
        failures.append(f"{hold['sockets'] - hold['open_after']} sockets closed during hold")
    if result["closed_early"]:
        failures.append(f"{result['closed_early']} sockets closed by the server")
    probe = result.get("crisis_probe")
    if probe:
        if probe["failure"]:
            failures.append(probe["failure"])
        elif not probe["sent"]:
            failures.append("the crisis probe sent nothing")
        if probe["missing"]:
            failures.append(f"crisis probe cards missing: {probe['missing']} of "
                            f"{probe['sent']}")
    return failures


def _distribution(distribution: Distribution) -> dict[str, float]:
    return distribution.as_dict()


def _mb(values: list[int]) -> dict[str, Any]:
    return {"total": sum(values) / MB, "per_worker": [value / MB for value in values]}


def _cpu_percent(cpu: list[float], seconds: float) -> dict[str, Any]:
    per_worker = [100 * ratio(value, seconds) for value in cpu]
    return {"total": sum(per_worker), "per_worker": per_worker}


# --- printing --------------------------------------------------------------------------------

def render(options: Options, result: dict[str, Any]) -> str:
    lines = [f"== {result['target']} ==", f"{'scenario':<28}{options.describe(result['target'])}"]

    def row(label: str, value: str) -> None:
        lines.append(f"{label:<28}{value}")

    sessions = result["sessions"]
    if sessions["method"] != "none":
        row("sessions", f"{result['connect']['sockets']} via {sessions['method']}"
            + (f" in {sessions['seconds']:.1f} s" if sessions["method"] == "http" else
               f" (with rooms, {result['setup_seconds']:.1f} s)"))
    load = result["load"]
    if load:
        row("offered deliveries/s", f"{load['offered_deliveries_per_second']:,.0f}")
        row("received deliveries/s", f"{load['received_deliveries_per_second']:,.0f} "
            f"({_pct(load['throughput_ratio'])} of offered, over {load['window_seconds']:.1f} s)")
        accepted, how = ((load["acked"], "acked") if load["acked"] is not None
                         else (load["sent"], "sent"))
        row("delivery ratio", f"{load['delivery_ratio']:.4f} ({load['delivered']:,} of "
            f"{load['expected_deliveries']:,} owed for {accepted:,} {how} messages; drain "
            f"{load['drain_seconds']:.1f} s)")
        row("lost", f"{load['lost']:,}")
        row("duplicates", f"{load['duplicates']:,}"
            + (f" ({load['status_updates']:,} held or collapsed after delivery by screening)"
               if load.get("status_updates") else ""))
        row("out-of-order", f"{load['out_of_order']:,} ({load['order_basis']})")
        refusals = ", ".join(f"{code} {n}" for code, n in load["refusal_codes"].items())
        row("sends", f"{load['sent']:,} sent, {load['refused']:,} refused"
            + (f" ({refusals})" if refusals else "")
            + f", {load['unacked']:,} unacked, {load['send_failures']:,} failed to send, "
            f"{load['acked_not_visible']:,} not visible")
        if load["other_error_frames"]:
            row("other error frames", str(load["other_error_frames"]))
        row("latency ms", _dist(load["latency_ms"]))
        if load["ack_latency_ms"]:
            row("ack latency ms", _dist(load["ack_latency_ms"]))
        row("send lag ms (client)", _dist(load["send_lag_ms"]))
        row("  of it inside ws.send", _dist(load["send_wait_ms"]))
    connect = result["connect"]
    per_socket = connect["per_socket_ms"]
    row("connect", f"{connect['welcomed']:,}/{connect['sockets']:,} welcomed in "
        f"{connect['seconds_to_all_welcomed']:.2f} s (first connect to last welcome); "
        f"per socket p50 {per_socket['p50']:.0f} ms, p99 {per_socket['p99']:.0f} ms, "
        f"max {per_socket['max']:.0f} ms")
    row("connect failures", f"{connect['failures']}"
        + (f" {connect['failure_kinds']} e.g. {connect['failure_examples'][:2]}"
           if connect["failures"] else ""))
    row("CPU while connecting", f"server {_cpu(connect['server_cpu_percent'])}, "
        f"client {connect['client_cpu_percent']:.0f}%")
    memory = result["memory"]
    row("server RSS MB", f"before connects {_mb_text(memory['rss_before_connects_mb'])}, "
        f"after {_mb_text(memory['rss_after_connects_mb'])}, "
        f"peak {_mb_text(memory['rss_peak_mb'])}")
    row("RSS per connection", f"{memory['rss_per_connection_kb']:.1f} KB"
        + (f" (growth over the {connect['welcomed']:,} welcomed sockets only)"
           if connect["failures"] else ""))
    if memory["redis_rss_peak_mb"]:
        row("redis RSS peak", f"{memory['redis_rss_peak_mb']:.1f} MB")
    if load:
        row("server CPU (load)", _cpu(load["server_cpu_percent"]))
        row("client CPU (load)", f"{load['client_cpu_percent']:.0f}% "
            f"({load['client_cpu_us_per_delivery']:.0f} us per delivery)"
            + ("  <- client saturated: latencies are partly its own"
               if load["client_cpu_percent"] > 90 else ""))
        if load["redis_cpu_percent"] is not None:
            row("redis CPU (load)", f"{load['redis_cpu_percent']:.0f}%")
    if result.get("screening_model"):
        row("screening model (load)", screening_model_text(result["screening_model"]))
    if result.get("crisis_probe"):
        for label, value in crisis_probe_rows(result["crisis_probe"]):
            row(label, value)
    hold = result["hold"]
    if hold:
        row("after hold", f"{hold['open_after']:,}/{hold['sockets']:,} open after "
            f"{hold['seconds']:g} s; {hold['heard_heartbeat']:,} heard a heartbeat meanwhile")
    row("closed by server", f"{result['closed_early']}")
    problems = result["server_log_problems"]
    row("server log problems", f"{problems['count']}"
        + (f", first: {problems['first'][0][:150]}" if problems["count"] else ""))
    row("checks", "failed: " + "; ".join(result["failures"]) if result["failures"] else "ok")
    return "\n".join(lines)


def screening_model_text(model: dict[str, Any]) -> str:
    """The learned detector over the load, from the workers' /readyz before and after."""
    state = str(model["state"])
    if state == NOT_REPORTED:
        return "not reported by /readyz"
    text = state + (f" ({model['reason']})" if model["reason"] and state != READY else "")
    text += f"; {model['read']:,} messages read"
    if len(model["per_worker"]) > 1:
        text += " (" + " + ".join(f"{w['read']:,}" if "read" in w else "?"
                                  for w in model["per_worker"]) + ")"
    if model["read"]:
        text += (f", {1000 * model['seconds_per_read']:.3f} ms per message read "
                 f"({model['seconds_total']:.2f} s in all)")
    if model["over_backlog"] or model["failed"]:
        text += f"; {model['over_backlog']:,} over backlog, {model['failed']:,} failed"
    if model["behind"]:
        text += (f"; {model['behind']:,} of the {model['stored_messages']:,} stored not read "
                 "yet")
    return text


def crisis_probe_rows(probe: dict[str, Any]) -> list[tuple[str, str]]:
    """The crisis probe's printed rows: what it sent, the cards and their latency."""
    refusals = ", ".join(f"{code} {n}" for code, n in probe["refusal_codes"].items())
    tiers = ", ".join(f"{tier} {n}" for tier, n in sorted(probe["card_tiers"].items()))
    sent = (f"{probe['sent']:,} sent at {probe['rate']:g}/s in its own room "
            f"({len(probe['texts'])} wordings the rules miss), {probe['acked']:,} acked"
            + (f", {probe['refused']:,} refused ({refusals})" if probe["refused"] else "")
            + (f", {probe['send_failures']:,} failed to send" if probe["send_failures"] else "")
            + f"; {probe['cards']:,} cards" + (f" ({tiers})" if tiers else "")
            + f", {probe['missing']:,} missing")
    extra = [f"{probe[key]:,} {key.replace('_', ' ')}"
             for key in ("duplicate_cards", "other_cards") if probe[key]]
    if probe["other_error_frames"]:
        extra.append(f"other error frames {probe['other_error_frames']}")
    rows = [("crisis probe", sent + ("; " + ", ".join(extra) if extra else "")),
            ("card latency ms", _dist(probe["card_latency_ms"]))]
    if probe["failure"]:
        rows.append(("crisis probe failure", probe["failure"]))
    return rows


def ratio_figures(hearth: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """Hearth / reference, for the figures both have."""
    h_load, r_load = hearth["load"], reference["load"]
    figures_: dict[str, Any] = {}
    # Connect time and memory per connection compare only when every socket got in.
    if not hearth["connect"]["failures"] and not reference["connect"]["failures"]:
        figures_.update({
            "connect_seconds": ratio(hearth["connect"]["seconds_to_all_welcomed"],
                                     reference["connect"]["seconds_to_all_welcomed"]),
            "rss_per_connection": ratio(hearth["memory"]["rss_per_connection_kb"],
                                        reference["memory"]["rss_per_connection_kb"]),
        })
    figures_["connect_failures"] = {"hearth": hearth["connect"]["failures"],
                                    "reference": reference["connect"]["failures"]}
    if h_load and r_load:
        figures_.update({
            "received_deliveries_per_second": ratio(h_load["received_deliveries_per_second"],
                                                    r_load["received_deliveries_per_second"]),
            "latency_p99": ratio(h_load["latency_ms"]["p99"], r_load["latency_ms"]["p99"]),
            "delivery_ratio": ratio(h_load["delivery_ratio"], r_load["delivery_ratio"]),
            "server_cpu": ratio(h_load["server_cpu_percent"]["total"],
                                r_load["server_cpu_percent"]["total"]),
        })
    return figures_


def render_ratio(figures_: dict[str, Any]) -> str:
    names = {"received_deliveries_per_second": "received deliveries/s",
             "latency_p99": "p99 latency", "delivery_ratio": "delivery ratio",
             "server_cpu": "server CPU (load)", "connect_seconds": "connect time",
             "rss_per_connection": "RSS per connection"}
    parts = [f"{names[key]} {value:.2f}x" for key, value in figures_.items()
             if key in names]
    failures = figures_["connect_failures"]
    if failures["hearth"] or failures["reference"]:
        parts.append(f"connect time and RSS per connection not compared (failed connects: "
                     f"Hearth {failures['hearth']}, reference {failures['reference']})")
    return "== Hearth / reference ==\n" + "; ".join(parts)


def _pct(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{100 * value:.1f}%"


def _dist(values: dict[str, float]) -> str:
    if not values["count"]:
        return "no samples"
    return (f"p50 {values['p50']:.1f}  p95 {values['p95']:.1f}  p99 {values['p99']:.1f}  "
            f"max {values['max']:.1f}  ({values['count']:,} samples)")


def _cpu(values: dict[str, Any]) -> str:
    text = f"{values['total']:.0f}%"
    if len(values["per_worker"]) > 1:
        text += " (" + " + ".join(f"{v:.0f}%" for v in values["per_worker"]) + ")"
    return text


def _mb_text(values: dict[str, Any]) -> str:
    text = f"{values['total']:.1f}"
    if len(values["per_worker"]) > 1:
        text += " (" + " + ".join(f"{v:.1f}" for v in values["per_worker"]) + ")"
    return text
