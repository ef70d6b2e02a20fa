"""How fast the Xledger sandbox serves supplier pages, fast path against the plain executor.

Run: .venv/bin/python bench/sandbox_throughput.py [--suppliers 100000]
Not a test: it prints figures (the README quotes them). Each figure pages through every
supplier with first=10000, parsing each page with orjson as a client would.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import orjson  # noqa: E402

from integrations.xledger.sandbox import Sandbox  # noqa: E402

QUERY = """query($after: String) {
  suppliers(first: 10000, after: $after) {
    edges { cursor node { dbId code description email bankAccount company { companyNumber }
                          ownerDbId modifiedAt } }
    pageInfo { hasNextPage }
  }
}"""


def page_all(client: httpx.Client, url: str) -> tuple[int, float]:
    started = time.perf_counter()
    after, count = None, 0
    while True:
        response = client.post(url, json={"query": QUERY, "variables": {"after": after}})
        page = orjson.loads(response.content)["data"]["suppliers"]
        count += len(page["edges"])
        if not page["pageInfo"]["hasNextPage"]:
            return count, time.perf_counter() - started
        after = page["edges"][-1]["cursor"]  # the last edge's cursor, as Xledger's sample pages


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def build_time(suppliers: int) -> float:
    started = time.perf_counter()
    Sandbox(seed=1, suppliers=suppliers, burst_limit=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--suppliers", type=int, default=100_000)
    args = parser.parse_args()

    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, {cpu_model()}")
    print(f"python:  {platform.python_implementation()} {platform.python_version()}")
    for size in (100_000, 200_000):
        print(f"build {size:>7,} suppliers: {build_time(size):5.2f} s")

    sb = Sandbox(seed=1, suppliers=args.suppliers, burst_limit=False)
    headers = {"Authorization": f"token {sb.demo_tokens['full']}"}
    print(f"paging {args.suppliers:,} suppliers, first=10000 (records/second, client included):")
    rates = {}
    with httpx.Client(transport=sb.transport(), headers=headers) as client:
        for fast in (True, False):
            sb.fast_path = fast
            count, seconds = page_all(client, sb.url)
            rates["wsgi", fast] = count / seconds
    with sb.serve(port=0) as url, httpx.Client(headers=headers, timeout=120) as client:
        for fast in (True, False):
            sb.fast_path = fast
            count, seconds = page_all(client, url)
            rates["http", fast] = count / seconds
    for transport, label in (("wsgi", "in-process WSGI "), ("http", "loopback HTTP   ")):
        fast, plain = rates[transport, True], rates[transport, False]
        print(
            f"  {label} fast path {fast:>9,.0f}/s   plain executor {plain:>8,.0f}/s"
            f"   ratio {fast / plain:4.1f}x"
        )


if __name__ == "__main__":
    main()
