"""Run the test OpenID Connect provider until killed.

    OIDC_PROVIDER_DIR=... OIDC_PROVIDER_CLIENT_SECRET=... \
    DJANGO_SETTINGS_MODULE=tests.oidc_provider.settings \
    python -m tests.oidc_provider.serve --port 8123 --client-id semine-connect \
        --redirect-uri http://testserver/oidc/callback/

The client secret comes from the environment so that it stays out of `ps`.
"""

import argparse
import os

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def rsa_private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--redirect-uri", action="append", required=True)
    args = parser.parse_args()

    # The settings read these at import, so they must be set before django.setup().
    os.environ["OIDC_PROVIDER_ISSUER"] = f"http://127.0.0.1:{args.port}/o"
    os.environ["OIDC_PROVIDER_RSA_KEY"] = rsa_private_key_pem()

    import django

    django.setup()

    from django.core.handlers.wsgi import WSGIHandler
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from oauth2_provider.models import get_application_model

    call_command("migrate", verbosity=0, interactive=False)
    application = get_application_model()
    application.objects.create(
        name="SEMINE Connect",
        client_id=args.client_id,
        client_secret=os.environ["OIDC_PROVIDER_CLIENT_SECRET"],  # DOT stores it hashed
        client_type=application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(args.redirect_uri),
        algorithm=application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    print(f"OIDC provider: issuer {os.environ['OIDC_PROVIDER_ISSUER']}", flush=True)
    run("127.0.0.1", args.port, WSGIHandler(), threading=True)


if __name__ == "__main__":
    main()
