"""Which industry a business is in, and the AI agent Newo gives it.

Pure. ``classify_industry(facts)`` trusts a schema.org ``@type`` first (a site that says it
is a ``Dentist`` is one), then scores industry keywords, in English, Spanish, German and
French, over the name, services, description, title and FAQ. ``agent_persona`` picks an
agent title that fits the industry and a name, in the site's language, that stays the same
for the same seed.

>>> from ._extract import Fact, fold, language_code
>>> classify_industry([Fact("business_name", "Rapid Rooter Plumbing", "stage")])
'Home Services'
>>> agent_persona("Restaurant", "Spanish (es)", "sample-la-casa")[1]
'AI Host'
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterable

from ._extract import Fact, fold, language_code

__all__ = ["INDUSTRIES", "agent_persona", "classify_industry"]

FALLBACK_INDUSTRY = "Local Business"

INDUSTRIES: tuple[str, ...] = (
    "Restaurant",
    "Cafe & Bakery",
    "Dental Clinic",
    "Medical Clinic",
    "Beauty Salon",
    "Law Firm",
    "Auto Repair",
    "Fitness",
    "Real Estate",
    "Home Services",
    "Veterinary",
    "Accounting",
    "Hotel",
    "Retail",
    FALLBACK_INDUSTRY,
)

# schema.org types that name an industry outright.
_SPECIFIC_TYPES: dict[str, str] = {
    **dict.fromkeys(("Restaurant", "BarOrPub", "Brewery", "FastFoodRestaurant", "Winery",
                     "IceCreamShop", "Distillery"), "Restaurant"),
    **dict.fromkeys(("Bakery", "CafeOrCoffeeShop"), "Cafe & Bakery"),
    "Dentist": "Dental Clinic",
    **dict.fromkeys(("MedicalClinic", "Physician", "Optician", "Pharmacy", "Hospital"),
                    "Medical Clinic"),
    **dict.fromkeys(("HairSalon", "BeautySalon", "NailSalon", "DaySpa", "TattooParlor"),
                    "Beauty Salon"),
    **dict.fromkeys(("LegalService", "Attorney", "Notary"), "Law Firm"),
    **dict.fromkeys(("AutoRepair", "AutoBodyShop", "AutoWash", "AutoPartsStore"), "Auto Repair"),
    **dict.fromkeys(("HealthClub", "ExerciseGym", "SportsClub"), "Fitness"),
    "RealEstateAgent": "Real Estate",
    **dict.fromkeys(("Plumber", "Electrician", "HVACBusiness", "RoofingContractor",
                     "HousePainter", "Locksmith", "GeneralContractor", "MovingCompany"),
                    "Home Services"),
    **dict.fromkeys(("VeterinaryCare", "AnimalShelter"), "Veterinary"),
    **dict.fromkeys(("AccountingService", "TaxPreparation"), "Accounting"),
    **dict.fromkeys(("Hotel", "Motel", "BedAndBreakfast", "Hostel", "Resort"), "Hotel"),
}  # fmt: skip
# Parent types: only used when no specific type is given (a Dentist is also a MedicalBusiness).
_BROAD_TYPES: dict[str, str] = {
    "FoodEstablishment": "Restaurant",
    "MedicalBusiness": "Medical Clinic",
    "MedicalOrganization": "Medical Clinic",
    "HealthAndBeautyBusiness": "Beauty Salon",
    "AutomotiveBusiness": "Auto Repair",
    "SportsActivityLocation": "Fitness",
    "HomeAndConstructionBusiness": "Home Services",
    "FinancialService": "Accounting",
    "LodgingBusiness": "Hotel",
    "Store": "Retail",
}

# Word beginnings (accents folded) that point to an industry; "plumb" matches "plumbing".
# fmt: off
_KEYWORDS: dict[str, tuple[str, ...]] = {
    "Restaurant": (
        "restaurant", "trattoria", "osteria", "bistro", "grill", "kitchen", "dining", "dine",
        "dinner", "lunch", "brunch", "cuisine", "tapas", "pizz", "bbq", "barbecue", "smokehouse",
        "sushi", "ramen", "dumpling", "noodle", "taqueria", "diner", "eatery", "chef", "takeout",
        "catering", "reservation", "comida", "cocina", "restaurante", "gaststatte", "speisekarte",
        "brasserie", "wine bar",
    ),
    "Cafe & Bakery": (
        "bakery", "bakehouse", "bread", "pastr", "cake", "croissant", "cafe", "coffee",
        "espresso", "latte", "boulangerie", "patisserie", "viennoiserie", "panaderia",
        "pasteleria", "backerei", "konditorei", "sourdough", "baguette", "cupcake", "donut",
    ),
    "Dental Clinic": (
        "dental", "dentist", "orthodont", "teeth", "tooth", "smile", "implant", "invisalign",
        "hygien", "braces", "whitening", "cavit", "crown", "root canal", "dentista", "zahnarzt",
        "zahn", "dentaire", "odontolog", "periodont", "endodont",
    ),
    "Medical Clinic": (
        "medical clinic", "walk-in clinic", "physician", "doctor", "medical", "urgent care",
        "pediatric", "family medicine", "physio", "chiropract", "medico", "arzt", "medecin",
        "patient",
    ),
    "Beauty Salon": (
        "salon", "hair", "haircut", "stylist", "balayage", "blowout", "nail", "manicure",
        "pedicure", "spa", "facial", "massage", "lash", "brow", "wax", "waxing", "beauty", "barber",
        "peluqueria", "friseur", "coiffure", "coiffeur", "esthetique", "makeup", "skin care",
    ),
    "Law Firm": (
        "law", "lawyer", "attorney", "legal", "litigation", "counsel", "injury", "divorce",
        "immigration", "estate planning", "abogado", "bufete", "anwalt", "rechtsanwalt",
        "kanzlei", "avocat", "juridique", "paralegal", "court", "visa", "custody",
    ),
    "Auto Repair": (
        "auto", "automotive", "car", "vehicle", "brake", "muffler", "transmission", "oil change",
        "tire", "tyre", "mechanic", "engine", "diagnostic", "alignment", "exhaust", "taller",
        "werkstatt", "kfz", "reifen", "bremse", "garage", "olwechsel", "inspektion",
        "hauptuntersuchung", "garagiste", "vidange", "pneu",
    ),
    "Fitness": (
        "fitness", "gym", "crossfit", "yoga", "pilates", "personal train", "trainer", "workout",
        "strength", "conditioning", "bootcamp", "hiit", "gimnasio", "fitnessstudio",
        "salle de sport", "musculation", "kettlebell", "barbell", "vinyasa", "meditation",
        "wod", "athlete",
    ),
    "Real Estate": (
        "real estate", "realty", "realtor", "homes for sale", "listing", "propert", "buyer",
        "seller", "mortgage", "broker", "estate agent", "estates", "lettings", "inmobiliaria",
        "immobilien", "makler", "immobilier", "home valuation", "open house", "relocation",
    ),
    "Home Services": (
        "plumb", "drain", "rooter", "sewer", "water heater", "leak", "hvac", "heating", "cooling",
        "air condition", "furnace", "electric", "wiring", "panel upgrade", "handyman",
        "home repair", "roofing", "contractor", "remodel", "fontanero", "klempner", "sanitar",
        "heizung", "elektriker", "plombier", "chauffagiste", "electricien", "drywall", "gutter",
        "landscap", "lawn", "yard", "gardening", "tree service", "pest control", "locksmith",
        "house cleaning", "maid service", "pool service", "fencing", "garage door", "painting",
        "pressure washing", "window cleaning",
    ),
    "Veterinary": (
        "vet", "veterinar", "animal hospital", "animal clinic", "pet", "dog", "cat", "canine",
        "feline", "spay", "neuter", "tierarzt", "veterinario", "veterinaire", "puppy", "kitten",
        "animal", "equine", "horse",
    ),
    "Accounting": (
        "accountant", "accounting", "bookkeeping", "tax", "cpa", "payroll", "audit",
        "steuerberater", "comptable", "contable",
    ),
    "Hotel": (
        "hotel", "motel", "lodging", "bed and breakfast", "b&b", "guesthouse", "guest house",
        "resort", "hostel", "guest room", "rooms", "check-in", "suites",
    ),
    "Retail": (
        "shop", "store", "boutique", "gift", "apparel", "florist", "floristeria", "floreria",
        "flower", "fleuriste", "blumen", "bookshop", "bookstore", "libreria", "librairie",
        "hardware", "jewel", "joyeria", "bijouterie",
    ),
}
# fmt: on


def _keyword_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """Long keywords match word beginnings ("plumb" → "plumbing"); short ones only whole
    words and plurals, or "car" would match "care" and "pet" "petitions"."""
    forms = [re.escape(w) + (r"(?:e?s)?\b" if len(w) <= 4 else "") for w in words]
    return re.compile(r"\b(?:" + "|".join(forms) + ")")


_PATTERNS = {industry: _keyword_pattern(words) for industry, words in _KEYWORDS.items()}
# How much a keyword counts, by where it was found: a name says more than an FAQ.
_FIELD_WEIGHTS = {
    "business_name": 3.0,
    "business_services": 2.0,
    "business_website_title": 1.5,
    "business_description": 1.5,
    "business_faq": 0.5,
}


def classify_industry(facts: Iterable[Fact]) -> str:
    """The industry among :data:`INDUSTRIES`; ``"Local Business"`` when nothing points anywhere."""
    answers = {fact.question: fact.answer for fact in facts}
    by_type = _industry_from_types(answers.get("business_industry_hints", ""))
    return by_type or _industry_from_keywords(answers)


def _industry_from_types(hints: str) -> str:
    types = [t.strip() for t in hints.split(",") if t.strip()]
    for table in (_SPECIFIC_TYPES, _BROAD_TYPES):
        found = next((table[t] for t in types if t in table), "")
        if found:
            return found
    return ""


def _industry_from_keywords(answers: dict[str, str]) -> str:
    scores = dict.fromkeys(_PATTERNS, 0.0)
    for question, weight in _FIELD_WEIGHTS.items():
        for industry, share in _keyword_shares(fold(answers.get(question, ""))).items():
            scores[industry] += weight * share
    best = max(scores, key=lambda industry: scores[industry])
    return best if scores[best] > 0 else FALLBACK_INDUSTRY


# How much a keyword counts by where it stands in a text: the first sentence says what the
# business is; later ones say more about it; a list that names several industries at once
# ("we deliver to offices, bars and hotels") names customers, not the business.
_LATER_SENTENCE = 0.5
_IN_A_LIST_OF_OTHERS = 0.25
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\s+\|\s+")
_LIST_GLUE = re.compile(r"\w*\s*(?:,|&|\band\b|\bor\b|\by\b|\bo\b|\bet\b|\bou\b|\bund\b)\s*")


def _keyword_shares(text: str) -> dict[str, float]:
    """industry → its distinct keywords in ``text``, each weighed by where it stands; a
    keyword repeated counts once, at its weightiest, so a long FAQ does not outvote the name."""
    best: dict[tuple[str, str], float] = {}
    for position, sentence in enumerate(_SENTENCES.split(text)):
        found = sorted(
            (match.start(), match.end(), industry, match.group(0))
            for industry, pattern in _PATTERNS.items()
            for match in pattern.finditer(sentence)
        )
        listed = _listed_with_other_industries(sentence, found)
        for index, (_, _, industry, word) in enumerate(found):
            share = 1.0 if position == 0 else _LATER_SENTENCE
            if index in listed:
                share *= _IN_A_LIST_OF_OTHERS
            best[industry, word] = max(best.get((industry, word), 0.0), share)
    shares: dict[str, float] = {}
    for (industry, _), share in best.items():
        shares[industry] = shares.get(industry, 0.0) + share
    return shares


def _listed_with_other_industries(
    sentence: str, found: list[tuple[int, int, str, str]]
) -> set[int]:
    """Indexes of keywords joined only by list glue (", ", " and ") to a keyword of another
    industry: "restaurantes y hoteles", "offices, bars and hotels"."""
    listed: set[int] = set()
    for i, (a, b) in enumerate(itertools.pairwise(found)):
        between = sentence[a[1] : b[0]]
        if a[2] != b[2] and _LIST_GLUE.fullmatch(between):
            listed.update({i, i + 1})
    return listed


# -- the agent ---------------------------------------------------------------------------------

_TITLES: dict[str, str] = {
    "Restaurant": "AI Host",
    "Cafe & Bakery": "AI Host",
    "Dental Clinic": "AI Receptionist",
    "Medical Clinic": "AI Receptionist",
    "Beauty Salon": "AI Booking Assistant",
    "Law Firm": "AI Intake Specialist",
    "Auto Repair": "AI Service Advisor",
    "Fitness": "AI Membership Advisor",
    "Real Estate": "AI Sales Rep",
    "Home Services": "AI Dispatcher",
    "Veterinary": "AI Receptionist",
    "Accounting": "AI Client Coordinator",
    "Hotel": "AI Concierge",
    "Retail": "AI Sales Associate",
}
_DEFAULT_TITLE = "AI Assistant"

# fmt: off
_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("Ava", "Olivia", "Emma", "Sophia", "Mia", "Grace", "Chloe", "Ruby", "Nora", "Isla",
           "Liam", "Noah", "Ethan", "Leo", "Owen", "Max"),
    "es": ("Lucía", "Sofía", "Valentina", "Carmen", "Elena", "Marta", "Mateo", "Diego",
           "Pablo", "Javier"),
    "de": ("Lena", "Anna", "Hannah", "Marie", "Clara", "Emilia", "Lukas", "Felix", "Jonas",
           "Paul"),
    "fr": ("Camille", "Léa", "Chloé", "Manon", "Inès", "Élise", "Louis", "Hugo", "Jules",
           "Théo"),
    "it": ("Giulia", "Sofia", "Chiara", "Francesca", "Luca", "Marco", "Matteo", "Lorenzo"),
    "pt": ("Beatriz", "Mariana", "Inês", "Ana", "João", "Tiago", "Rafael", "Miguel"),
}
# fmt: on


def agent_persona(industry: str, language: str, seed: str) -> tuple[str, str]:
    """``(agent_name, agent_title)``: the same seed always gives the same agent.

    ``language`` may be a tag ("es-ES"), a name ("Spanish") or the extractor's answer
    ("Spanish (es)"); unknown languages get English names.
    """
    names = _NAMES.get(language_code(language), _NAMES["en"])
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    name = names[int.from_bytes(digest[:8], "big") % len(names)]
    return name, _TITLES.get(industry, _DEFAULT_TITLE)
