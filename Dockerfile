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
# Static files are collected into the image (/app/staticfiles), hashed and compressed by the
# production storage, and served by gunicorn itself (WhiteNoise). Production settings refuse to
# load without real secrets, and none exist at build time: this step gets throwaway ones that live
# only for this command (never in the image or its history) and touches no database.
RUN DJANGO_SETTINGS_MODULE=portal.settings python manage.py compilemessages --ignore=.venv -v 0 \
 && DJANGO_SETTINGS_MODULE=portal.settings_production \
    DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    FIELD_ENCRYPTION_KEYS="$(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
    DJANGO_ALLOWED_HOSTS=localhost PORTAL_BASE_URL=https://localhost \
    DEFAULT_FROM_EMAIL=build@localhost DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput -v 0
ENV DJANGO_SETTINGS_MODULE=portal.settings_production
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
