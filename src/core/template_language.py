"""Templates translated when they are compiled, one environment per language.

``_('literal')`` without variables is the same text on every render, so each language's
environment replaces it by its translation while compiling the template (marked safe, as
the i18n extension's own ``_()`` output is). Calls with variables or with a computed message
stay calls, translated at render time as before. A page then renders without the dozens of
gettext calls, Markup wrappers and ``%`` formats it would otherwise make on every request.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from khaibao.core import i18n


def translate_literal(language: str, message: str) -> str | None:
    """What ``_(message)`` renders in ``language`` (``%%`` → ``%`` as gettext's ``%`` does),
    or None when the text is not a valid format without variables."""
    translated = i18n.catalog(language).get(message, message)
    if isinstance(translated, tuple):
        translated = translated[0]
    try:
        return translated % {}
    except (TypeError, ValueError, KeyError):
        return None


class PreTranslate(Extension):
    """Folds ``_('literal')`` into its translation for ``environment.language``."""

    def filter_stream(self, stream: TokenStream) -> Iterable[Token]:
        return _folded(list(stream), getattr(self.environment, "language", None))


def _folded(tokens: list[Token], language: str | None) -> Iterator[Token]:
    i = 0
    while i < len(tokens):
        window = tokens[i:i + 4]
        if (language is not None and len(window) == 4
                and [t.type for t in window] == ["name", "lparen", "string", "rparen"]
                and window[0].value == "_"
                and (text := translate_literal(language, window[2].value)) is not None):
            line = window[0].lineno
            yield Token(line, "lparen", "(")
            yield Token(line, "string", text)
            yield Token(line, "pipe", "|")
            yield Token(line, "name", "safe")
            yield Token(line, "rparen", ")")
            i += 4
            continue
        yield tokens[i]
        i += 1
