"""Watchlist screening and shared identifiers (nexusfin.linkage.screening / .identifiers)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from nexusfin.contracts import contract
from nexusfin.importers import import_dataset
from nexusfin.layout import DataRoot
from nexusfin.linkage import (
    MATCHED_FIELDS,
    ScreeningConfig,
    address_key,
    id_key,
    name_key,
    name_score,
    phone_key,
    screen_parties,
    screen_wallets,
    shared_identifiers,
)
from synthetic import WorldConfig, generate
from synthetic import names as N

MATCHES = contract("watchlist_matches")
BIRTH = date(1970, 5, 1)


def _parties(*rows: dict) -> pl.DataFrame:
    base = {"kind": "person", "country": "US"}
    c = contract("parties")
    return c.conform(pl.DataFrame([{**base, **r} for r in rows], schema=c.polars_schema()))


def _watchlist(*rows: dict) -> pl.DataFrame:
    base = {"aliases": [], "kind": "person", "programs": ["SDGT"], "id_numbers": [], "phones": [],
            "addresses": [], "crypto_wallets": [], "source": "synthetic"}  # fmt: skip
    c = contract("watchlist")
    return c.conform(pl.DataFrame([{**base, **r} for r in rows], schema=c.polars_schema()))


def _keys(expr, values: list[str | None], **kw) -> list[str | None]:
    df = pl.DataFrame({"v": values, **{k: [v] * len(values) for k, v in kw.items()}})
    if kw:
        return df.select(expr(pl.col("v"), pl.col("o"))).to_series().to_list()
    return df.select(expr(pl.col("v"))).to_series().to_list()


# -- normalisation ----------------------------------------------------------------------------------
def test_name_key_word_order_honorifics_initials_articles_and_accents():
    got = _keys(name_key, [
        "GUZMAN LOERA, Joaquín", "Joaquin Guzman-Loera", "Mr. Mohammed A. Al-Tamimi", "AL TAMIMI, Muhammad",
        "Abd al Al-Masri", "ALMASRI, Abdul", "Sheikh Hassan Nasr Allah", "O'Brien", "!!", None,
    ], o=False)  # fmt: skip
    assert got[0] == got[1] == "guzman joaquin loera"
    assert got[2] == "altamimi mohammed"  # honorific and initial gone, article joined, words sorted
    assert got[3] == "altamimi muhammad"
    assert got[4] == got[5] == "abdul almasri"
    assert got[6] == "hassan nasrallah"
    assert got[7] == "obrien"
    assert got[8] is None and got[9] is None


def test_name_key_organisations_lose_legal_forms_and_stop_words():
    got = _keys(name_key, [
        "Golden Global Trading S.A. de C.V.", "GOLDEN GLOBAL TRADING", "Bayt Al-Mal Trading LLC",
        "BAYT AL MAL TRADING", "Al-Nur Foundation for Relief", "Apex Holdings Co. Ltd", "The Apex Holdings",
    ], o=True)  # fmt: skip
    assert got[0] == got[1] == "global golden trading"
    assert got[2] == got[3] == "almal bayt trading"
    assert got[4] == "alnur foundation relief"
    assert got[5] == got[6] == "apex holdings"


def test_identifier_keys_phone_formats_ids_and_addresses():
    assert _keys(phone_key, ["+52 55 1234 5678", "+525512345678", "0052-55-1234-5678", "(011) 52 55 1234 5678",
                             "0000000", "12345", None]) == (
        ["525512345678"] * 4 + [None, None, None]
    )  # fmt: skip
    assert _keys(id_key, ["623-92-8220", "623928220", "mx 7796-2686", "N/A", "unknown", "AAAAAA", "12"]) == [
        "623928220", "623928220", "MX77962686", None, None, None, None,
    ]  # fmt: skip
    assert _keys(address_key, ["124 Hill Street, Nuevo Laredo, MX", "124 HILL ST. NUEVO-LAREDO MX",
                               "1 Calle Peñón #4, Suite 3", "Main", None]) == [
        "124 HILL ST NUEVO LAREDO MX", "124 HILL ST NUEVO LAREDO MX", "1 CALLE PENON 4 STE 3", None, None,
    ]  # fmt: skip


# -- names ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("party", "listed"),
    [
        ("Mohammed Haddad", "MUHAMMAD HADDAD"),  # transliteration of the first name
        ("Mohamed Haddad", "MOHAMMAD HADDAD"),
        ("Qasim Barakat", "KASSEM BARAKAT"),
        ("Youssef Mansuor", "YUSUF MANSOUR"),  # transliteration + typo
        ("Joaquín Guzmán Loera", "GUZMAN LOERA, Joaquin"),  # accents + word order
        ("Ovidio Caor", "OVIDIO CARO"),  # swap
        ("Ismael Quiintero", "ISMAEL QUINTERO"),  # doubling
        ("Yusuf Braakat", "YUSUF BARAKAT"),  # one edit in a long word
        ("Abd al Al-Masri", "ABDUL AL-MASRI"),
        ("محمد حداد", "Mohammed Haddad"),  # Arabic script: consonant skeletons
        ("Мухаммад Хусейн", "Muhammad Hussein"),  # Cyrillic through anyascii
        ("Mohammed A. Haddad", "HADDAD, Mohammed"),  # middle initial
    ],
)
def test_name_variants_match(party, listed):
    assert name_score(party, listed) >= ScreeningConfig().name_match_min


@pytest.mark.parametrize(
    ("party", "listed"),
    [
        ("Ali", "ALI KHOURY"),  # single-word subset
        ("Aureliano Caro", "AURELIANO CARO CARRILLO"),  # subset of a longer name
        ("Hassan Haddad", "HUSSEIN HADDAD"),  # different given names
        ("Mohammed Haddad", "MOHAMMED HASSAN"),
        ("Jessica Davis", "JESSICA DARWISH"),  # token_sort_ratio says 85.7
        ("Mei Carter", "MEI CARO"),
    ],
)
def test_different_names_do_not_match(party, listed):
    assert name_score(party, listed) < ScreeningConfig().name_match_min


def test_organisation_variants_match():
    org = ScreeningConfig().name_match_min
    assert (
        name_score("Al-Nur Foundation 4 Relief", "AL-NUR FOUNDATION FOR RELIEF", organization=True)
        >= org
    )
    assert name_score("Golden Trading SA de CV", "GOLDEN TRADING", organization=True) == 1.0
    assert name_score("Cartel Del Pacifico Sur", "BANDA LOS TIGRES", organization=True) == 0.0


def test_generator_name_variants_are_found_by_name_alone():
    """The generator's own variant() names (transliteration, missing accents, typos, upper case)
    against entries with its aliases(): nearly all reach name_match_min on the name alone."""
    rng = np.random.default_rng(5)
    listed, parties = [], []
    for i in range(400):
        terror = i % 2 == 0
        first = str(rng.choice(N.TERROR_FIRST if terror else N.CARTEL_FIRST))
        last = str(rng.choice(N.TERROR_LAST if terror else N.CARTEL_LAST))
        listed.append(
            {
                "entity_id": f"E{i}",
                "name": f"{first} {last}".upper(),
                "aliases": N.aliases(first, last, rng),
            }
        )
        parties.append({"party_id": f"P{i}", "name": N.variant(first, last, rng)})
    m = screen_parties(_parties(*parties), _watchlist(*listed))
    own = m.filter(pl.col("party_id").str.slice(1) == pl.col("entity_id").str.slice(1))
    assert own.height / 400 >= 0.96
    assert own.get_column("matched_fields").list.first().is_in(["name", "alias"]).all()
    assert (own.get_column("level") == "possible").all()  # a name alone is never strong


# -- screening ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def listed() -> pl.DataFrame:
    return _watchlist(
        {"entity_id": "SYN-1", "name": "MOHAMMED AL-TAMIMI", "aliases": ["AL-TAMIMI, Mohammed", "Muhammad Al Tamimi"],
         "programs": ["SDGT", "FTO"], "country": "LB", "id_numbers": ["LB12345678"], "phones": ["+96131234567"],
         "addresses": ["12 Hamra Street, Beirut, LB"], "birth_date": BIRTH,
         "crypto_wallets": ["0xAbCdEf0123456789abcdef0123456789ABCDEF01"]},
        {"entity_id": "SYN-2", "name": "CARTEL DEL PACIFICO SUR", "kind": "organization", "programs": ["SDNTK"],
         "country": "MX", "id_numbers": ["MX77962686"], "phones": ["+52 55 1234 5678"],
         "addresses": ["124 Hill Street, Nuevo Laredo, MX"]},
    )  # fmt: skip


@pytest.fixture(scope="module")
def customers() -> pl.DataFrame:
    return _parties(
        # the entity's own customer: a transliterated, misspelled name, its phone written otherwise, same birth date
        {"party_id": "P-FAC", "name": "Muhamad Al-Tamimi", "phone": "+961 3 123 4567", "birth_date": BIRTH},
        # namesake: the same name, another birth date, nothing shared
        {"party_id": "P-NAMESAKE", "name": "Mohammed Al Tamimi", "phone": "+12025550123", "birth_date": date(1988, 2, 2),
         "id_number": "123-45-6789", "address": "9 Oak St, Denver, CO 80202"},
        # linked by identifier only: another person holding the entity's passport number
        {"party_id": "P-LINKED", "name": "Linda Lewis", "id_number": "lb 1234-5678", "birth_date": date(1991, 1, 1)},
        # the same name and birth date, nothing else: name + birth date is enough
        {"party_id": "P-DOB", "name": "AL-TAMIMI Mohammed", "country": "LB", "birth_date": BIRTH},
        # the cartel's front company: legal form added, same address and phone in another format
        {"party_id": "P-ORG", "name": "Cartel del Pacifico Sur S.A. de C.V.", "kind": "organization", "country": "MX",
         "address": "124 HILL ST. NUEVO LAREDO MX", "phone": "0052 55 1234 5678"},
        {"party_id": "P-NOBODY", "name": "John Smith", "phone": "+13035550100", "birth_date": BIRTH},
    )  # fmt: skip


@pytest.fixture(scope="module")
def matches(customers, listed) -> pl.DataFrame:
    return screen_parties(customers, listed)


def _row(m: pl.DataFrame, party: str, entity: str) -> dict:
    got = m.filter((pl.col("party_id") == party) & (pl.col("entity_id") == entity))
    assert got.height == 1, f"{party} x {entity}: {got.height} rows"
    return got.row(0, named=True)


def test_matches_meet_the_contract(matches):
    MATCHES.validate(matches)
    assert matches.columns == MATCHES.names
    assert matches.get_column("account_id").is_null().all()
    fields = set(matches.get_column("matched_fields").explode().drop_nulls())
    assert fields <= set(MATCHED_FIELDS)
    assert matches.get_column("score").is_sorted(descending=True)


def test_facilitator_is_strong_with_its_evidence(matches):
    r = _row(matches, "P-FAC", "SYN-1")
    assert r["level"] == "strong"
    assert r["matched_fields"] == ["alias", "phone", "birth_date"]
    assert r["matched_value"] == "Muhammad Al Tamimi"
    assert r["terror_designated"] and not r["crime_designated"]
    assert r["programs"] == ["SDGT", "FTO"]
    assert r["score"] == 1.0 and r["name_score"] >= 0.85 and r["conflicts"] == []


def test_namesake_with_another_birth_date_stays_possible(matches):
    r = _row(matches, "P-NAMESAKE", "SYN-1")
    cfg = ScreeningConfig()
    assert r["level"] == "possible"
    assert r["matched_fields"] == ["name"]
    assert r["conflicts"] == ["birth_date"]
    assert r["score"] == pytest.approx(cfg.name_weight * r["name_score"] - cfg.birth_date_conflict)


def test_identifier_only_link_is_possible_with_the_identifier(matches):
    r = _row(matches, "P-LINKED", "SYN-1")
    assert r["level"] == "possible"
    assert r["matched_fields"] == ["id_number"]
    assert r["name_score"] is None
    assert r["matched_value"] == "LB12345678"  # as listed
    assert r["score"] == pytest.approx(
        ScreeningConfig().id_number_weight
    )  # no penalty: not a name match


def test_name_and_birth_date_make_a_strong_match(matches):
    r = _row(matches, "P-DOB", "SYN-1")
    assert r["level"] == "strong"
    assert r["matched_fields"] == ["name", "birth_date", "country"]


def test_organisation_with_shared_address_and_phone_is_strong(matches):
    r = _row(matches, "P-ORG", "SYN-2")
    assert r["level"] == "strong"
    assert r["matched_fields"] == ["name", "phone", "address", "country"]
    assert r["crime_designated"] and not r["terror_designated"]


def test_unrelated_party_is_not_reported(matches):
    assert matches.filter(pl.col("party_id") == "P-NOBODY").height == 0
    assert matches.filter(pl.col("entity_id") == "SYN-2").get_column("party_id").to_list() == [
        "P-ORG"
    ]


def test_match_ids_are_stable_and_screening_is_deterministic(customers, listed, matches):
    again = screen_parties(customers.reverse(), listed)
    assert again.equals(matches)
    assert matches.get_column("match_id").n_unique() == matches.height


def test_config_changes_the_outcome(customers, listed):
    strict = screen_parties(
        customers, listed, ScreeningConfig(strong_min=1.0, birth_date_agree=0.0)
    )
    assert _row(strict, "P-DOB", "SYN-1")["level"] == "possible"  # no birth-date credit left
    assert _row(strict, "P-FAC", "SYN-1")["level"] == "possible"  # 0.6 x name + phone < 1.0
    no_terror = screen_parties(customers, listed, ScreeningConfig(terror_programs=("SDT",)))
    assert not _row(no_terror, "P-FAC", "SYN-1")["terror_designated"]


def test_config_from_mapping():
    assert ScreeningConfig.from_mapping({}) == ScreeningConfig()
    cfg = ScreeningConfig.from_mapping(
        {"strong_min": 0.9, "terror_programs": ["SDGT"], "max_skeleton_edits": 2}
    )
    assert (
        cfg.strong_min == 0.9 and cfg.terror_programs == ("SDGT",) and cfg.max_skeleton_edits == 2
    )
    with pytest.raises(ValueError, match="unknown screening setting"):
        ScreeningConfig.from_mapping({"strongmin": 0.9})
    with pytest.raises(ValueError, match="strong_min"):
        ScreeningConfig.from_mapping({"strong_min": 1.5})
    with pytest.raises(ValueError, match="possible_min"):
        ScreeningConfig(possible_min=0.9, strong_min=0.8)


def test_empty_inputs_give_an_empty_conforming_frame(listed):
    assert screen_parties(_parties(), listed).equals(MATCHES.empty())
    with pytest.raises(ValueError, match="lacks columns"):
        screen_parties(pl.DataFrame({"party_id": ["P1"]}), listed)


# -- wallets ------------------------------------------------------------------------------------------
def _accounts(*rows: dict) -> pl.DataFrame:
    base = {"bank_id": "SELF", "account_type": "wallet", "country": "US", "currency": "ETH",
            "opened_date": date(2024, 1, 1)}  # fmt: skip
    c = contract("accounts")
    return c.conform(pl.DataFrame([{**base, **r} for r in rows], schema=c.polars_schema()))


def test_wallets_listed_or_tagged_sanctioned(listed, customers):
    accounts = _accounts(
        {"account_id": "W-1", "owner_party_id": "P-FAC", "chain": "ethereum",
         "address": "0xabcdef0123456789ABCDEF0123456789abcdef01"},  # listed, other letter case
        {"account_id": "W-2", "owner_party_id": "P-ORG", "chain": "tron", "address": "TXyeJNLHtLHu4sCr4pgDK"},
        {"account_id": "W-3", "owner_party_id": "P-NOBODY", "chain": "bitcoin", "address": "bc1qnotag"},
        {"account_id": "W-4", "owner_party_id": "P-NOBODY", "chain": "ethereum", "address": "TXyeJNLHtLHu4sCr4pgDK"},
        {"account_id": "W-5", "owner_party_id": "P-LINKED", "chain": "tron", "address": "TUnattributed1"},
        {"account_id": "B-1", "owner_party_id": "P-FAC", "account_type": "checking", "bank_id": "BANK1",
         "currency": "USD"},
    )  # fmt: skip
    tags = contract("address_tags").conform(pl.DataFrame([
        {"address": "TXyeJNLHtLHu4sCr4pgDK", "chain": "tron", "label": "Sanctioned: cartel", "category": "sanctioned",
         "entity_id": "SYN-2", "source": "synthetic"},
        {"address": "TUnattributed1", "chain": "tron", "label": "OFAC-listed wallet", "category": "sanctioned",
         "entity_id": None, "source": "synthetic"},
        {"address": "bc1qnotag", "chain": "bitcoin", "label": "Some exchange", "category": "exchange",
         "entity_id": None, "source": "synthetic"},
    ], schema=contract("address_tags").polars_schema()))  # fmt: skip
    w = screen_wallets(accounts, listed, tags, parties=customers)
    MATCHES.validate(w)
    assert w.get_column("account_id").to_list() == ["W-1", "W-5", "W-2"]  # sorted by party, account
    assert (w.get_column("level") == "strong").all() and (w.get_column("score") == 1.0).all()
    assert w.get_column("matched_fields").to_list() == [["crypto_wallet"]] * 3
    by = {r["account_id"]: r for r in w.iter_rows(named=True)}
    assert by["W-1"]["entity_id"] == "SYN-1" and by["W-1"]["terror_designated"]
    assert by["W-1"]["party_id"] == "P-FAC" and by["W-1"]["party_name"] == "Muhamad Al-Tamimi"
    assert by["W-2"]["entity_id"] == "SYN-2" and by["W-2"]["crime_designated"]
    assert by["W-5"]["entity_id"] is None and by["W-5"]["entity_name"] == "OFAC-listed wallet"
    assert by["W-5"]["entity_kind"] == "unknown" and by["W-5"]["programs"] == []
    # a tags frame without entity_id (as some callers build it) still finds the tagged wallets
    bare = screen_wallets(accounts, listed, tags.select("address", "chain", "category", "label"))
    assert set(bare.get_column("account_id")) == {"W-1", "W-2", "W-5"}
    assert bare.filter(pl.col("account_id") == "W-2").get_column("entity_id").to_list() == [None]
    # party and wallet matches stack into one table
    both = pl.concat([screen_parties(customers, listed), w])
    MATCHES.validate(both)


# -- shared identifiers -----------------------------------------------------------------------------
def test_shared_identifiers_pairs_and_oversized_groups():
    parties = _parties(
        {
            "party_id": "A",
            "name": "a",
            "phone": "+52 55 1234 5678",
            "address": "1 Main Street, Austin, TX",
        },
        {"party_id": "B", "name": "b", "phone": "+525512345678", "address": "1 MAIN ST. AUSTIN TX"},
        {"party_id": "C", "name": "c", "phone": "0000000", "address": "1 main st, austin, tx"},
        {"party_id": "D", "name": "d", "phone": "0000000", "id_number": "X-55555"},
        *({"party_id": f"R{i}", "name": "r", "id_number": "x55555"} for i in range(3)),
    )
    got = shared_identifiers(parties, max_group=3)
    links = got.links
    contract("identifier_links").validate(links)
    assert links.select("party_a", "party_b", "kind", "value", "group_size").rows() == [
        ("A", "B", "address", "1 MAIN ST AUSTIN TX", 3),
        ("A", "B", "phone", "525512345678", 2),
        ("A", "C", "address", "1 MAIN ST AUSTIN TX", 3),
        ("B", "C", "address", "1 MAIN ST AUSTIN TX", 3),
    ]  # the placeholder phone links nobody; the id held by 4 parties is reported instead
    assert got.oversized_groups.rows() == [("id_number", "X55555", 4)]
    assert (
        shared_identifiers(parties, max_group=4).links.filter(pl.col("kind") == "id_number").height
        == 6
    )
    with pytest.raises(ValueError, match="max_group"):
        shared_identifiers(parties, max_group=1)


# -- a generated world ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("screening_world")
    generate(WorldConfig(seed=11, n_accounts=3000, days=7), out)
    root = DataRoot(out)
    ref = {
        t: contract(t).read(root.reference_file(t))
        for t in ("parties", "watchlist", "accounts", "address_tags")
    }
    truth = {
        t: contract(t).read(root.truth_file(t)) for t in ("truth_account_labels", "truth_scenarios")
    }
    return ref, truth


def test_generated_world_facilitators_strong_namesakes_not(world):
    ref, truth = world
    m = screen_parties(ref["parties"], ref["watchlist"])
    MATCHES.validate(m)
    owners = ref["accounts"].select("account_id", pl.col("owner_party_id").alias("party_id"))
    scen = truth["truth_scenarios"].with_columns(
        pl.col("params").str.json_path_match("$.entity_id").alias("entity_id"),
        pl.col("params").str.json_path_match("$.kind").alias("kind"),
    )
    labels = (
        truth["truth_account_labels"]
        .join(owners, on="account_id")
        .join(scen.select("scenario_id", "entity_id", "kind"), on="scenario_id")
    )
    fac = (
        labels.filter(pl.col("role").is_in(["facilitator_owned", "facilitator"]))
        .select("party_id", "entity_id")
        .unique()
    )
    strong = m.filter(pl.col("level") == "strong").select("party_id", "entity_id")
    assert fac.height >= 5
    recall = fac.join(strong, on=["party_id", "entity_id"], how="semi").height / fac.height
    assert recall >= 0.9, f"facilitator recall {recall:.2f}"
    namesakes = labels.filter(
        (pl.col("typology") == "hard_negative") & (pl.col("kind") == "namesake")
    )
    assert namesakes.height >= 1
    assert namesakes.join(strong, on="party_id", how="semi").height == 0
    linked = labels.filter(pl.col("role") == "linked_by_identifier").select("party_id", "entity_id")
    assert linked.height >= 1
    got = linked.join(m, on=["party_id", "entity_id"], how="inner")
    assert got.height == linked.height
    assert (got.get_column("level") == "possible").all()
    shares = got.select(
        pl.col("matched_fields")
        .list.eval(pl.element().is_in(["phone", "address", "id_number"]))
        .list.any()
    )
    assert shares.to_series().all()
    # wallets of the facilitators: every sanctioned-tagged wallet account is found
    wallets = screen_wallets(
        ref["accounts"], ref["watchlist"], ref["address_tags"], parties=ref["parties"]
    )
    tagged = ref["address_tags"].filter(pl.col("category") == "sanctioned").get_column("address")
    want = (
        ref["accounts"]
        .filter(pl.col("address").is_in(tagged.implode()))
        .get_column("account_id")
        .sort()
    )
    assert wallets.get_column("account_id").sort().equals(want, check_names=False)
    assert wallets.get_column("entity_id").null_count() == 0


# -- a real watchlist format ------------------------------------------------------------------------
def test_ofac_sdn_entries_are_screened(tmp_path):
    """The OFAC SDN fixture through its importer: SURNAME, Given order, aliases, ids from the
    remarks, DOB, phones and digital-currency addresses work as the synthetic entries do."""
    import_dataset("ofac-sdn", Path(__file__).parent / "fixtures" / "public" / "ofac-sdn", tmp_path)
    root = DataRoot(tmp_path)
    wl = contract("watchlist").read(root.reference_file("watchlist"))
    parties = _parties(
        {"party_id": "P1", "name": "Joaquín Guzmán Loera", "country": "MX", "birth_date": date(1957, 4, 4),
         "id_number": "a-1234567"},
        {"party_id": "P2", "name": "Juan Perez Lopez", "phone": "+52 (55) 1234-5678", "birth_date": date(1975, 3, 14)},
        {"party_id": "P3", "name": "El Chapo"},
    )  # fmt: skip
    m = screen_parties(parties, wl)
    MATCHES.validate(m)
    g = _row(m, "P1", "SDN-7157")
    assert g["level"] == "strong" and g["crime_designated"]
    assert g["matched_fields"] == ["name", "id_number", "birth_date", "country"]
    p = _row(m, "P2", "SDN-24000")  # the SDN lists no full birth date: name + phone
    assert p["level"] == "strong" and p["terror_designated"] and p["crime_designated"]
    assert p["matched_fields"] == ["name", "phone"]
    assert _row(m, "P3", "SDN-7157")["matched_fields"] == ["alias"]
    accounts = _accounts(
        {"account_id": "W-9", "owner_party_id": "P3", "chain": "ethereum",
         "address": "0x7F367cC41522cE07553e823bf3be79A889DEbe1B"},
    )  # fmt: skip
    w = screen_wallets(accounts, wl)
    assert w.select("account_id", "entity_id", "level").rows() == [("W-9", "SDN-12345", "strong")]
