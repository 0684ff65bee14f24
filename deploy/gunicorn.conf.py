"""gunicorn settings for production (behind nginx).

Synchronous workers, 2 × cores + 1 of them unless WEB_CONCURRENCY says otherwise. The work is
CPU-bound (templates, collation, the grid), so more threads add no throughput, and a
connection kept alive stays with its threaded worker, which made some people wait far longer
than others. Measured with `openbook bench load` on 2 cores (50 people, no pause): 2, 4 and 5
synchronous workers all served 18-20 requests a second, 5 with the shortest tail; 3 workers
of 2 threads and 2 of 4 served the same with p95 1.5-1.8 times longer.

GUNICORN_NICE lowers the workers' CPU priority (0 to 19; 0 by default). Where one machine
runs a pool for pages and another for cell saves (deploy/README.md, "Keeping saves quick"),
the page pool at 10 gives a save worker about nine times a page worker's CPU share: measured with
`openbook bench load --split`.

Cores are the container's CPU quota where it has one (cgroup v2 cpu.max), else the CPUs this
process may run on; at most 12 workers, each holding a database connection and ~150 MB. A pod
with a CPU request but no limit sees the whole node: set WEB_CONCURRENCY there (the
Kubernetes config does).
"""

import math
import os


def _cores() -> int:
    try:
        with open("/sys/fs/cgroup/cpu.max") as limits:
            quota, period = limits.read().split()
        if quota != "max":
            return max(1, math.ceil(int(quota) / int(period)))
    except (OSError, ValueError):
        pass
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(2 * _cores() + 1, 12))))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 20
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "*")
# Lower only (0-19): raising a priority needs privileges a container does not have.
nice = min(19, max(0, int(os.environ.get("GUNICORN_NICE", "0"))))


def post_fork(server, worker):
    # Each worker, not the master: the master must stay quick to answer its workers.
    if nice:
        os.nice(nice)
