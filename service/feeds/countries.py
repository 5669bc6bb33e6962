"""Gleditsch–Ward country codes, which the UCDP API filters on (`Country=432,439`)."""

from __future__ import annotations

from service.feeds.errors import FeedConfigError

# The Sahel and its neighbours, as UCDP names them.
GW_CODES: dict[str, int] = {
    "Mali": 432,
    "Burkina Faso": 439,
    "Niger": 436,
    "Mauritania": 435,
    "Senegal": 433,
    "Benin": 434,
    "Ivory Coast": 437,
    "Guinea": 438,
    "Ghana": 452,
    "Togo": 461,
    "Cameroon": 471,
    "Nigeria": 475,
    "Chad": 483,
    "Algeria": 615,
    "Libya": 620,
    "Sudan": 625,
}


def gw_code(country: str) -> int:
    """The code of a country name (any case); a FeedConfigError lists the known ones."""
    for name, code in GW_CODES.items():
        if name.casefold() == country.strip().casefold():
            return code
    known = ", ".join(sorted(GW_CODES))
    raise FeedConfigError(f"no Gleditsch–Ward code known for {country!r}; known: {known}")


def canonical(country: str) -> str:
    """The country's name as UCDP writes it (its rows carry that name)."""
    code = gw_code(country)
    return next(name for name, c in GW_CODES.items() if c == code)
