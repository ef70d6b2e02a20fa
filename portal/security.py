"""Security headers on every response, including a content security policy.

Django's SecurityMiddleware already sets X-Content-Type-Options, Referrer-Policy and
Cross-Origin-Opener-Policy from settings; this middleware makes sure they are there whatever the
settings say, and adds the CSP. Our pages use no inline script or style, so the policy is strict:
everything from our own origin, nothing framed, forms post only to us. The admin uses a few inline
`style` attributes, so its pages additionally allow inline styles (never inline scripts).

A view that needs a different policy (an API documentation page, say) sets its own
`Content-Security-Policy` header on the response; this middleware then leaves it alone.
"""

CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
ADMIN_CSP = CSP + "; style-src 'self' 'unsafe-inline'"

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            admin = request.path.startswith("/admin/")
            response["Content-Security-Policy"] = ADMIN_CSP if admin else CSP
        for name, value in HEADERS.items():
            if name not in response:
                response[name] = value
        return response
