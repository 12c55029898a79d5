"""gunicorn settings for the production shape (nginx in front; see README).

nginx buffers every request body and response, so a gunicorn worker only ever talks to
nginx over a fast local link: a request takes as long as our code does, never as long as
the patient's connection. That is what lets a small number of workers serve the site.

Sync workers, two processes: gunicorn's own advice for sync workers is a buffering proxy
in front, which nginx is, and the repository's latency figures (README "Benchmarks") are
for this shape. On the 2-core reference machine a run with ``gthread`` 2 x 4 threads was
not better (README "Production shape"), and more processes would only compete with the
Celery workers for the same two cores. ``GUNICORN_THREADS`` above 1 switches to gthread.
"""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
# An upload arrives whole from nginx, then is hashed and written to storage: a 200 MB
# record takes seconds, not minutes. 120 s leaves room for slow storage without letting a
# stuck request hold a worker for ever; nginx's proxy_read_timeout is a little longer.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak in a library cannot grow for ever.
# Workers are forked from a master that has already imported Django and the app, so a
# recycled worker serves at once. Without it each recycle (every ~2,000 requests a worker)
# re-imported everything: at 200 req/s GET / had a p99 of 912 ms from those pauses alone.
preload_app = True
# Still recycled now and then, as a guard against slow leaks in libraries.
max_requests = 20000
max_requests_jitter = 2000
# nginx sets X-Forwarded-Proto; only it may (the app reads the client address itself,
# see medchina/proxy.py and MEDCHINA_TRUSTED_PROXIES).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")

# The path without its query string (%(U)s, not %(r)s) and no Referer: sign-in and
# invitation tokens never reach the access log.
accesslog = "-"
access_log_format = (
    '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}i)s'
)
errorlog = "-"
