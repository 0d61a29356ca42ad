"""Linkage: who the designated facilitators are among the parties and wallets, and which parties
are tied to each other through shared identifiers.

- :mod:`nexusfin.linkage.screening`: parties and wallets against the watchlist (names with
  aliases, transliteration, word order and typos; identity numbers, phones, addresses; wallet
  addresses and sanctioned address tags) → ``schemas/watchlist_matches.yaml``.
- :mod:`nexusfin.linkage.identifiers`: identifier normalisation shared with screening, and party
  pairs sharing a phone, address or identity number → ``schemas/identifier_links.yaml``.

Library code: never imports dagster.
"""

from .identifiers import (
    IDENTIFIER_KINDS,
    SharedIdentifiers,
    address_key,
    id_key,
    phone_key,
    shared_identifiers,
)
from .screening import (
    MATCHED_FIELDS,
    ScreeningConfig,
    name_key,
    name_score,
    screen_parties,
    screen_wallets,
)

__all__ = [
    "IDENTIFIER_KINDS",
    "MATCHED_FIELDS",
    "ScreeningConfig",
    "SharedIdentifiers",
    "address_key",
    "id_key",
    "name_key",
    "name_score",
    "phone_key",
    "screen_parties",
    "screen_wallets",
    "shared_identifiers",
]

# graph proximity to facilitators and crime-terror convergence (issue 5, part 1)
from .convergence import CRIME_FAMILIES, TERROR_PROGRAMS, Convergence, convergence, terror_seeds
from .graph import (
    NO_TS,
    PathEvidence,
    Proximity,
    best_path,
    paths_frame,
    personalized_pagerank,
    proximity,
)

__all__ += [
    "CRIME_FAMILIES",
    "NO_TS",
    "TERROR_PROGRAMS",
    "Convergence",
    "PathEvidence",
    "Proximity",
    "best_path",
    "convergence",
    "paths_frame",
    "personalized_pagerank",
    "proximity",
    "terror_seeds",
]
