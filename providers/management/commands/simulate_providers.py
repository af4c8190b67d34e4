import ipaddress
import signal
import threading

from django.core.management.base import BaseCommand, CommandError

from providers.simulator import SimulatorServer, World

BASE_URL_SETTINGS = ("APIMALL_BASE_URL", "APIKLEY_BASE_URL", "AUDIOPOD_BASE_URL", "MUNSIT_BASE_URL")


class Command(BaseCommand):
    help = (
        "Serve a fake of the four providers' documented APIs on one local port, for the demo, "
        "benchmarks and manual testing. Keys: sim-<provider>-<name>, optionally with -n<count>."
    )
    # The simulator has no models: no need to check or wait for the database.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="Interface to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=8100, help="Port (default 8100; 0 picks a free one).")
        parser.add_argument(
            "--speed", type=float, default=1.0, help="Unfinished jobs finish this many times sooner (default 1)."
        )
        parser.add_argument(
            "--new-every",
            type=float,
            default=120.0,
            metavar="SECONDS",
            help="A new job per account every SECONDS (default 120; 0 = never).",
        )
        parser.add_argument("--no-rate-limits", action="store_true", help="Never answer 429 unless a fault says so.")
        parser.add_argument("--latency", type=float, default=0.0, help="Seconds added to every provider answer.")
        parser.add_argument("--error-rate", type=float, default=0.0, help="Share of provider answers that are 500s.")
        parser.add_argument(
            "--truncate-rate", type=float, default=0.0, help="Share of provider answers cut off mid-JSON."
        )

    def handle(self, *args, **options):
        try:
            world = World(
                speed=options["speed"], new_every=options["new_every"], rate_limits=not options["no_rate_limits"]
            )
            world.faults.set(
                "all",
                latency=options["latency"],
                error_rate=options["error_rate"],
                truncate_rate=options["truncate_rate"],
            )
        except ValueError as e:
            raise CommandError(str(e)) from e
        try:
            server = SimulatorServer(world, options["host"], options["port"], verbose=options["verbosity"] >= 2)
        except OSError as e:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {e}") from e

        self._announce(server, world, options)
        # `docker stop` and process managers send SIGTERM: stop as cleanly as on Ctrl-C.
        in_main_thread = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if in_main_thread else None
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
            if in_main_thread:
                signal.signal(signal.SIGTERM, previous)
        self.stdout.write("Simulator stopped.")

    def _announce(self, server: SimulatorServer, world: World, options: dict) -> None:
        out = self.stdout
        new = f"a new job per account every {world.new_every:g} s" if world.new_every else "no new jobs"
        limits = "rate limits on" if world.rate_limits else "rate limits off"
        out.write(
            self.style.SUCCESS(f"Provider simulator on {server.base_url} (speed {world.speed:g}x, {new}, {limits})")
        )
        if not _is_loopback(options["host"]):
            out.write(self.style.WARNING("Listening beyond loopback: anyone who can reach this port can use it."))
        out.write("\nPoint Genboard at it (export these before starting the site and workers):")
        for name in BASE_URL_SETTINGS:
            out.write(f"{name}={server.base_url}")
        out.write("\nExample keys (any sim-<provider>-<name> works; -n<count> sizes the account, default 150 jobs):")
        out.write("  API Mall  sim-apimall-demo     sim-apimall-denied-demo gets 403 (access not approved)")
        out.write("  Apikley   sim-apikley-demo     task ids: GET /_sim/apikley/task-ids; sim-apikley-broke: 402")
        out.write("  AudioPod  sim-audiopod-demo    sim-audiopod-bench-n100000 has 100,000 jobs")
        out.write("            sim-audiopod-demo-score also has Score-first (v3) jobs")
        out.write("  Munsit    sim-munsit-demo")
        out.write("\nControls: GET/POST/DELETE /_sim/faults, POST /_sim/jobs, GET /_sim/log.  Ctrl-C stops.")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _interrupt(signum, frame):
    raise KeyboardInterrupt
