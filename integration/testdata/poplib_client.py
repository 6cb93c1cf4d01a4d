#!/usr/bin/env python3
"""Drive a Postern POP3 service with Python's poplib.

usage: poplib_client.py HOST PORT plain|stls|ssl [DELE]

Runs CAPA, USER/PASS (after STLS in stls mode), STAT, LIST, UIDL, RETR of
every message, TOP 1 0, NOOP, DELE of message DELE (if given) with an RSET
and a second DELE in between, and QUIT, then prints one JSON object the Go
test compares exactly. Message contents are given as SHA-256 digests of
the lines poplib returns (dot-unstuffed), joined with CRLF and ended with
CRLF. Any failure exits 1 with the reason on stderr.
"""

import hashlib
import json
import poplib
import ssl
import sys

TIMEOUT = 10


def fail(msg):
    print("poplib_client: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) not in (4, 5):
        fail("usage: poplib_client.py HOST PORT plain|stls|ssl [DELE]")
    host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    dele = int(sys.argv[4]) if len(sys.argv) == 5 else 0
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    out = {}
    try:
        if mode == "ssl":
            p = poplib.POP3_SSL(host, port, timeout=TIMEOUT, context=ctx)
        else:
            p = poplib.POP3(host, port, timeout=TIMEOUT)
        out["greeting"] = p.getwelcome().decode()[:3]
        out["capa"] = sorted(p.capa().keys())
        if mode == "stls":
            out["stls"] = p.stls(context=ctx).decode()[:3]
            out["capa_tls"] = sorted(p.capa().keys())
        out["user"] = p.user("demo").decode()[:3]
        out["pass"] = p.pass_("demo").decode()[:3]
        count, size = p.stat()
        out["stat"] = [count, size]
        resp, listing, _ = p.list()
        out["list"] = [l.decode() for l in listing]
        resp, uidl, _ = p.uidl()
        out["uidl"] = [l.decode() for l in uidl]
        digests = []
        for n in range(1, count + 1):
            resp, lines, octets = p.retr(n)
            data = b"\r\n".join(lines) + b"\r\n"
            digests.append(hashlib.sha256(data).hexdigest())
        out["retr"] = digests
        resp, lines, _ = p.top(1, 0)
        out["top_1_0_lines"] = len(lines)
        out["noop"] = p.noop().decode()[:3]
        if dele:
            out["dele"] = p.dele(dele).decode()[:3]
            out["rset"] = p.rset().decode()[:3]
            p.dele(dele)
            out["stat_after_dele"] = list(p.stat())
        out["quit"] = p.quit().decode()[:3]
    except (poplib.error_proto, OSError) as e:
        fail("%s: %s" % (type(e).__name__, e))
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
