#!/usr/bin/env python3
"""Reference baseline for the archive benchmark.

Usage: baseline.py MBOX

Parses every message of an mbox with the Python standard library:
mailbox.mbox(path), iterating keys; for each key mbox.get_file(key) gives the
binary file of that message, which is parsed with
email.message_from_binary_file(f, policy=email.policy.default).  Subject,
From and Message-ID are read, and the text/plain body is extracted with
msg.get_body(preferencelist=('plain',)).get_content().  Exceptions are caught
and counted per message.

Prints one JSON line: {"messages": n, "errors": e, "seconds": t}, where t is
the wall time (time.perf_counter) of the loop, which includes the mbox scan
that mailbox.mbox performs lazily on first iteration.
"""

import email
import email.policy
import json
import mailbox
import sys
import time


def main():
    if len(sys.argv) != 2:
        print("usage: baseline.py MBOX", file=sys.stderr)
        sys.exit(2)
    mbox = mailbox.mbox(sys.argv[1], create=False)
    policy = email.policy.default
    n = 0
    errors = 0
    t0 = time.perf_counter()
    for key in mbox.iterkeys():
        n += 1
        try:
            with mbox.get_file(key) as f:
                msg = email.message_from_binary_file(f, policy=policy)
            _subject = msg["Subject"]
            _from = msg["From"]
            _message_id = msg["Message-ID"]
            _body = msg.get_body(preferencelist=("plain",)).get_content()
        except Exception:
            errors += 1
    t = time.perf_counter() - t0
    mbox.close()
    print(json.dumps({"messages": n, "errors": errors, "seconds": round(t, 3)}))


if __name__ == "__main__":
    main()
