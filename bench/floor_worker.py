"""The network floor in its own process, as the sync runs in its own (``bench.sync_worker``).

``python -m bench.floor_worker REQUESTS.json --base-url URL --concurrency N`` replays the
requests written by ``bench.floor.dump_requests`` with a plain ``httpx.Client`` and prints one
JSON line: requests sent, wall seconds of the replay (process start-up excluded, as the sync
worker excludes Django's) and the status codes. Replaying inside the sandbox server's process
would make the floor share its GIL with the server and look slower than it is.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.floor import load_requests, replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor_worker")
    parser.add_argument("requests", type=Path, help="JSON file written by bench.floor.dump_requests")
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--concurrency", type=int, required=True)
    args = parser.parse_args(argv)
    result = replay(args.base_url, load_requests(args.requests), args.concurrency)
    print(json.dumps({"requests": result.requests, "seconds": result.seconds, "statuses": result.statuses}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
