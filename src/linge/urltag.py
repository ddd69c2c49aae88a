"""`{% url %}` for every template (a builtin, see settings.TEMPLATES), remembering the
paths of named routes without arguments.

A staff page's header links to seven routes by name; Django reverses each on every
request (17 µs each here, an eighth of the header's cost). The path of a route without
arguments changes only with what the key holds: the name, the application namespace
asked for, the script prefix the site is served under, the URLconf and the language
(for translated patterns). Routes with arguments and `{% url ... as var %}` are
reversed as Django does.
"""

from __future__ import annotations

from django import template
from django.conf import settings
from django.template.base import FilterExpression
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

register = template.Library()

_PATHS: dict[tuple, str] = {}
KEEP = 4096  # a guard: the keys are the templates' literal names times the languages


class RememberedURLNode(URLNode):
    def render(self, context: template.Context) -> str:
        if self.args or self.kwargs or self.asvar or not _literal(self.view_name):
            return super().render(context)
        request = getattr(context, "request", None)
        current_app = getattr(request, "current_app", None)
        if current_app is None:
            match = getattr(request, "resolver_match", None)
            current_app = getattr(match, "namespace", None)
        key = (self.view_name.var, current_app, get_script_prefix(),
               get_urlconf(settings.ROOT_URLCONF), get_language(), context.autoescape)
        found = _PATHS.get(key)
        if found is None:
            found = super().render(context)
            if len(_PATHS) >= KEEP:
                _PATHS.clear()
            _PATHS[key] = found
        return found


def _literal(name: FilterExpression) -> bool:
    return isinstance(name.var, str) and not name.filters


@register.tag
def url(parser: template.base.Parser, token: template.base.Token) -> URLNode:
    node = django_url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
