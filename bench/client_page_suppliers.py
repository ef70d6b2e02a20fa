"""Page every supplier out of the sandbox over real loopback HTTP, and show what it costs.

    .venv/bin/python bench/client_page_suppliers.py [--sizes 10000 100000] [--first 10000]

The sandbox runs in a child process (so its own memory is not counted) holding N suppliers;
this process pages through them with `XledgerClient.paginate`, keeping nothing but a count.
Each size is run twice: once timed, once under tracemalloc for the client's peak memory, which
must stay flat as N grows (one page in memory at a time, never the whole list).
"""

import argparse
import os
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from bench._common import print_machine, serve_sandbox  # noqa: E402
from integrations.xledger import queries  # noqa: E402
from integrations.xledger.client import XledgerClient  # noqa: E402


def page_all(url: str, token: str, first: int) -> tuple[int, int, float]:
    with XledgerClient(token, url=url, timeout=120) as client:
        started = time.perf_counter()
        count = 0
        for page in client.paginate(queries.SUPPLIERS, first=first):
            count += len(page.nodes)
            del page  # a sync writes the page to the mirror, then lets it go
        return count, client.request_count, time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000, 100_000])
    parser.add_argument("--first", type=int, default=queries.MAX_PAGE_SIZE)
    args = parser.parse_args()

    print_machine()
    print(f"page size: first={args.first}")
    print()
    header = (
        f"{'suppliers':>10} {'requests':>8} {'seconds':>8} {'records/s':>10} "
        f"{'peak MiB':>9} {'sandbox start s':>15}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        child, info = serve_sandbox(size)
        try:
            page_all(info["url"], info["token"], args.first)  # warm up both sides
            count, requests, seconds = page_all(info["url"], info["token"], args.first)
            tracemalloc.start()
            tracemalloc.reset_peak()
            page_all(info["url"], info["token"], args.first)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        finally:
            child.stdin.close()
            child.wait(timeout=30)
        assert count == size, f"paged {count} suppliers, expected {size}"
        print(
            f"{count:>10} {requests:>8} {seconds:>8.2f} {count / seconds:>10,.0f} "
            f"{peak / 2**20:>9.1f} {info['startup_seconds']:>15.1f}"
        )


if __name__ == "__main__":
    main()
