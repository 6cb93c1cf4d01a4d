#!/usr/bin/env python3
"""gen-maildir.py: writes a Maildir of N generated messages, straight to disk.

Used by compare-dovecot.sh (issue 7) to build the large mailboxes (100,000
messages, 10,000 for SEARCH, 1,000 of 100 KiB for FETCH BODY[]) far faster
than by APPEND; the same Maildir is then copied to Postern and Dovecot, and
each server indexes it on its first SELECT.

Usage: gen-maildir.py DIR COUNT SIZE [SEED]
  DIR    the Maildir to create (cur/, new/, tmp/); its cur/ must be empty
  COUNT  number of messages
  SIZE   approximate size of each message in octets (headers included)

Every 100th message has "quarterly" in its Subject and "zeppelin" in its
body, so SEARCH SUBJECT quarterly and SEARCH BODY zeppelin match 1% of the
mailbox. One message in three is \\Seen (the ",S" in its name, the Maildir
convention both servers read).
"""
import os
import random
import sys

WORDS = ("alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo "
         "lima mike november oscar papa quebec romeo sierra tango uniform "
         "victor whiskey xray yankee zulu mail server index cache message "
         "folder report meeting budget project review schedule").split()


def body_text(rng, size, marker):
    words, n = [], 0
    line = []
    while n < size:
        w = rng.choice(WORDS)
        line.append(w)
        n += len(w) + 1
        if len(line) == 12:
            words.append(" ".join(line))
            line = []
    if line:
        words.append(" ".join(line))
    if marker:
        words.insert(len(words) // 2, "the zeppelin has landed")
    return "\r\n".join(words) + "\r\n"


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    root, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) == 5 else 1)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(root, sub), exist_ok=True)
    cur = os.path.join(root, "cur")
    base = 1700000000
    for i in range(1, count + 1):
        special = i % 100 == 0
        topic = "quarterly results" if special else rng.choice(WORDS) + " " + rng.choice(WORDS)
        t = base + i * 60
        hdr = (
            f"Return-Path: <sender{i % 50}@example.org>\r\n"
            f"From: Sender {i % 50} <sender{i % 50}@example.org>\r\n"
            f"To: Bench User <user@example.net>\r\n"
            f"Subject: Message {i}: {topic}\r\n"
            f"Date: {formatdate(t)}\r\n"
            f"Message-ID: <{i}.{t}@bench.example.org>\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n"
            "\r\n"
        )
        msg = (hdr + body_text(rng, max(size - len(hdr), 10), special)).encode()
        flags = "S" if i % 3 == 0 else ""
        name = f"{t}.M{i}P1.bench:2,{flags}"
        path = os.path.join(cur, name)
        with open(path, "wb") as f:
            f.write(msg)
        os.utime(path, (t, t))


def formatdate(t):
    import email.utils
    return email.utils.formatdate(t, usegmt=True).replace("GMT", "+0000")


if __name__ == "__main__":
    main()
