"""``manage.py xledger_sandbox``: run the Xledger simulator as its own process.

Prints the URL, the entity IDs and the demo tokens (deterministic for a seed, so ``make run``
can seed the portal's demo connection with the "full" token), then serves until Ctrl-C.
The control surface under ``/_sandbox/`` has no authentication: keep the default host.
``--dialect`` chooses which reading of the contract the sandbox plays (``dialects.py``;
default: ``XLEDGER_SANDBOX_DIALECT``, else "ours"). ``--owners N`` seeds N owner entities
(10001, 20001, ...), each a complete domain of its own (default: ``XLEDGER_SANDBOX_OWNERS``,
else 1).
"""

import os
import time

from django.core.management.base import BaseCommand, CommandError

from integrations.xledger.sandbox import DEMO_TOKEN_PURPOSES, Sandbox
from integrations.xledger.sandbox.dialects import DEFAULT, ENV_VAR, dialect_named
from integrations.xledger.sandbox.sandbox import OWNERS_ENV_VAR, owners_from_env
from integrations.xledger.sandbox.server import make_server


class Command(BaseCommand):
    help = "Serve a local Xledger GraphQL simulator with deterministic demo data."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument("--suppliers", type=int, default=500)
        parser.add_argument("--clients", type=int, default=3)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--no-burst-limit", action="store_true")
        parser.add_argument(
            "--dialect",
            default=os.environ.get(ENV_VAR) or DEFAULT,
            help='"ours" or "xledger", optionally with overrides: "xledger,page_order=dbid" '
            f"(default: ${ENV_VAR}, else {DEFAULT})",
        )
        parser.add_argument(
            "--owners",
            type=int,
            default=None,
            help="owner entities (10001, 20001, ...), each its own domain "
            f"(default: ${OWNERS_ENV_VAR}, else 1)",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            dialect = dialect_named(options["dialect"])
            owners = options["owners"] if options["owners"] is not None else owners_from_env()
            if owners < 1:
                raise ValueError("--owners must be at least 1")
        except ValueError as error:
            raise CommandError(str(error)) from None
        sb = Sandbox(
            dialect=dialect,
            seed=options["seed"],
            suppliers=options["suppliers"],
            clients=options["clients"],
            burst_limit=not options["no_burst_limit"],
            owners=owners,
        )
        server = make_server(sb.wsgi_app, options["host"], options["port"])
        host, port = server.server_address[:2]
        out = self.stdout
        out.write(f"Xledger sandbox ready in {time.perf_counter() - started:.1f}s")
        out.write(f"  URL:               http://{host}:{port}/graphql")
        out.write(f"  control surface:   http://{host}:{port}/_sandbox/info (no auth)")
        out.write(f"  owner entity ID:   {sb.owner_db_id}")
        out.write(f"  client entity IDs: {', '.join(map(str, sb.client_entity_ids))}")
        out.write(f"  suppliers:         {options['suppliers']} (seed {options['seed']})")
        out.write(f"  burst limit:       {'on' if sb.burst_limit else 'off'}")
        out.write(f"  dialect:           {sb.dialect.name}")
        out.write("  demo tokens (header 'Authorization: token <token>'):")
        for name, token in sb.demo_tokens.items():
            out.write(f"    {name:<13} {token}  {DEMO_TOKEN_PURPOSES[name]}")
        for owner in sb.owners[1:]:
            out.write(f"  owner entity ID:   {owner} ({sb.owner_name(owner)})")
            out.write(f"  client entity IDs: {', '.join(map(str, sb.owner_client_ids[owner]))}")
            out.write("  its demo tokens:")
            for name, token in sb.owner_tokens[owner].items():
                out.write(f"    {name:<13} {token}")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            out.write("Xledger sandbox stopped.")
        finally:
            server.server_close()
