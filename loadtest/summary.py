"""The load test's figures per request type from locust's CSV: requests, failures, req/s, median, p95, and each
page's median against the login form's (the near-trivial page of the same run); with the server's access log, the
median CPU each request type took in the server (its Server-Timing header, ntm_portal/timing.py), against the
target of 30 ms. Usage: summary.py locust_stats.csv [--cpu BEFORE AFTER] [--access-log access.log]
"""

import csv
import re
import statistics
import sys
from collections import defaultdict

P95_TARGET_MS = 1000
CPU_TARGET_MS = 30
TRIVIAL = "/dang-nhap/"
# locust's request names (loadtest/locustfile.py), told apart in the access log by method and path. Both kinds of
# login-form visit (the visitor's and the one before a password) are one name here: the log cannot tell them apart.
PAGES = [
    ("POST", re.compile(r"/dang-nhap/$"), "/dang-nhap/ POST"),
    ("GET", re.compile(r"/dang-nhap/$"), "/dang-nhap/"),
    ("GET", re.compile(r"/khong-gian/\d+/(\?|$)"), "/khong-gian/[xã]/"),
    ("GET", re.compile(r"/khong-gian/\d+/tieu-chi/\d+/"), "/khong-gian/[xã]/tieu-chi/[tc]/"),
    ("POST", re.compile(r"/khong-gian/\d+/chi-tieu/\d+/"), "/khong-gian/[xã]/chi-tieu/[ct]/ POST"),
    ("GET", re.compile(r"/bang-dieu-khien/\d+/"), "/bang-dieu-khien/[huyện|tỉnh]/"),
    ("GET", re.compile(r"/xuat-bieu/\d+/.*bieu=01"), "/xuat-bieu/[huyện|tỉnh]/ Biểu 01"),
    ("GET", re.compile(r"/xuat-bieu/\d+/.*bieu=03"), "/xuat-bieu/[huyện|tỉnh]/ Biểu 03"),
]
# '... "GET /path?query HTTP/1.1" 200 ... "cpu;dur=12.3, app;dur=45.6"' (deploy/gunicorn.conf.py's format).
LINE = re.compile(r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" .*"cpu;dur=(?P<cpu>[\d.]+)')


def cpu_by_page(lines):
    """CPU milliseconds of each request in the access log, by request name."""
    found = defaultdict(list)
    for line in lines:
        match = LINE.search(line)
        if not match:
            continue
        name = next(
            (n for method, path, n in PAGES if method == match["method"] and path.match(match["path"])),
            None,
        )
        if name:
            found[name].append(float(match["cpu"]))
    return found


def main(path, cpu=None, access_log=None):
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    trivial = next((r for r in rows if r["Name"] == TRIVIAL), None)
    base = float(trivial["50%"]) if trivial and float(trivial["50%"]) else None
    print(f"{'request':45} {'n':>6} {'fail':>5} {'req/s':>7} {'median':>8} {'p95':>8} {'×login':>7}  p95<1s")
    for r in rows:
        median, p95 = float(r["50%"]), float(r["95%"])
        ratio = f"{median / base:.1f}" if base else "-"
        ok = "yes" if p95 < P95_TARGET_MS else "NO"
        print(
            f"{r['Name']:45} {r['Request Count']:>6} {r['Failure Count']:>5} {float(r['Requests/s']):7.2f} "
            f"{median:6.0f}ms {p95:6.0f}ms {ratio:>7}  {ok}"
        )
    if cpu:
        before, after = map(float, cpu)
        total = next(int(r["Request Count"]) for r in rows if r["Name"] == "Aggregated")
        print(f"gunicorn workers' CPU per request: {(after - before) / total * 1000:.0f} ms (mean of {total})")
    if access_log:
        with open(access_log, encoding="utf-8") as f:
            pages = cpu_by_page(f)
        print(f"\n{'server CPU per request (Server-Timing)':45} {'n':>6} {'median':>8} {'p95':>8}  median≤30ms")
        for _method, _path, name in PAGES:
            if name in pages:
                spent = pages[name]
                median, p95 = (
                    statistics.median(spent),
                    statistics.quantiles(spent, n=20)[-1] if len(spent) > 1 else spent[0],
                )
                ok = "yes" if median <= CPU_TARGET_MS else "NO"
                print(f"{name:45} {len(spent):>6} {median:6.1f}ms {p95:6.1f}ms  {ok}")


def option(name, count):
    if name not in sys.argv:
        return None
    at = sys.argv.index(name)
    return sys.argv[at + 1 : at + 1 + count]


if __name__ == "__main__":
    log = option("--access-log", 1)
    main(sys.argv[1], option("--cpu", 2), log[0] if log else None)
