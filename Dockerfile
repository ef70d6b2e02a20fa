FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends gettext && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY portal portal
COPY integrations integrations
COPY staff staff
COPY api api
RUN pip install .
COPY . .
RUN DJANGO_SETTINGS_MODULE=portal.settings python manage.py compilemessages --ignore=.venv -v 0 \
 && DJANGO_SETTINGS_MODULE=portal.settings python manage.py collectstatic --noinput -v 0
ENV DJANGO_SETTINGS_MODULE=portal.settings_production
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
