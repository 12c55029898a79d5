# medChina Intake: one image for web, worker and beat.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_ENV=production

# WeasyPrint (pango), file sniffing (libmagic), Chinese fonts for case files, qpdf
# (joins case-file parts).
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libmagic1 \
      fonts-noto-cjk fonts-dejavu-core poppler-utils qpdf curl \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 medchina
WORKDIR /app

COPY requirements/base.lock requirements/base.lock
RUN pip install --require-hashes -r requirements/base.lock

COPY --chown=medchina:medchina . .
# collectstatic needs a key and hosts to import settings; neither is used at run time.
RUN DJANGO_SECRET_KEY=collectstatic-only DJANGO_ALLOWED_HOSTS=localhost \
    DATABASE_URL=sqlite:////tmp/unused.sqlite3 CELERY_BROKER_URL=memory:// \
    CACHE_URL=locmemcache:// \
    python manage.py collectstatic --noinput \
 && mkdir -p /srv/medchina/private && chown -R medchina:medchina /srv/medchina

USER medchina
EXPOSE 8000
# Worker class, count, timeout and an access log without query strings: deploy/gunicorn.conf.py.
CMD ["gunicorn", "medchina.wsgi:application", "--config", "deploy/gunicorn.conf.py"]
