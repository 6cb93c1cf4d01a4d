#!/usr/bin/env python3
"""Drive a Postern demo server with Python's imaplib.

usage: imaplib_client.py HOST PORT [plain|ssl|starttls]

Runs LOGIN, CAPABILITY, LIST, LSUB, STATUS, SELECT, FETCH, SEARCH, STORE,
COPY, APPEND, EXPUNGE, IDLE (by hand: imaplib 3.11 has no idle()) and
LOGOUT against a fresh demo server, and prints one JSON object that the Go
test compares exactly. Message bodies are given as SHA-256 digests. Any
failure exits 1 with the reason on stderr.
"""

import hashlib
import imaplib
import json
import re
import socket
import ssl
import sys

TIMEOUT = 10  # seconds per socket operation: turns a hang into a failure


def fail(msg):
    print("imaplib_client: " + msg, file=sys.stderr)
    sys.exit(1)


def ok(what, res):
    typ, data = res
    if typ != "OK":
        fail("%s: %s %r" % (what, typ, data))
    return data


def connect(host, port, mode):
    ctx = ssl._create_unverified_context()
    if mode == "ssl":
        m = imaplib.IMAP4_SSL(host, port, ssl_context=ctx, timeout=TIMEOUT)
    else:
        m = imaplib.IMAP4(host, port, timeout=TIMEOUT)
        if mode == "starttls":
            ok("STARTTLS", m.starttls(ssl_context=ctx))
    return m


def code(text):
    """The response code of a tagged OK's text, UIDVALIDITY masked:
    the human-readable rest is the server's to word."""
    m = re.match(r"\[([^\]]*)\]", text.decode())
    if not m:
        fail("no response code in %r" % text)
    return re.sub(r"^(APPENDUID|COPYUID) \d+", r"\1 V", m.group(1))


def validity_of(text):
    return re.match(r"\[(?:APPENDUID|COPYUID) (\d+) ", text.decode()).group(1)


def uidvalidity(m, box):
    st = ok("STATUS", m.status(box, "(UIDVALIDITY)"))[0].decode()
    return re.search(r"UIDVALIDITY (\d+)", st).group(1)


def sha(b):
    return hashlib.sha256(b).hexdigest()


def fetch_parts(data):
    """Return (meta, literal) pairs from imaplib's FETCH data."""
    out = []
    for item in data:
        if isinstance(item, tuple):
            out.append((item[0].decode(), item[1]))
        elif item not in (b")",):
            out.append((item.decode(), None))
    return out


def main():
    if len(sys.argv) < 3:
        fail("usage: imaplib_client.py HOST PORT [plain|ssl|starttls]")
    host, port = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[3] if len(sys.argv) > 3 else "plain"
    r = {}

    m = connect(host, port, mode)
    r["tls"] = isinstance(m.sock, ssl.SSLSocket)
    r["capabilities_before"] = sorted(m.capabilities)
    ok("LOGIN", m.login("demo", "demo"))
    r["state"] = m.state
    caps = ok("CAPABILITY", m.capability())
    r["capabilities_after"] = sorted(caps[0].decode().split())

    r["list"] = sorted(x.decode() for x in ok("LIST", m.list()))
    r["lsub"] = sorted(x.decode() for x in ok("LSUB", m.lsub()))
    st = ok("STATUS", m.status("INBOX", "(MESSAGES UNSEEN UIDNEXT)"))
    r["status"] = st[0].decode()

    r["select"] = [x.decode() for x in ok("SELECT", m.select("INBOX"))]

    # FETCH attributes and full bodies (PEEK: flags stay).
    data = ok("FETCH", m.fetch("1:5", "(UID RFC822.SIZE FLAGS)"))
    r["fetch_attrs"] = [x.decode() for x in data]
    data = ok("FETCH", m.fetch("1:5", "(BODY.PEEK[])"))
    r["bodies"] = [sha(lit) for meta, lit in fetch_parts(data) if lit is not None]
    data = ok("FETCH", m.fetch("2", "(BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)])"))
    r["header_fields"] = fetch_parts(data)[0][1].decode()
    data = ok("FETCH", m.fetch("3", "(BODY.PEEK[2]<0.10>)"))
    r["partial"] = [[meta, lit.decode()] for meta, lit in fetch_parts(data)]

    # SEARCH, with a UTF-8 literal for the non-ASCII key.
    r["search_unseen"] = ok("SEARCH", m.search(None, "UNSEEN"))[0].decode()
    r["search_header"] = ok("SEARCH", m.search(None, "HEADER", "Subject", "Caf"))[0].decode()
    m.literal = "Zürich".encode()
    r["search_utf8"] = ok("SEARCH", m.search("UTF-8", "BODY"))[0].decode()
    r["uid_search"] = ok("UID SEARCH", m.uid("SEARCH", "UID", "2:4", "UNSEEN"))[0].decode()

    # STORE, COPY (COPYUID), EXPUNGE.
    r["store"] = [x.decode() for x in ok("STORE", m.store("2", "+FLAGS", "(\\Flagged)"))]
    r["store_silent"] = [x for x in ok("STORE", m.store("2", "+FLAGS.SILENT", "($Todo)")) if x is not None]
    typ, data = m.copy("2:3", "Archive")
    ok("COPY", (typ, data))
    r["copy"] = code(data[0])
    r["copyuid_validity_matches"] = validity_of(data[0]) == uidvalidity(m, "Archive")
    r["uid_store"] = [x.decode() for x in ok("UID STORE", m.uid("STORE", "4", "+FLAGS", "(\\Deleted)"))]
    r["expunge"] = [x.decode() for x in ok("EXPUNGE", m.expunge())]

    # APPEND with flags and a date; the tagged OK carries APPENDUID.
    msg = b"From: py@example.org\r\nSubject: from imaplib\r\n\r\nHello from Python.\r\n"
    typ, data = m.append("Sent", "(\\Seen $Py)", '"26-Nov-2026 10:00:00 +0100"', msg)
    ok("APPEND", (typ, data))
    r["append"] = code(data[0])
    r["appenduid_validity_matches"] = validity_of(data[0]) == uidvalidity(m, "Sent")
    r["status_sent"] = ok("STATUS", m.status("Sent", "(MESSAGES UNSEEN)"))[0].decode()

    # IDLE by hand; a second connection appends to INBOX.
    tag = m._new_tag()
    m.send(tag + b" IDLE\r\n")
    cont = m.readline()
    if not cont.startswith(b"+"):
        fail("IDLE: want a continuation, got %r" % cont)
    m2 = connect(host, port, mode)
    ok("LOGIN 2", m2.login("demo", "demo"))
    ok("APPEND 2", m2.append("INBOX", None, None, msg))
    m2.logout()
    idle = []
    while True:
        line = m.readline()
        if not line:
            fail("IDLE: connection closed")
        line = line.decode().rstrip("\r\n")
        idle.append(line)
        if line.endswith(" EXISTS"):
            break
    m.send(b"DONE\r\n")
    while True:
        line = m.readline()
        if not line:
            fail("IDLE: connection closed after DONE")
        line = line.decode().rstrip("\r\n")
        if line.startswith(tag.decode() + " "):
            r["idle_done"] = line[len(tag) + 1:].split(" ")[0]
            break
        idle.append(line)
    r["idle"] = idle

    data = ok("FETCH", m.fetch("1:*", "(UID FLAGS)"))
    r["final_flags"] = [x.decode() for x in data]
    data = ok("FETCH", m.fetch("5", "(BODY.PEEK[])"))
    r["appended_body"] = fetch_parts(data)[0][1].decode()
    r["close"] = m.close()[0]
    typ, data = m.logout()
    r["logout"] = typ
    print(json.dumps(r, indent=1, sort_keys=True, ensure_ascii=False))


if __name__ == "__main__":
    try:
        main()
    except (imaplib.IMAP4.error, OSError, socket.timeout) as e:
        fail("%s: %s" % (type(e).__name__, e))
