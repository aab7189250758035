#!/usr/bin/env python3
"""Replays an access log through fail2ban's own jail logic, offline.

fail2ban has no replay mode: a running jail ignores (or re-times to "now") log lines older
than findtime, so an old log cannot be fed to fail2ban-server. This driver uses the same
objects a jail uses -- FileFilter (failregex + date detection) feeding a FailManager with
maxretry/findtime, which asks the jail to ban -- on the log's own timestamps:

  * filter.checkFindTime = False, as fail2ban-regex does, so lines keep their log time;
  * MyTime is pinned to the log's first second, so the periodic cleanup of expired failures
    never discards counts that are "old" only relative to the wall clock (memory is therefore
    an upper bound: expired failures are kept until the end);
  * bans go to fail2ban's DummyJail (its test double) instead of firewall actions.

Prints one JSON line: lines, matched failures, banned IPs (with the time of the ban).
"""
import json
import sys
import time

from fail2ban.server.filter import FileFilter
from fail2ban.server.mytime import MyTime
from fail2ban.tests.dummyjail import DummyJail
from fail2ban.client.configreader import ConfigReader  # noqa: F401  (ensures the package is complete)


def main():
    log, filter_conf, maxretry, findtime, start_epoch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    # read failregex / datepattern from the filter file (one failregex, simple format)
    failregex, datepatterns = None, []
    with open(filter_conf) as fh:
        key = None
        for raw in fh:
            line = raw.rstrip('\n')
            if line.startswith('failregex'):
                failregex = line.split('=', 1)[1].lstrip()
                key = 'failregex'
            elif line.startswith('datepattern'):
                datepatterns.append(line.split('=', 1)[1].strip())
                key = 'datepattern'
            elif line.startswith((' ', '\t')) and key == 'datepattern' and line.strip():
                datepatterns.append(line.strip())
            else:
                key = None
    MyTime.setTime(start_epoch)
    jail = DummyJail()
    flt = FileFilter(jail)
    flt.checkFindTime = False
    flt.setMaxRetry(maxretry)
    flt.setFindTime(findtime)
    flt.setDatePattern(datepatterns[0] if datepatterns else None)
    flt.addFailRegex(failregex)
    bans = {}
    t0 = time.perf_counter()
    n = 0
    with open(log, encoding='utf-8', errors='replace') as fh:
        for line in fh:
            n += 1
            flt.processLineAndAdd(line.rstrip('\n'))
            while not jail.isEmpty():
                ticket = jail.getFailTicket()
                ip = str(ticket.getID())
                bans.setdefault(ip, ticket.getTime())
    elapsed = time.perf_counter() - t0
    print(json.dumps({
        'lines': n,
        'failures': flt.failManager.getFailTotal(),
        'banned': sorted(bans.keys()),
        'ban_times': bans,
        'elapsed_s': elapsed,
    }))


if __name__ == '__main__':
    main()
