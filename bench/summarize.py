#!/usr/bin/env python3
"""summarize.py: the Markdown results of compare-dovecot.sh (issue 7).

Usage: summarize.py RESULTS_DIR

RESULTS_DIR holds `postern bench --json` files named FIGURE.SERVER.RUN.json
(RUN 0: a one-off, such as the first SELECT of a mailbox; 1..N: the A B
pairs) and `meta`, key=value lines about the machine and the memory
figures. Prints the table: figure | Postern | Dovecot | ratio
Postern/Dovecot | target | met, with medians over the pairs.
"""
import glob
import json
import os
import statistics
import sys

SETUP = {"CONNECT", "LOGIN", "SELECT", "LOGOUT"}


def load(res, fig, srv, runs=None):
    out = []
    for path in sorted(glob.glob(os.path.join(res, f"{fig}.{srv}.*.json"))):
        run = int(path.rsplit(".", 2)[1])
        if runs is not None and run not in runs:
            continue
        if runs is None and run == 0:
            continue
        with open(path) as f:
            out.append(json.load(f))
    return out


def command(r, name=None):
    """The line of the command `name`, or of the run's raw command."""
    for c in r["commands"]:
        if name is not None and c["name"] == name:
            return c
    if name is None:
        rest = [c for c in r["commands"] if c["name"] not in SETUP and c["count"] > 0]
        if rest:
            return max(rest, key=lambda c: c["count"])
    return None


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, unit=""):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        s = f"{v:,.0f}"
    elif abs(v) >= 100:
        s = f"{v:.0f}"
    elif abs(v) >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.2f}"
    return s + unit


def main():
    res = sys.argv[1]
    meta = {}
    with open(os.path.join(res, "meta")) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v

    rows = []  # (figure, postern, dovecot, unit, higher_is_better, target ratio, note)

    def errors(runs):
        return sum(r["total"]["errors"] for r in runs) if runs else None

    def add(figure, fn, fig, unit, higher, target, srv_p="postern", srv_d="dovecot", runs=None, note=""):
        p = med([fn(r) for r in load(res, fig, srv_p, runs)])
        d = med([fn(r) for r in load(res, fig, srv_d, runs)])
        rows.append((figure, p, d, unit, higher, target, note))

    def total_rate(r):
        return r["total"]["rate_per_s"]

    def p50(name=None):
        def f(r):
            c = command(r, name)
            return c["p50_ms"] if c else None
        return f

    def fetch_mib(r):
        c = command(r)
        if not c or not c["count"] or not c["p50_ms"]:
            return None
        return c["bytes_in"] / c["count"] / (c["p50_ms"] / 1000) / (1 << 20)

    def append_rate(r):
        c = command(r, "APPEND")
        return c["rate_per_s"] if c else None

    for n in (10, 50):
        fig = f"mixed{n}"
        pe, de = errors(load(res, fig, "postern")), errors(load(res, fig, "dovecot"))
        add(f"mixed, {n} clients: commands/s (errors: Postern {pe}, Dovecot {de})",
            total_rate, fig, "", True, 1.5)
    add("logins: logins/s", lambda r: r["logins_per_s"], "logins", "", True, 2.0)
    big = int(meta.get("big", 0))
    def num(k):
        v = meta.get(k, "")
        return float(v) if v else None
    rows.append((f"{big:,} messages: first SELECT (indexing), ms", num("first_select_postern_ms"),
                 num("first_select_dovecot_ms"), "", False, None, ""))
    add(f"{big:,} messages: second SELECT, ms", p50("SELECT"), "big", "", False, None)
    add(f"{big:,} messages: UID FETCH 1:* (FLAGS), ms", p50(), "big", "", False, None)
    p = med([p50("SELECT")(r) + p50()(r) for r in load(res, "big", "postern") if p50()(r) is not None])
    d = med([p50("SELECT")(r) + p50()(r) for r in load(res, "big", "dovecot") if p50()(r) is not None])
    rows.append((f"{big:,} messages: SELECT then UID FETCH 1:* (FLAGS), ms", p, d, "", False, 1.0, ""))
    n = int(meta.get("searchn", 0))
    add(f"SEARCH SUBJECT over {n:,} messages, ms", p50(), "searchsubject", "", False, 1.0)
    add(f"SEARCH BODY over {n:,} messages, ms", p50(), "searchbody", "", False, 1.0)
    n = int(meta.get("bodies", 0))
    add(f"FETCH BODY.PEEK[] of {n:,} messages of 100 KiB: MiB/s", fetch_mib, "bodies", "", True, 1.0)
    add("APPEND (fsync), 10 clients: messages/s", append_rate, "append", "", True, 1.0)

    mem = {}
    for srv in ("postern", "dovecot"):
        conns = int(meta.get(f"idle_{srv}_conns", 0) or 0)
        if conns:
            for kind in ("rss", "pss"):
                delta = int(meta[f"idle_{srv}_{kind}_after"]) - int(meta[f"idle_{srv}_{kind}_before"])
                mem[srv, kind] = delta / conns
            mem[srv, "conns"] = conns
    rows.append((f"IDLE: RSS per connection, KiB (Postern {mem.get(('postern', 'conns'), '-')} "
                 f"connections, Dovecot {mem.get(('dovecot', 'conns'), '-')})",
                 mem.get(("postern", "rss")), mem.get(("dovecot", "rss")), "", False, None, "Postern <= 64 KiB"))
    rows.append(("IDLE: PSS per connection, KiB (shared pages divided)",
                 mem.get(("postern", "pss")), mem.get(("dovecot", "pss")), "", False, None, ""))

    dmix = med([total_rate(r) for r in load(res, "mixed10", "dovecot")])
    for srv, what in (("xinetd", "Postern imapd under xinetd (inetd mode)"), ("mbox", "Postern daemon on the mbox store")):
        runs = load(res, "mixed10", srv)
        p = med([total_rate(r) for r in runs])
        rows.append((f"beside: {what}, mixed 10 clients: commands/s (errors {errors(runs)})",
                     p, dmix, "", True, None, "no target"))

    print(f"# Postern against Dovecot, {meta.get('date', '?')}")
    print()
    print("Written by `bench/compare-dovecot.sh`" + (" --quick (a smoke run, not figures)" if meta.get("quick") == "1" else "") + ".")
    print(f"Medians of {meta.get('pairs')} A B pairs (Postern then Dovecot) per figure; "
          f"profile runs of {meta.get('duration')}.")
    print()
    print("| figure | Postern | Dovecot | ratio Postern/Dovecot | target | met |")
    print("|---|---:|---:|---:|---|---|")
    for figure, p, d, unit, higher, target, note in rows:
        ratio = p / d if p is not None and d not in (None, 0) else None
        if target is not None:
            tgt = ("≥ " if higher else "≤ ") + f"{target:g}×"
            met = "-" if ratio is None else ("yes" if (ratio >= target if higher else ratio <= target) else "**no**")
        elif note.startswith("Postern <="):
            tgt, met = note, ("-" if p is None else ("yes" if p <= 64 else "**no**"))
        else:
            tgt, met = note, ""
        print(f"| {figure} | {fmt(p, unit)} | {fmt(d, unit)} | {fmt(ratio)} | {tgt} | {met} |")
    print()
    print("## Machine")
    print()
    for k, label in (("nproc", "CPUs (nproc)"), ("cpu", "CPU"), ("mem", "memory"), ("kernel", "kernel"),
                     ("os", "system"), ("dovecot", "Dovecot"), ("xinetd", "xinetd"), ("go", "Go"),
                     ("postern", "Postern (git describe)"),
                     ("loadavg_start", "load average at the start (1, 5, 15 min)"),
                     ("loadavg_end", "load average at the end")):
        print(f"- {label}: {meta.get(k, '?')}")


if __name__ == "__main__":
    main()
