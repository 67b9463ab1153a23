"""The simulator's page reader and industry classifier, on small inline pages."""

from __future__ import annotations

import json

import pytest

from newo_nb.simulator._extract import (
    MAX_ANSWER_CHARS,
    QUESTION_TABLE,
    QUESTIONS,
    ExtractionError,
    Fact,
    extract_facts,
    format_hours,
    parse_hours,
)
from newo_nb.simulator._industry import INDUSTRIES, agent_persona, classify_industry

URL = "https://shop.example.com/"


def answers(html: str) -> dict[str, str]:
    return {fact.question: fact.answer for fact in extract_facts(html, URL)}


def page(head: str = "", body: str = "", lang: str = "en") -> str:
    return f'<!DOCTYPE html><html lang="{lang}"><head>{head}</head><body>{body}</body></html>'


def jsonld(data: object) -> str:
    # "<\/" as sites write it, so a "</script>" inside a value does not end the block
    text = json.dumps(data).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


DENTIST = {
    "@context": "https://schema.org",
    "@type": "Dentist",
    "name": "Bright Smile Dental",
    "description": "Family dentistry in Denver.",
    "telephone": "(303) 555-0112",
    "email": "mailto:desk@brightsmile.example.com",
    "priceRange": "$$",
    "address": {
        "@type": "PostalAddress",
        "streetAddress": "3210 Tejon St",
        "addressLocality": "Denver",
        "addressRegion": "CO",
        "postalCode": "80211",
    },
    "openingHoursSpecification": [
        {"dayOfWeek": ["Monday", "Tuesday", "Wednesday"], "opens": "08:00:00", "closes": "17:00"},
        {"dayOfWeek": "https://schema.org/Friday", "opens": "08:00", "closes": "14:00"},
        {"dayOfWeek": "Sunday", "opens": "00:00", "closes": "00:00"},  # schema.org for "closed"
    ],
    "hasOfferCatalog": {
        "@type": "OfferCatalog",
        "itemListElement": [
            {"@type": "Offer", "itemOffered": {"@type": "Service", "name": "Cleanings"}},
            {"@type": "Offer", "itemOffered": {"@type": "Service", "name": "Implants"}},
        ],
    },
    "sameAs": ["https://www.facebook.com/brightsmile"],
}


# -- structured data ---------------------------------------------------------------------------


def test_jsonld_business_is_read_in_question_order() -> None:
    facts = extract_facts(page(f"<title>Bright Smile | Denver</title>{jsonld(DENTIST)}"), URL)
    got = {f.question: f.answer for f in facts}
    assert got["business_name"] == "Bright Smile Dental"
    assert got["business_phone"] == "(303) 555-0112"
    assert got["business_email"] == "desk@brightsmile.example.com"
    assert got["business_address"] == "3210 Tejon St, Denver, CO 80211"
    assert got["business_working_hours"] == "Mo-We 08:00-17:00; Fr 08:00-14:00"
    assert got["business_services"] == "Cleanings; Implants"
    assert got["business_social_links"] == "https://www.facebook.com/brightsmile"
    assert got["business_price_range"] == "$$"
    assert got["business_industry_hints"] == "Dentist"
    assert [f.question for f in facts] == [q for q in QUESTIONS if q in got]


def test_stages_follow_the_question() -> None:
    facts = extract_facts(page(f"<title>Bright Smile</title>{jsonld(DENTIST)}"), URL)
    stages = {f.question: f.stage for f in facts}
    assert stages["business_website_title"] == stages["business_language"] == "preprocessing"
    assert stages["business_name"] == "stage"
    assert stages["business_industry_hints"] == "postprocessing"
    assert all(isinstance(f, Fact) for f in facts)


def test_one_question_table_gives_order_stage_and_reader() -> None:
    assert tuple(question.name for question in QUESTION_TABLE) == QUESTIONS
    assert len(set(QUESTIONS)) == len(QUESTIONS) == 13
    stages = [question.stage for question in QUESTION_TABLE]
    assert stages == sorted(stages, key=["preprocessing", "stage", "postprocessing"].index)
    assert all(callable(question.read) for question in QUESTION_TABLE)


def test_business_is_found_in_a_graph_beside_the_website() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "Parkside site", "url": URL},
            {"@type": ["Dentist", "MedicalBusiness"], "name": "Parkside Orthodontics",
             "telephone": "773-555-0160", "openingHours": ["Mo-Th 08:30-17:30", "Sa 08:00-13:00"]},
        ],
    }  # fmt: skip
    got = answers(page(jsonld(graph)))
    assert got["business_name"] == "Parkside Orthodontics"
    assert got["business_working_hours"] == "Mo-Th 08:30-17:30; Sa 08:00-13:00"
    assert got["business_industry_hints"] == "Dentist, MedicalBusiness"


def test_faq_page_is_read_from_jsonld() -> None:
    faq = {
        "@context": "https://schema.org",
        "@type": "FAQPage",
        "mainEntity": [
            {"@type": "Question", "name": "Do you see kids?",
             "acceptedAnswer": {"@type": "Answer", "text": "Yes, from their <b>first</b> tooth."}},
            {"@type": "Question", "name": "Is parking free",
             "acceptedAnswer": {"@type": "Answer", "text": "Yes."}},
        ],
    }  # fmt: skip
    got = answers(page(f"<title>Clinic</title>{jsonld(faq)}"))
    assert (
        got["business_faq"]
        == "Do you see kids? Yes, from their first tooth. | Is parking free? Yes."
    )


def test_microdata_business() -> None:
    body = """
    <div itemscope itemtype="https://schema.org/AutoRepair">
      <h1 itemprop="name">Precision Auto Care</h1>
      <div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">
        <span itemprop="streetAddress">4420 N 7th Ave</span>,
        <span itemprop="addressLocality">Phoenix</span>,
        <span itemprop="addressRegion">AZ</span> <span itemprop="postalCode">85013</span>
      </div>
      <a href="tel:+16025550176" itemprop="telephone">(602) 555-0176</a>
      <time itemprop="openingHours" datetime="Mo-Fr 07:00-18:00">Weekdays 7-6</time>
    </div>"""
    got = answers(page(body=body))
    assert got["business_name"] == "Precision Auto Care"
    assert got["business_address"] == "4420 N 7th Ave, Phoenix, AZ 85013"
    assert got["business_phone"] == "(602) 555-0176"  # the link's text, not "tel:+1602…"
    assert got["business_working_hours"] == "Mo-Fr 07:00-18:00"
    assert got["business_industry_hints"] == "AutoRepair"


def test_opengraph_only_page() -> None:
    head = """
      <meta property="og:site_name" content="Handy Hank Home Repair">
      <meta property="og:title" content="Handy Hank — Omaha handyman">
      <meta property="og:description" content="Drywall, doors and decks. Licensed &amp; insured.">
      <meta property="og:locale" content="en_US">"""
    got = answers(f"<html><head>{head}</head><body><p>Hi</p></body></html>")
    assert got["business_name"] == "Handy Hank Home Repair"
    assert got["business_website_title"] == "Handy Hank — Omaha handyman"
    assert got["business_description"] == "Drywall, doors and decks. Licensed & insured."
    assert got["business_language"] == "English (en-US)"


# -- plain HTML --------------------------------------------------------------------------------

PLAIN = """
<header><div class="brand">Smokehouse 33</div></header>
<h1>Low &amp; slow since '03</h1>
<p>We smoke brisket and ribs over hickory for fourteen hours every night in the West Bottoms.</p>
<h2>Services</h2>
<ul><li>Catering — from $200</li><li><strong>Takeout</strong> call ahead</li><li>Events</li></ul>
<h2>Hours</h2>
<table><tr><td>Tues thru Sat</td><td>11 to 9</td></tr><tr><td>Sun</td><td>noon to 6</td></tr>
<tr><td>Monday</td><td>Closed</td></tr></table>
<h2>FAQ</h2>
<details><summary>Do you cater weddings?</summary><p>Yes, up to 300 guests.</p></details>
<dl><dt>Ignored?</dt><dd>Only the first FAQ source is read.</dd></dl>
<address>1333 W 12th St<br>Kansas City, MO 64101<br>
Phone: <a href="tel:8165550193">816.555.0193</a></address>
<p>Write to <a href="mailto:pit@smokehouse.example.com?subject=Hi">us</a></p>
<footer><a href="https://www.facebook.com/smokehouse33/">Facebook</a>
<a href="https://example.com/about">About</a><p>© 2024 Smokehouse 33 BBQ LLC</p></footer>
"""


def test_plain_html_page() -> None:
    got = answers(page("<title>Smokehouse 33 | Kansas City BBQ</title>", PLAIN))
    assert got["business_name"] == "Smokehouse 33"
    assert got["business_description"].startswith("We smoke brisket")
    assert got["business_phone"] == "816.555.0193"
    assert got["business_email"] == "pit@smokehouse.example.com"
    assert got["business_address"] == "1333 W 12th St, Kansas City, MO 64101"
    assert got["business_working_hours"] == "Tu-Sa 11:00-21:00; Su 12:00-18:00"
    assert got["business_services"] == "Catering; Takeout; Events"
    assert got["business_faq"] == "Do you cater weddings? Yes, up to 300 guests."
    assert got["business_social_links"] == "https://www.facebook.com/smokehouse33"
    assert "business_industry_hints" not in got  # no schema.org type to hint with


def test_missing_fields_are_absent() -> None:
    got = answers(page("<title>Quiet Corner Books</title>", "<p>Books.</p>"))
    assert set(got) == {"business_website_title", "business_language", "business_name"}


def test_name_prefers_the_title_part_the_page_confirms() -> None:
    title = "<title>Plumber in Sacramento | Rapid Rooter Plumbing</title>"
    footer = "<footer><p>© 2025 Rapid Rooter Plumbing. All rights reserved.</p></footer>"
    assert answers(page(title, footer))["business_name"] == "Rapid Rooter Plumbing"


def test_phone_is_found_in_text_for_the_pages_country() -> None:
    body = "<p>Öffnungszeiten Mo–Fr 8:00–18:00 Uhr</p><p>Telefon 089 4120 5533</p>"
    got = answers(page("<title>Werkstatt</title>", body, lang="de"))
    assert got["business_phone"] == "089 4120 5533"
    assert got["business_working_hours"] == "Mo-Fr 08:00-18:00"
    assert got["business_language"] == "German (de)"


def test_language_is_guessed_when_the_page_does_not_say() -> None:
    body = (
        "<p>Somos un restaurante familiar con la mejor comida del barrio y los postres de la "
        "abuela para todos los vecinos y las familias del centro.</p>"
    )
    got = answers(f"<html><head><title>Casa Lola</title></head><body>{body}</body></html>")
    assert got["business_language"] == "Spanish (es)"


# -- robustness --------------------------------------------------------------------------------


def test_broken_jsonld_does_not_hide_the_rest_of_the_page() -> None:
    broken = '<script type="application/ld+json">{"@type": "Restaurant", name: oops</script>'
    good = jsonld({"@context": "https://schema.org", "@type": "Bakery", "name": "Sunrise"})
    got = answers(page(f"<title>Sunrise Bakehouse</title>{broken}{good}"))
    assert got["business_name"] == "Sunrise"
    assert got["business_industry_hints"] == "Bakery"


def test_broken_markup_does_not_crash() -> None:
    html = "<html><head><title>Joe's <b>Diner</title><body><div itemscope itemtype=><p>hi"
    assert answers(html)["business_website_title"] == "Joe's Diner"


def test_html_and_script_in_values_come_out_as_plain_text() -> None:
    shop = {
        "@context": "https://schema.org",
        "@type": "Restaurant",
        "name": "<b>Joe's</b>&nbsp;Pizza<script>alert('x')</script>",
        "description": "Best <i>pizza</i> &amp; subs\n\n   in town<style>p{}</style>",
        "telephone": ["", "<span>(512) 555-0100</span>"],
    }
    got = answers(page(jsonld(shop)))
    assert got["business_name"] == "Joe's Pizza"
    assert got["business_description"] == "Best pizza & subs in town"
    assert got["business_phone"] == "(512) 555-0100"
    assert not any("<" in answer or "alert" in answer for answer in got.values())


def test_answers_are_bounded() -> None:
    shop = {"@type": "Store", "name": "Big", "description": "word " * 2000}
    got = answers(page(jsonld(shop)))
    assert len(got["business_description"]) <= MAX_ANSWER_CHARS
    assert got["business_description"].endswith("…")


def test_empty_page_is_an_extraction_error() -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_facts("<html><body><div id='root'></div></body></html>", URL)
    assert str(caught.value) == (
        "https://shop.example.com/ says nothing about a business: no title, schema.org data or "
        "description was found. Check that `source` is the business's home page."
    )


def test_a_server_default_page_is_an_extraction_error() -> None:
    nginx = (
        "<html><head><title>Welcome to nginx!</title></head><body><h1>Welcome to nginx!</h1>"
        "<p>If you see this page, the nginx web server is successfully installed and working. "
        "Further configuration is required.</p></body></html>"
    )
    with pytest.raises(ExtractionError, match="says nothing about a business"):
        extract_facts(nginx, URL)


def test_empty_string_is_an_extraction_error() -> None:
    with pytest.raises(ExtractionError):
        extract_facts("", URL)


# -- hours -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon–Fri 9am-6pm", "Mo-Fr 09:00-18:00"),
        ("Tues thru Sat: 10 to 7", "Tu-Sa 10:00-19:00"),
        ("Mo-Fr 09:00-18:00; Sa 10:00-14:00", "Mo-Fr 09:00-18:00; Sa 10:00-14:00"),
        ("Open 7 days: 10am - 8pm", "Mo-Su 10:00-20:00"),
        ("Open 24/7", "Mo-Su 00:00-24:00"),
        ("Weekdays 6am–8:30pm\nWeekends 8am–6pm", "Mo-Fr 06:00-20:30; Sa-Su 08:00-18:00"),
        ("Mon, Wed & Fri 9-5", "Mo 09:00-17:00; We 09:00-17:00; Fr 09:00-17:00"),
        ("11AM-10PM Sun-Thu, 11AM-11PM Fri & Sat",
         "Mo-Th 11:00-22:00; Fr-Sa 11:00-23:00; Su 11:00-22:00"),
        ("Monday-Friday: 8:00 a.m. to 5:30 p.m.\nSaturday: 8:00 a.m. to noon",
         "Mo-Fr 08:00-17:30; Sa 08:00-12:00"),
        ("Martes a sábado: 13:00 – 16:30 y 20:00 – 24:00",
         "Tu-Sa 13:00-16:30, 20:00-24:00"),
        ("Du mardi au samedi : 7h00 – 19h30, dimanche : 7 h à 13 h",
         "Tu-Sa 07:00-19:30; Su 07:00-13:00"),
        ("Mo–Fr: 7:30–18:00 Uhr\nSa: 8:00–12:00 Uhr\nSo: Ruhetag",
         "Mo-Fr 07:30-18:00; Sa 08:00-12:00"),
        ("We are open by appointment", ""),
        ("Do we need to book? Call 555-0100", ""),
    ],
)  # fmt: skip
def test_hours_as_people_write_them(text: str, expected: str) -> None:
    assert format_hours(parse_hours(text)) == expected


def test_format_hours_groups_consecutive_days_only() -> None:
    schedule = {0: [("09:00", "17:00")], 1: [("09:00", "17:00")], 3: [("09:00", "17:00")]}
    assert format_hours(schedule) == "Mo-Tu 09:00-17:00; Th 09:00-17:00"


# -- industry and persona ------------------------------------------------------------------------


def facts(**answers: str) -> list[Fact]:
    return [Fact(question, answer, "stage") for question, answer in answers.items()]


def test_schema_type_decides_the_industry() -> None:
    assert classify_industry(facts(business_industry_hints="Dentist, MedicalBusiness",
                                   business_name="Smile Spa")) == "Dental Clinic"  # fmt: skip
    assert classify_industry(facts(business_industry_hints="HVACBusiness")) == "Home Services"
    assert classify_industry(facts(business_industry_hints="LegalService")) == "Law Firm"
    assert classify_industry(facts(business_industry_hints="MedicalBusiness")) == "Medical Clinic"


@pytest.mark.parametrize(
    ("name", "services", "industry"),
    [
        ("Rapid Rooter Plumbing", "Drain cleaning; Water heaters", "Home Services"),
        ("Smokehouse 33", "Catering; Takeout", "Restaurant"),
        ("Kfz-Werkstatt Müller", "Reifenservice; Bremsen", "Auto Repair"),
        ("Boulangerie du Marché", "Baguette; Croissants", "Cafe & Bakery"),
        ("Clínica Dental Sonrisa", "Ortodoncia; Implantes dentales", "Dental Clinic"),
        ("Country Lane Veterinary Clinic", "Small animal wellness", "Veterinary"),
        ("Okafor Immigration Law", "Family-based petitions; Employment visas", "Law Firm"),
        ("Pawsitive Care", "Vaccinations for dogs and cats", "Veterinary"),
        ("Quiet Corner", "", "Local Business"),
    ],
)
def test_keywords_decide_without_schema(name: str, services: str, industry: str) -> None:
    assert classify_industry(facts(business_name=name, business_services=services)) == industry


def test_every_classification_is_a_known_industry() -> None:
    assert classify_industry([]) in INDUSTRIES


def test_persona_fits_the_industry_and_is_stable() -> None:
    assert agent_persona("Restaurant", "en", "a")[1] == "AI Host"
    assert agent_persona("Dental Clinic", "en", "a")[1] == "AI Receptionist"
    assert agent_persona("Law Firm", "en", "a")[1] == "AI Intake Specialist"
    assert agent_persona("Real Estate", "en", "a")[1] == "AI Sales Rep"
    assert agent_persona("Something New", "en", "a")[1] == "AI Assistant"
    assert agent_persona("Fitness", "en", "seed-1") == agent_persona("Fitness", "en", "seed-1")
    names = {agent_persona("Fitness", "en", f"seed-{i}")[0] for i in range(50)}
    assert len(names) > 5  # the seed spreads names


@pytest.mark.parametrize("language", ["es", "es-ES", "Spanish", "Spanish (es)"])
def test_persona_name_is_in_the_sites_language(language: str) -> None:
    spanish = {agent_persona("Restaurant", "es", f"s{i}")[0] for i in range(40)}
    assert agent_persona("Restaurant", language, "s1")[0] in spanish
    english = {agent_persona("Restaurant", "en", f"s{i}")[0] for i in range(40)}
    assert not spanish & english


def test_unknown_language_gets_english_names() -> None:
    assert agent_persona("Hotel", "Klingon", "x") == agent_persona("Hotel", "en", "x")


# -- what a new site throws at the reader (issue 17) ---------------------------------------------


def test_share_and_intent_links_are_not_social_profiles() -> None:
    body = """
    <a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fshop.example.com">f</a>
    <a href="https://twitter.com/intent/tweet?text=hi&url=https://shop.example.com">t</a>
    <a href="https://pinterest.com/pin/create/button/?url=https://shop.example.com">p</a>
    <a href="https://www.linkedin.com/shareArticle?mini=true&url=https://shop.example.com">l</a>
    <a href="https://www.facebook.com/">Facebook</a>
    <a href="https://www.pinterest.com/petalandstem/">Our boards</a>
    <a href="https://instagram.com/petalandstem">ig</a>
    <a href="http://www.instagram.com/PetalAndStem/">ig again</a>"""
    got = answers(page("<title>Petal &amp; Stem</title>", body))
    assert got["business_social_links"] == (
        "https://www.pinterest.com/petalandstem, https://instagram.com/petalandstem"
    )


def test_services_come_from_the_list_its_heading_and_items_name() -> None:
    body = """
    <h2>Opening times</h2>
    <ul><li>Monday – Friday: 9am – 6pm</li><li>Saturday: 9am – 1pm</li><li>Sunday: closed</li></ul>
    <h2>Why choose us</h2>
    <ul><li>Family owned</li><li>Free quotes</li></ul>
    <h2>Prices</h2>
    <ul><li>Gel nails – $35</li><li>Pedicure – $40</li><li>Brow shaping – $15</li></ul>"""
    got = answers(page("<title>Nail Nook</title>", body))
    assert got["business_services"] == "Gel nails; Pedicure; Brow shaping"


def test_a_list_of_days_is_never_the_services() -> None:
    body = """<ul><li>Lundi à vendredi : 9h – 18h</li><li>Samedi : 9h – 12h</li>
    <li>Dimanche : fermé</li></ul><ul><li>Vidange</li><li>Freins</li><li>Pneus</li></ul>"""
    assert answers(page("<title>Garage Petit</title>", body, "fr"))["business_services"] == (
        "Vidange; Freins; Pneus"
    )


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("We offer dine-in, takeout, delivery and catering.",
         "Dine-in; Takeout; Delivery; Catering"),
        ("Our team handles roof repairs, gutter cleaning and skylight installs.",
         "Roof repairs; Gutter cleaning; Skylight installs"),
        ("Ofrecemos cortes, color y peinados para novias.",
         "Cortes; Color; Peinados para novias"),
        ("Wir bieten Inspektion, Ölwechsel und Reifenservice.",
         "Inspektion; Ölwechsel; Reifenservice"),
        ("Sur place, à emporter ou en livraison.", "Sur place; À emporter; En livraison"),
        ("Hacemos uñas de gel, pestañas y cejas.", "Uñas de gel; Pestañas; Cejas"),
        ("Nous faisons du pain, des viennoiseries et des gâteaux.",
         "Du pain; Des viennoiseries; Des gâteaux"),
        ("Eat in or carry out. We also cater weddings.", "Eat in; Carry out; Catering"),
    ],
)  # fmt: skip
def test_services_stated_only_in_prose(sentence: str, expected: str) -> None:
    body = f"<h1>Corner Spot</h1><p>A neighbourhood favourite since 1999. {sentence}</p>"
    assert answers(page("<title>Corner Spot</title>", body))["business_services"] == expected


def test_prose_that_lists_no_services_gives_none() -> None:
    body = "<p>We offer our thanks to every guest. We are open late on Fridays.</p>"
    assert "business_services" not in answers(page("<title>Corner Spot</title>", body))


@pytest.mark.parametrize(
    "policy",
    [
        "Custom orders need 7–13 days' notice, also on weekends.",
        "Groups of 8–12 people book on weekends only.",
        "Please cancel 24 hours ahead, Monday to Friday.",
        "Los pedidos tardan 3 a 5 días, también los sábados.",
    ],
)
def test_hours_are_not_read_from_prose_that_is_not_hours(policy: str) -> None:
    body = f"<h1>Petal &amp; Stem</h1><p>{policy}</p>"
    assert "business_working_hours" not in answers(page("<title>Petal &amp; Stem</title>", body))


def test_hours_outside_a_section_count_in_hours_like_context() -> None:
    body = "<p>Visit us!</p><p>Open Tuesday to Sunday 8am – 4pm.</p><p>Sa 9-12</p>"
    assert answers(page("<title>Cafe</title>", body))["business_working_hours"] == (
        "Tu-Fr 08:00-16:00; Sa 08:00-16:00, 09:00-12:00; Su 08:00-16:00"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Abierto las 24 horas", "Mo-Su 00:00-24:00"),
        ("24 Stunden geöffnet", "Mo-Su 00:00-24:00"),
        ("Termine bitte 24 Stunden vorher absagen", ""),
        ("Cancellations need 24 hours notice", ""),
        ("Mon-Fri 9-5; courses last 6-8 weeks", "Mo-Fr 09:00-17:00"),
    ],
)
def test_round_the_clock_and_durations(text: str, expected: str) -> None:
    assert format_hours(parse_hours(text)) == expected


SPANISH_TEXT = (
    "<h1>Flores del Barrio</h1><p>Ramos de temporada y plantas para tu casa, con entrega en "
    "el día. Trabajamos con los productores de la sierra y las mejores flores del mercado "
    "para que todos los ramos duren más.</p>"
)


def test_language_comes_from_the_text_when_the_markup_lies() -> None:
    got = answers(page("<title>Flores del Barrio</title>", SPANISH_TEXT, lang="en-US"))
    assert got["business_language"] == "Spanish (es)"


def test_language_from_the_markup_stands_when_the_text_agrees_or_is_short() -> None:
    assert answers(page("<title>Shop</title>", SPANISH_TEXT, "es-MX"))["business_language"] == (
        "Spanish (es-MX)"
    )
    short = "<p>Hola y bienvenidos.</p>"
    assert answers(page("<title>Shop</title>", short, "en"))["business_language"] == (
        "English (en)"
    )
    italian = "<p>Benvenuti nella nostra pasticceria, con i dolci della tradizione.</p>"
    assert answers(page("<title>Shop</title>", italian, "it"))["business_language"] == (
        "Italian (it)"
    )


@pytest.mark.parametrize(
    "banner",
    [
        '<div id="cookie-notice"><p>We use cookies to improve your experience on our website '
        "and to show you relevant offers.</p><button>Accept</button></div>",
        '<section class="notice"><p>Nous utilisons des cookies pour mesurer l\'audience de '
        "ce site et améliorer votre expérience.</p><button>OK</button></section>",
    ],
)
def test_cookie_banners_are_not_the_description(banner: str) -> None:
    body = (
        f"{banner}<h1>Petal &amp; Stem</h1><p>Seasonal bouquets, potted plants and wedding "
        "flowers, arranged by hand in our studio off Market Street.</p>"
    )
    got = answers(page("<title>Petal &amp; Stem</title>", body))
    assert got["business_description"].startswith("Seasonal bouquets")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Little Fox Bakery · $ · West End", "$"),
        ("<span class=price>€€€</span>", "€€€"),
        ("Prices from $5", ""),
        ("Haircut ab 28 €", ""),
    ],
)
def test_price_range_stated_in_the_text(line: str, expected: str) -> None:
    got = answers(page("<title>Shop</title>", f"<header><p>{line}</p></header>"))
    assert got.get("business_price_range", "") == expected


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("Shop 2, Harbour Arcade<br>Brighton<br>BN1 1AA",
         "Shop 2, Harbour Arcade, Brighton, BN1 1AA"),
        ("Avenida de la Reforma 222, Juárez, 06600 Ciudad de México",
         "Avenida de la Reforma 222, Juárez, 06600 Ciudad de México"),
        ("Hauptstraße 5<br>10827 Berlin<br>Tel. 030 1234567", "Hauptstraße 5, 10827 Berlin"),
    ],
)  # fmt: skip
def test_footer_addresses_over_several_lines(lines: str, expected: str) -> None:
    body = f"<h1>Shop</h1><footer><p>{lines}</p></footer>"
    assert answers(page("<title>Shop</title>", body))["business_address"] == expected


def test_incidental_mentions_do_not_decide_the_industry() -> None:
    described = facts(
        business_name="Petal & Stem",
        business_description="Fresh flowers and bouquets. We deliver to restaurants and hotels.",
    )
    assert classify_industry(described) == "Retail"


def test_a_bakerys_cookies_are_not_a_cookie_banner() -> None:
    body = """<h1>Crumb &amp; Co</h1><div class="cookie-box"><p>Brown-butter chocolate chip
    cookies, baked every morning, by the dozen or in gift tins for your office.</p>
    <button>Order</button></div>"""
    got = answers(page("<title>Crumb &amp; Co</title>", body))
    assert got["business_description"].startswith("Brown-butter chocolate chip cookies")
