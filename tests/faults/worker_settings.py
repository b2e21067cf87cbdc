"""Settings of the Celery worker the fault tests start and kill: the test settings,
with a visibility timeout of seconds instead of Redis's default hour, so a message
whose worker was killed before acknowledging it comes back within the test's time.

Production keeps the broker's own timeout (see the fault-test notes in bench/load/README.md):
there a killed worker's task comes back after the visibility timeout, and the periodic
outbox retry pass covers the outbox in the meantime.
"""

from config.settings.test import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 4,
    # Look for abandoned messages every second (kombu's defaults: every 100 s).
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
