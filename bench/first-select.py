#!/usr/bin/env python3
"""first-select.py: times one SELECT, for the first SELECT of a mailbox.

Usage: first-select.py HOST PORT USER PASSWORD [MAILBOX]

Prints the milliseconds between sending SELECT and its tagged OK, and
nothing else. compare-dovecot.sh (issue 7) runs it on a freshly generated
100,000-message Maildir, before any other client has opened it, so the
time is that of the server's first indexing of the mailbox; `postern
bench` cannot measure it (its probe logs in and looks at the mailboxes
before the measured run). The answer to SELECT is a few lines, so the
client's own cost (Python) does not weigh in the figure.
"""
import imaplib
import sys
import time


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    box = sys.argv[5] if len(sys.argv) == 6 else "INBOX"
    c = imaplib.IMAP4(host, port, timeout=900)
    c.login(user, password)
    start = time.perf_counter()
    typ, data = c.select(box)
    ms = (time.perf_counter() - start) * 1000
    if typ != "OK":
        sys.exit(f"first-select: SELECT {box}: {typ} {data}")
    c.logout()
    print(f"{ms:.1f}")


if __name__ == "__main__":
    main()
