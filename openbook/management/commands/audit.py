"""`openbook audit verify [--system CODE] [--against CHECKPOINT]`: recompute the audit hash
chains, and check one against a signed checkpoint a partner kept.
`openbook audit checkpoint --system CODE`: the chain's head now, signed.
`openbook audit issue`: sign and keep each chain's head (what the nightly task does).
`openbook audit public-key`: the key that checks checkpoints, to publish."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import System
from openbook import checkpoints
from openbook.audit import audit_verify_all, audit_verify_chain
from openbook.models import PLATFORM_CHAIN, system_chain


def _chain_of(code: str | None) -> str:
    if not code:
        return PLATFORM_CHAIN
    found = System.objects.filter(code=code).first()
    if found is None:
        raise CommandError(f"There is no system with the code {code!r}.")
    return system_chain(found.pk)


class Command(BaseCommand):
    help = "Check the audit trail. Exit 0 when every chain is intact, 1 naming the first break."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="Recompute hash chains.")
        verify.add_argument("--system", help="Only this system's chain (its code).")
        verify.add_argument(
            "--against",
            metavar="CHECKPOINT",
            help="A checkpoint file (or an export of the trail, which carries one): the chain "
            "must still hold its event with its hash, and verify to its end.",
        )
        checkpoint = sub.add_parser("checkpoint", help="Print the chain's head now, signed.")
        checkpoint.add_argument("--system", help="This system's chain (else the platform's).")
        sub.add_parser("issue", help="Sign and keep the head of every chain that moved.")
        sub.add_parser("public-key", help="Print the public key that checks checkpoints.")

    def handle(self, *args, action: str, system: str | None = None, **options):
        if action == "checkpoint":
            signed = checkpoints.checkpoint_current(_chain_of(system))
            if signed is None:
                raise CommandError("The chain is empty or does not verify: nothing to sign.")
            self.stdout.write(json.dumps(signed, indent=1))
            return
        if action == "issue":
            issued = checkpoints.checkpoints_issue()
            for cp in issued:
                self.stdout.write(f"{cp.chain}: checkpoint at event {cp.seq}")
            self.stdout.write(self.style.SUCCESS(f"{len(issued)} checkpoint(s) issued."))
            return
        if action == "public-key":
            self.stdout.write(checkpoints.public_key_pem().strip())
            self.stdout.write(f"key id {checkpoints.key_id_of(checkpoints.public_key())}")
            return
        if options.get("against"):
            self._against(options["against"], system)
            return
        reports = [audit_verify_chain(_chain_of(system))] if system else audit_verify_all()
        broken = [r for r in reports if not r.ok]
        for report in reports:
            state = "intact" if report.ok else "BROKEN"
            self.stdout.write(f"{report.chain}: {report.events} events, {state}")
        if broken:
            first = broken[0]
            raise CommandError(
                f"chain {first.chain} is broken at event #{first.broken_seq} "
                f"(id {first.broken_event_id}): {first.problem}",
                returncode=1,
            )
        self.stdout.write(self.style.SUCCESS(f"{len(reports)} chain(s) verified."))

    def _against(self, path: str, system: str | None) -> None:
        try:
            text = Path(path).read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}.", returncode=2) from None
        chain = _chain_of(system) if system else None
        check = checkpoints.audit_verify_against(checkpoints.loads(text), chain=chain)
        if not check.ok:
            raise CommandError(f"{check.chain or path}: {check.message}", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"{check.chain}: {check.message}"))
