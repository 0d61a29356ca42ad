"""Name pools, places and watchlist-style name variants (transliteration, word order, typos,
missing accents)."""

from __future__ import annotations

import unicodedata

import numpy as np

FIRST = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Lisa",
    "Matthew",
    "Nancy",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Steven",
    "Ashley",
    "Andrew",
    "Emily",
    "Kevin",
    "Donna",
    "Brian",
    "Michelle",
    "Jose",
    "Maria",
    "Juan",
    "Carmen",
    "Luis",
    "Ana",
    "Carlos",
    "Rosa",
    "Jorge",
    "Guadalupe",
    "Miguel",
    "Sofia",
    "Alejandro",
    "Lucia",
    "Francisco",
    "Elena",
    "Pedro",
    "Isabel",
    "Ramon",
    "Teresa",
    "Wei",
    "Mei",
    "Hao",
    "Li",
    "Raj",
    "Priya",
    "Amit",
    "Anjali",
    "Ahmed",
    "Fatima",
    "Omar",
    "Aisha",
    "Ali",
    "Layla",
    "Hassan",
    "Yusuf",
    "Nguyen",
    "Thi",
    "Olga",
    "Ivan",
    "Dmitri",
    "Chen",
    "Kwame",
    "Amara",
    "Samuel",
    "Grace",
]
LAST = [
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Wilson",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Martin",
    "Jackson",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Carter",
    "Phillips",
    "Evans",
    "Turner",
    "Garcia",
    "Martinez",
    "Rodriguez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Perez",
    "Sanchez",
    "Ramirez",
    "Torres",
    "Flores",
    "Rivera",
    "Gomez",
    "Diaz",
    "Reyes",
    "Cruz",
    "Morales",
    "Ortiz",
    "Gutierrez",
    "Chavez",
    "Ramos",
    "Castillo",
    "Mendoza",
    "Vargas",
    "Castro",
    "Patel",
    "Shah",
    "Kumar",
    "Singh",
    "Nguyen",
    "Tran",
    "Le",
    "Pham",
    "Kim",
    "Park",
    "Lee",
    "Chen",
    "Wang",
    "Zhang",
    "Liu",
    "Khan",
    "Hussain",
    "Rahman",
    "Haddad",
    "Nasser",
    "Ivanov",
    "Petrov",
    "Okafor",
    "Mensah",
]
BIZ_WORDS = [
    "Apex",
    "Summit",
    "Harbor",
    "Pioneer",
    "Liberty",
    "Cedar",
    "Golden",
    "Pacific",
    "Atlantic",
    "Sierra",
    "Delta",
    "Eagle",
    "Union",
    "Northstar",
    "Evergreen",
    "Riverside",
    "Lakeside",
    "Sunrise",
    "Keystone",
    "Frontier",
    "Heritage",
    "Premier",
    "Crown",
    "Metro",
]
BIZ_SUFFIX = {
    "restaurant": ["Grill", "Taqueria", "Diner", "Kitchen", "Bistro"],
    "car_wash": ["Car Wash", "Auto Spa", "Express Wash"],
    "convenience_store": ["Mini Mart", "Food Mart", "Corner Store", "Quick Stop"],
    "money_service_business": ["Envios", "Money Transfer", "Remesas", "Check Cashing"],
    "payment_processor": ["Payments Inc", "Pay Solutions LLC", "Merchant Services"],
    "crypto_exchange": ["Exchange", "Digital Assets", "Crypto Markets"],
    "import_export": ["Import Export LLC", "Global Trading SA de CV", "Commodities Ltd"],
    "trading_company": ["Trading Co", "International Trade LLC", "Holdings Ltd"],
    "shell_company": ["Holdings LLC", "Ventures Ltd", "Consulting Group"],
    "retail": ["Outfitters", "Supply", "Goods", "Market"],
    "construction": ["Builders", "Construction", "Contractors"],
    "professional_services": ["Consulting", "Partners LLP", "Advisors"],
    "real_estate": ["Properties", "Realty", "Apartments LLC"],
    "logistics": ["Logistics", "Freight", "Transport"],
    "nonprofit": ["Foundation", "Relief Fund", "Community Aid"],
    "other": ["Services", "Group", "Co"],
}
STREETS = [
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Washington",
    "Lake",
    "Hill",
    "Park",
    "Sunset",
    "Lincoln",
    "Jackson",
    "Church",
    "Mill",
]

# (country, region, zip, city) areas; the area prefix "CC-REGION-ZIP" feeds funnel and GTO rules.
US_INTERIOR = [
    ("US", "NY", "10001", "New York"),
    ("US", "NY", "11201", "Brooklyn"),
    ("US", "IL", "60601", "Chicago"),
    ("US", "GA", "30303", "Atlanta"),
    ("US", "NC", "27601", "Raleigh"),
    ("US", "OH", "43215", "Columbus"),
    ("US", "PA", "19103", "Philadelphia"),
    ("US", "MA", "02108", "Boston"),
    ("US", "FL", "33101", "Miami"),
    ("US", "FL", "32801", "Orlando"),
    ("US", "TN", "37201", "Nashville"),
    ("US", "MI", "48201", "Detroit"),
    ("US", "CO", "80202", "Denver"),
    ("US", "WA", "98101", "Seattle"),
    ("US", "NJ", "07102", "Newark"),
    ("US", "VA", "23219", "Richmond"),
    ("US", "MN", "55401", "Minneapolis"),
    ("US", "CA", "94103", "San Francisco"),
    ("US", "CA", "90012", "Los Angeles"),
    ("US", "TX", "75201", "Dallas"),
    ("US", "TX", "77002", "Houston"),
    ("US", "NV", "89101", "Las Vegas"),
    ("US", "MO", "63101", "St. Louis"),
    ("US", "IN", "46204", "Indianapolis"),
]
FOREIGN_AREAS = {
    "MX": [
        ("MX", "CHH", "32000", "Ciudad Juarez"),
        ("MX", "BCN", "22000", "Tijuana"),
        ("MX", "SIN", "80000", "Culiacan"),
        ("MX", "JAL", "44100", "Guadalajara"),
        ("MX", "TAM", "88000", "Nuevo Laredo"),
        ("MX", "CMX", "06000", "Ciudad de Mexico"),
    ],
    "GT": [("GT", "GU", "01001", "Guatemala City")],
    "HN": [("HN", "FM", "11101", "Tegucigalpa")],
    "SV": [("SV", "SS", "1101", "San Salvador")],
    "CO": [("CO", "ANT", "050001", "Medellin")],
    "DO": [("DO", "DN", "10101", "Santo Domingo")],
    "PH": [("PH", "MM", "1000", "Manila")],
    "IN": [("IN", "MH", "400001", "Mumbai")],
    "CN": [("CN", "GD", "510000", "Guangzhou")],
    "HK": [("HK", "HK", "999077", "Hong Kong")],
    "AE": [("AE", "DU", "00000", "Dubai")],
    "TR": [("TR", "34", "34000", "Istanbul")],
    "LB": [("LB", "BA", "1100", "Beirut")],
    "GB": [("GB", "LND", "EC1A1BB", "London")],
    "PA": [("PA", "8", "0801", "Panama City")],
    "CA": [("CA", "ON", "M5H2N2", "Toronto")],
    "VE": [("VE", "DC", "1010", "Caracas")],
    "ES": [("ES", "MD", "28001", "Madrid")],
}
COUNTRY_CURRENCY = {
    "US": "USD",
    "MX": "MXN",
    "GT": "GTQ",
    "HN": "HNL",
    "SV": "USD",
    "CO": "COP",
    "DO": "DOP",
    "PH": "PHP",
    "IN": "INR",
    "CN": "CNY",
    "HK": "HKD",
    "AE": "AED",
    "TR": "TRY",
    "LB": "USD",
    "GB": "GBP",
    "PA": "USD",
    "CA": "CAD",
    "VE": "USD",
    "ES": "EUR",
}
REMIT_COUNTRIES = ("MX", "GT", "HN", "SV", "DO", "CO", "PH", "IN")
REMIT_WEIGHTS = (0.40, 0.15, 0.12, 0.10, 0.07, 0.06, 0.05, 0.05)
TRADE_COUNTRIES = ("CN", "HK", "AE", "TR", "PA", "MX", "CO", "GB", "ES")
LAYERING_COUNTRIES = ("MX", "PA", "AE", "HK", "CN", "TR", "GB", "CO")
TERROR_COUNTRIES = ("LB", "TR", "AE")

# Designated-name material: transliteration groups, Arabic and Spanish name parts.
TRANSLIT = [
    ["Mohammed", "Muhammad", "Mohamad", "Mohamed", "Muhammed"],
    ["Hussein", "Husain", "Hussain", "Husayn"],
    ["Abdul", "Abd al", "Abdel", "Abdoul"],
    ["Yusuf", "Youssef", "Yousef", "Yousif"],
    ["Osama", "Usama", "Ousama"],
    ["Qasim", "Kassem", "Qassem", "Kasim"],
    ["Khalid", "Khaled", "Halid"],
    ["Ahmad", "Ahmed", "Ahmet"],
    ["Nasrallah", "Nasrullah", "Nasr Allah"],
    ["Joaquin", "Joaquín"],
    ["Ramon", "Ramón"],
    ["Jesus", "Jesús"],
    ["Rafael", "Raphael"],
]
TERROR_FIRST = [
    "Mohammed",
    "Hussein",
    "Abdul",
    "Yusuf",
    "Osama",
    "Qasim",
    "Khalid",
    "Ahmad",
    "Ali",
    "Hassan",
]
TERROR_LAST = [
    "Al-Tamimi",
    "Nasrallah",
    "Haddad",
    "Mansour",
    "Al-Masri",
    "Barakat",
    "Fadlallah",
    "Khoury",
    "Darwish",
]
CARTEL_FIRST = [
    "Joaquin",
    "Ramon",
    "Jesus",
    "Rafael",
    "Ismael",
    "Nemesio",
    "Ovidio",
    "Aureliano",
    "Fausto",
]
CARTEL_LAST = [
    "Guzman",
    "Loera",
    "Zambada",
    "Carrillo",
    "Fuentes",
    "Caro",
    "Quintero",
    "Oseguera",
    "Cervantes",
    "Beltran",
    "Leyva",
]
CARTEL_ORGS = [
    "CARTEL DEL PACIFICO SUR",
    "LOS HALCONES DEL NORTE",
    "CARTEL DE LA SIERRA ALTA",
    "BANDA LOS TIGRES",
]
TERROR_ORGS = [
    "AL-NUR FOUNDATION FOR RELIEF",
    "HARAKAT AL-SAMAD",
    "BAYT AL-MAL TRADING",
    "AL-QUDS HUMANITARIAN AID",
]


def strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _translit(word: str, rng: np.random.Generator) -> str:
    for group in TRANSLIT:
        if word in group:
            others = [w for w in group if w != word]
            return others[int(rng.integers(len(others)))]
    return word


def _typo(word: str, rng: np.random.Generator) -> str:
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = int(rng.integers(3))
    if kind == 0:  # swap
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:  # drop
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # double


def aliases(first: str, last: str, rng: np.random.Generator, n: int = 4) -> list[str]:
    """Watchlist aliases of a person: word order, transliteration, missing accents, a typo."""
    out = [
        f"{last.upper()}, {first}",
        f"{_translit(first, rng)} {last}",
        strip_accents(f"{first} {last}"),
        f"{first} {_typo(last, rng)}",
        f"{last} {first}",
    ]
    seen, res = {f"{first} {last}"}, []
    for a in out:
        if a not in seen:
            seen.add(a)
            res.append(a)
    return res[:n]


def variant(first: str, last: str, rng: np.random.Generator) -> str:
    """How a designated person's name appears on an account: rarely exact."""
    k = int(rng.integers(5))
    if k == 0:
        return f"{first} {last}"
    if k == 1:
        return f"{_translit(first, rng)} {last}"
    if k == 2:
        return strip_accents(f"{first} {last}").upper()
    if k == 3:
        return f"{first} {_typo(last, rng)}"
    return f"{_translit(first, rng)} {_typo(last, rng)}"


def org_variant(name: str, rng: np.random.Generator) -> str:
    k = int(rng.integers(3))
    if k == 0:
        return name.title()
    if k == 1:
        return name.replace("AL-", "AL ").title()
    return name.title().replace(" For ", " 4 ").replace(" Trading", " Trading LLC")
