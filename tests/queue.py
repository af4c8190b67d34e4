"""What the tests have queued for the workers, whichever broker is configured (the
database in the embedded default, Redis when REDIS_URL is set)."""

from django_q.brokers import get_broker
from django_q.signing import SignedPackage


def queued_tasks() -> list[dict]:
    """Take every queued task off the queue and return them (func, args, kwargs…)."""
    broker = get_broker()
    tasks = []
    for _ in range(broker.queue_size()):
        for ack_id, payload in broker.dequeue() or []:
            tasks.append(SignedPackage.loads(payload))
            if ack_id is not None:
                broker.acknowledge(ack_id)
    return tasks
