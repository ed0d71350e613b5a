"""python manage.py sandbox --vendor north|operately|ogsm --port P [--seed N] [--size N] [--faults SPEC]

Serves a vendor sandbox over HTTP on loopback and prints ``READY <vendor> <url>`` followed by
the credentials it accepts. Ctrl-C stops it.
"""

from __future__ import annotations

import importlib
import json
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from connectors.registry import VENDOR_CHOICES
from connectors.sandbox_kit import FaultSpecError, serve

VENDORS = tuple(vendor for vendor, _label in VENDOR_CHOICES)


class Command(BaseCommand):
    help = "Serve a local vendor sandbox (seeded data, fault injection) over HTTP."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--vendor", required=True, choices=VENDORS)
        parser.add_argument("--host", default="127.0.0.1", help="Bind address (loopback by default).")
        parser.add_argument("--port", type=int, default=0, help="Port (0 picks a free one).")
        parser.add_argument("--seed", type=int, default=1, help="Seed of the deterministic data generator.")
        parser.add_argument("--size", default="small", help="Number of teams, or small / medium / large.")
        parser.add_argument("--faults", default="", help="Fault spec, e.g. 'latency=20ms,500=0.1,429=0.05'.")
        parser.add_argument("--profile", default=None, help="Operately API profile: 2026-03 or 2026-08.")
        parser.add_argument("--page-size", type=int, default=None, help="North: serve page objects of this size.")
        parser.add_argument("--tenant", default=None, help="OGSM seeded tenant: acme (objectives and goals) or legacy (actions only).")
        parser.add_argument("--json", action="store_true", help="Print the credentials as one JSON line.")

    def handle(self, *args: Any, **opts: Any) -> None:
        vendor = opts["vendor"]
        module = importlib.import_module(f"connectors.{vendor}.sandbox")
        build_opts: dict[str, Any] = {"seed": opts["seed"], "size": opts["size"], "faults": opts["faults"]}
        if opts["profile"]:
            if vendor != "operately":
                raise CommandError("--profile applies to the Operately sandbox only")
            build_opts["profile"] = opts["profile"]
        if opts["page_size"]:
            if vendor != "north":
                raise CommandError("--page-size applies to the North sandbox only")
            build_opts["page_size"] = opts["page_size"]
        if opts["tenant"]:
            if vendor != "ogsm":
                raise CommandError("--tenant applies to the OGSM sandbox only")
            build_opts["tenant"] = opts["tenant"]
        try:
            sandbox = module.build(**build_opts)
        except (FaultSpecError, ValueError) as exc:
            raise CommandError(str(exc)) from None
        try:
            server = serve(sandbox.app, host=opts["host"], port=opts["port"])
        except OSError as exc:
            raise CommandError(f"Cannot listen on {opts['host']}:{opts['port']}: {exc}") from None
        self.stdout.write(f"READY {vendor} {server.url}")
        creds = [{"label": c.label, "person": c.person, "note": c.note, **dict(c.secret)} for c in sandbox.credentials]
        if opts["json"]:
            self.stdout.write(json.dumps({"vendor": vendor, "url": server.url, "credentials": creds}))
        else:
            for cred in creds:
                secret = " ".join(f"{k}={cred[k]}" for k in ("token", "username", "password") if k in cred)
                self.stdout.write(f"  {cred['label']}: {secret}" + (f"  ({cred['note']})" if cred["note"] else ""))
        self.stdout.flush()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
