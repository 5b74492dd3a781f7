"""The load test's figures per request type from locust's CSV: requests, failures, req/s, median, p95, and each
page's median against the login form's (the near-trivial page of the same run). Usage: summary.py locust_stats.csv
"""

import csv
import sys

P95_TARGET_MS = 1000
TRIVIAL = "/dang-nhap/"


def main(path, cpu=None):
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


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[3:5] if "--cpu" in sys.argv else None)
