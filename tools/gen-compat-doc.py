#!/usr/bin/env python3
"""Writes docs/syscalls.md, the syscall compatibility table, from
src/sentry/syscalls/table.def (the one source of truth). Run by
`make compat-doc`; CI checks that the committed file is current."""
import re
import sys

top = sys.argv[1] if len(sys.argv) > 1 else "."
rows = re.findall(r'^SYSCALL\((\d+), "(\w+)", (\w+), (\w+), "([^"]*)", "([^"]*)"\)',
                  open(top + "/src/sentry/syscalls/table.def").read(), re.M)
label = {"FULL": "yes", "PARTIAL": "partial", "NONE": "no (ENOSYS)"}
count = {k: sum(1 for r in rows if r[3] == k) for k in label}
out = ["# System-call compatibility", "",
       "Generated from `src/sentry/syscalls/table.def` by `make compat-doc`; do not edit.", "",
       "%d x86-64 system calls: %d as Linux, %d partially (the note says what is missing,"
       " and what is missing returns an error), %d return ENOSYS." % (
           len(rows), count["FULL"], count["PARTIAL"], count["NONE"]), "",
       "| nr | name | supported | note |", "| --- | --- | --- | --- |"]
for nr, name, handler, sup, fmt, note in rows:
    if sup == "NONE" and note == "ENOSYS: not implemented yet":
        note = ""
    out.append("| %s | `%s` | %s | %s |" % (nr, name, label[sup], note))
sys.stdout.write("\n".join(out) + "\n")
