"""`{% scope_news connection as news %}`: what the home page says about a live connection's
scope (client entities new in Xledger, the change waiting for the project manager); the data
comes from `portal.scope_changes.scope_news`."""

from django import template

from portal import scope_changes

register = template.Library()


@register.simple_tag
def scope_news(connection):
    return scope_changes.scope_news(connection)
