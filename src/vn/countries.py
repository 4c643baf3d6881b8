"""Countries and territories (quốc gia): the codes a nationality or a foreign origin may take,
their names in the page's language and the order of the list the forms show.

Which codes are offered: the two-letter region codes Babel (CLDR) names — ISO 3166-1 alpha-2
countries and territories — that a person can be a national of or travel from. Left out:

* CLDR's numeric regions ("001" world, "142" Asia, …) — continents, not countries;
* groupings and placeholders: EU (European Union), EZ (Eurozone), UN (United Nations),
  QO (Outlying Oceania), ZZ (unknown region), and the pseudo-locales XA, XB (test data);
* codes ISO 3166 only reserves for a part of another country, which is already in the list:
  AC (Ascension, of SH), CP (Clipperton, of FR), DG (Diego Garcia, of IO), EA (Ceuta and
  Melilla, of ES), IC (Canary Islands, of ES), TA (Tristan da Cunha, of SH);
* ISO territories without a permanent population, which nobody is a national of or comes
  home from: AQ (Antarctica), BV (Bouvet Island), GS (South Georgia and the South Sandwich
  Islands), HM (Heard and McDonald Islands), IO (British Indian Ocean Territory), TF (French
  Southern Territories), UM (U.S. Outlying Islands).

XK (Kosovo) is kept: not assigned by ISO, but the code Kosovo's own documents and the EU use.

Việt Nam comes first (most people declaring are Vietnamese), then the rest in the
language's alphabetical order (``collation.sort_key``). A code stored before it was left out
still has its name (:func:`name`), so old records display as they were.
"""

from __future__ import annotations

from functools import cache

from babel import Locale

from khaibao.vn.collation import sort_key

VIETNAM = "VN"
NOT_COUNTRIES = frozenset({
    "EU", "EZ", "UN", "QO", "ZZ", "XA", "XB",  # groupings, placeholders, test data
    "AC", "CP", "DG", "EA", "IC", "TA",  # reserved for a part of another country
    "AQ", "BV", "GS", "HM", "IO", "TF", "UM",  # no permanent population
})


@cache
def _territories(language: str) -> dict[str, str]:
    return dict(Locale.parse(language).territories)


@cache
def codes() -> frozenset[str]:
    """Every code the forms offer (and accept for a new nationality or origin)."""
    return frozenset(code for code in _territories("vi")
                     if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES)


def is_country(code: str) -> bool:
    return code in codes()


def name(code: str, language: str = "vi") -> str:
    """The country's name in ``language`` ("Nhật Bản" for JP); also for a code no longer
    offered ("Liên Minh Châu Âu" for EU); the code itself when unknown."""
    return _territories(language).get(code) or _territories("vi").get(code) or code


@cache
def choices(language: str = "vi") -> tuple[tuple[str, str], ...]:
    """(code, name) of every country: Việt Nam first, then by name in ``language``."""
    rest = sorted(((code, name(code, language)) for code in codes() if code != VIETNAM),
                  key=lambda item: sort_key(item[1], language))
    return ((VIETNAM, name(VIETNAM, language)), *rest)
