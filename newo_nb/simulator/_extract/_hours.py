"""Opening hours: from schema.org data, else from an hours section, read by a small parser
of hours as people write them in English, Spanish, German and French."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ._page import Page, headed_sections, marked_sections
from ._text import fold, plain, visible_lines


def read_working_hours(page: Page) -> str:
    schedule = _schedule_from_specification(page.business.get("openingHoursSpecification"))
    if schedule:
        return format_hours(schedule)
    stated = page.business.get("openingHours")
    if stated:
        texts = [plain(s) for s in (stated if isinstance(stated, list) else [stated])]
        return format_hours(parse_hours("; ".join(texts))) or "; ".join(texts)
    return _visible_hours(page)


_HOURS_HEADINGS = re.compile(
    r"\b(hours|opening times|when we.?re open|horario|horarios|offnungszeiten|sprechzeiten|"
    r"horaires|heures d.ouverture)\b"
)
_HOURS_MARKS = ("hours", "horario", "oeffnungszeiten", "öffnungszeiten", "horaires", "opening")


def _visible_hours(page: Page) -> str:
    """The hours block that states the most days; else any lines that state some."""
    blocks = [visible_lines(node) for node in marked_sections(page, _HOURS_MARKS)]
    blocks += [
        [line for n in section for line in visible_lines(n)]
        for section in headed_sections(page, _HOURS_HEADINGS)
    ]
    best = max((parse_hours("\n".join(b)) for b in blocks), key=len, default={})
    if not best:
        stated = [line for line in visible_lines(page.body) if _hours_like(line)]
        best = parse_hours("\n".join(stated))
    return format_hours(best)


# Words that say a line outside an hours section is about opening hours.
_OPENING_WORDS = re.compile(
    r"\b(open|opening|hours|abiert[oa]s?|horarios?|atencion|geoffnet|offen|offnungszeiten|"
    r"sprechzeiten|ouvert|ouverte|ouverture|horaires)\b"
)
# A time written as a time of day ("9:00", "5pm", "19h30", "18 Uhr"), not a bare count.
_CLOCK_TIME = re.compile(r"\b\d{1,2}(?:[:.h]\d{2}\b|\s?[ap]\.?\s?m\b|\s?(?:uhr|h)\b)")
_SCHEDULE_FILLERS = frozenset({"am", "pm", "a", "p", "m", "h", "from", "de", "des", "von", "du"})


def _hours_like(line: str) -> bool:
    """A line outside an hours section counts only in hours-like context: it says "open" or
    "hours", writes times as clock times ("9:00 AM – 5:30 PM"), or is little but days and
    numbers ("Mon-Fri 9-5, Sat 10-2"); so a policy such as "Cancel 2-3 days ahead on
    weekends" is not read as opening hours."""
    if not parse_hours(line):
        return False
    folded = fold(line)
    if _OPENING_WORDS.search(folded) or _CLOCK_TIME.search(folded):
        return True
    other = [w for w in re.findall(r"[a-z]+", folded) if not _schedule_word(w)]
    return len(other) <= 2


def _schedule_word(word: str) -> bool:
    return (
        word in _DAY_NAMES
        or word.removesuffix("s") in _DAY_NAMES
        or word in _DAY_ABBREVIATIONS
        or word in _DAY_GROUPS
        or word in _RANGE_WORDS
        or word in _LIST_WORDS
        or word in _CLOSED_WORDS
        or word in _SCHEDULE_FILLERS
    )


_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _schedule_from_specification(value: Any) -> dict[int, list[tuple[str, str]]]:
    specs = value if isinstance(value, list) else [value]
    schedule: dict[int, list[tuple[str, str]]] = {}
    for spec in (s for s in specs if isinstance(s, dict)):
        opens, closes = _clock(spec.get("opens")), _clock(spec.get("closes"))
        days = spec.get("dayOfWeek") or []
        for day in days if isinstance(days, list) else [days]:
            name = str(day).rstrip("/").rsplit("/", 1)[-1]
            if name in _WEEKDAYS and opens and closes and opens != closes:
                schedule.setdefault(_WEEKDAYS.index(name), []).append((opens, closes))
    return schedule


def _clock(value: Any) -> str:
    found = re.match(r"\s*(\d{1,2}):(\d{2})", str(value or ""))
    return f"{int(found.group(1)):02d}:{found.group(2)}" if found else ""


# Day names as they are written, accents folded, mapped to 0 = Monday.
_DAY_NAMES: dict[str, int] = {
    **{d.lower(): i for i, d in enumerate(_WEEKDAYS)},
    **dict.fromkeys(("lunes", "lundi", "montag"), 0),
    **dict.fromkeys(("martes", "mardi", "dienstag"), 1),
    **dict.fromkeys(("miercoles", "mercredi", "mittwoch"), 2),
    **dict.fromkeys(("jueves", "jeudi", "donnerstag"), 3),
    **dict.fromkeys(("viernes", "vendredi", "freitag"), 4),
    **dict.fromkeys(("sabado", "samedi", "samstag", "sonnabend"), 5),
    **dict.fromkeys(("domingo", "dimanche", "sonntag"), 6),
}
# Abbreviations count only where a list, a range or a time follows ("we are" is not "We").
_DAY_ABBREVIATIONS: dict[str, int] = {
    **dict.fromkeys(("mon", "mo", "lun", "lu"), 0),
    **dict.fromkeys(("tue", "tues", "tu", "mar", "di"), 1),
    **dict.fromkeys(("wed", "weds", "we", "mie", "mer", "mi"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "th", "jue", "jeu", "do"), 3),
    **dict.fromkeys(("fri", "fr", "vie", "ven"), 4),
    **dict.fromkeys(("sat", "sa", "sab", "sam"), 5),
    **dict.fromkeys(("sun", "su", "dom", "dim", "so"), 6),
}
_DAY_GROUPS: dict[str, tuple[int, ...]] = {
    "daily": tuple(range(7)),
    "weekdays": tuple(range(5)),
    "weekday": tuple(range(5)),
    "weekends": (5, 6),
    "weekend": (5, 6),
    "werktags": tuple(range(5)),
}
_RANGE_WORDS = frozenset(
    {"to", "thru", "through", "till", "til", "until", "a", "al", "bis", "au", "-"}
)
_LIST_WORDS = frozenset({",", "&", "and", "y", "und", "et", "+", "/"})
_CLOSED_WORDS = frozenset({"closed", "cerrado", "geschlossen", "ferme", "ruhetag"})

# Phrases rewritten before tokenising, so that "Open 7 days" and "24/7" read as days.
_HOURS_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        # "24 hours" alone may be a notice period ("cancel 24 hours ahead"): it means
        # round the clock only beside "open", "a day", "every day" and their translations
        re.compile(
            r"24\s*/\s*7|rund um die uhr|jour et nuit|"
            r"\b(open|abiert[oa]s?|ouverte?|geoffnet)\s*:?\s*(las\s+)?24\s*(h(ou)?rs?|horas|heures|h|"
            r"stunden)\b|"
            r"\b24\s*(h(ou)?rs?|horas|heures|h|stunden)\s*(a day|/\s*24|al dia|par jour|am tag|"
            r"todos los dias|tous les jours|taglich|every ?day|7 days|open|geoffnet|ouvert)"
        ),
        " daily 00:00-24:00 ",
    ),
    (
        re.compile(
            r"\b(7|seven) days( a week)?|every ?day|todos los dias|tous les jours|"
            r"taglich|all week"
        ),
        " daily ",
    ),
    (re.compile(r"\b(noon|midday|mediodia|midi|mittag)\b"), " 12:00 "),
    (re.compile(r"\b(midnight|medianoche|minuit|mitternacht)\b"), " 24:00 "),
    (re.compile(r"\buhr\b"), " "),
)
_HOURS_TOKEN = re.compile(
    r"(?P<time>(?<![\d/])\d{1,2}(?:[:.h]\d{2}|\s?h(?:\s?\d{2})?\b)?(?:\s*[ap]\.?\s?m\b\.?)?(?![\d/]))"
    r"|(?P<word>[a-z]+)|(?P<mark>[-,&+/;\n|])"
)


def parse_hours(text: str) -> dict[int, list[tuple[str, str]]]:
    """Opening hours written by people, as day (0 = Monday) → ``[("09:00", "18:00"), ...]``.

    Reads "Mon–Fri 9am-6pm", "Tues thru Sat: 10 to 7", "Mo-Fr 09:00-18:00", "Open 7 days",
    "De lunes a viernes de 9:00 a 14:00" and "Du mardi au samedi : 7h – 19h30". Closed days
    are left out.

    >>> parse_hours("Mon-Wed 9am-5pm")
    {0: [('09:00', '17:00')], 1: [('09:00', '17:00')], 2: [('09:00', '17:00')]}
    """
    folded = fold(text).replace("–", "-").replace("—", "-").replace("−", "-")
    for pattern, replacement in _HOURS_PHRASES:
        folded = pattern.sub(replacement, folded)
    tokens = [
        m.group(0) if m.group("mark") else re.sub(r"\s", "", m.group(0))
        for m in _HOURS_TOKEN.finditer(folded)
    ]
    return {d: r for d, r in sorted(_read_hours_tokens(tokens).items()) if r}


def _read_hours_tokens(tokens: list[str]) -> dict[int, list[tuple[str, str]]]:
    reader = _HoursReader()
    i = 0
    while i < len(tokens):
        days, used = _days_at(tokens, i)
        if days:
            reader.days(days)
        else:
            span, used = _time_range_at(tokens, i)
            if span and _counts_something_else(tokens, i + used):
                span = None  # "7-10 days' notice", "groups of 8-12 people": not hours
            elif span or tokens[i] in _CLOSED_WORDS:
                reader.hours(span)
            elif tokens[i] in _HARD_BREAKS:
                reader.hard_break()
        i += used or 1
    return reader.schedule


_HARD_BREAKS = frozenset({";", "\n", "|"})
# Units a number range counts when it is not a time of day, in the four languages.
# fmt: off
_UNITS = frozenset({
    "day", "days", "business", "working", "week", "weeks", "month", "months", "year", "years",
    "minute", "minutes", "min", "mins", "people", "persons", "guests", "kids", "children",
    "dias", "semanas", "meses", "anos", "personas", "minutos", "jours", "semaines", "mois",
    "ans", "personnes", "tage", "tagen", "wochen", "monate", "jahre", "personen", "minuten",
    "percent", "pct",
})
# fmt: on


def _counts_something_else(tokens: list[str], after: int) -> bool:
    return after < len(tokens) and tokens[after] in _UNITS


@dataclass
class _HoursReader:
    """Days accumulate until hours (or "closed") are given to them; "9-5 Mon-Fri" works too."""

    schedule: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    pending: list[int] = field(default_factory=list)
    given: bool = False  # whether the pending days already got their hours
    orphan: tuple[str, str] | None = None  # hours read before any day
    time_first: bool = False  # the text writes hours before days: "11AM-10PM Sun-Thu, ..."
    last: tuple[str, str] | None = None  # the hours given last

    def days(self, days: list[int]) -> None:
        if self.given and self.time_first and self.last:  # "11AM-11PM Fri & Sat": more days
            self.pending = days
            self._give(self.last)
            return
        if self.given:
            self.pending, self.given = [], False
        self.pending += days
        if self.orphan:
            self._give(self.orphan)
            self.orphan, self.time_first = None, True

    def hours(self, span: tuple[str, str] | None) -> None:
        if self.given and self.time_first:  # in time-first text, new hours start a new group
            self.pending, self.given = [], False
        if self.pending:
            self._give(span)
        else:
            self.orphan = span

    def _give(self, span: tuple[str, str] | None) -> None:
        for day in self.pending:
            spans = self.schedule.setdefault(day, [])
            if span and span not in spans:
                spans.append(span)
        self.given, self.last = True, span

    def hard_break(self) -> None:
        """A new line or ";" ends a group that got its hours: "Mon 9-5; 10-2 Sat"."""
        if self.given:
            self.pending, self.given, self.time_first = [], False, False


def _days_at(tokens: list[str], i: int) -> tuple[list[int], int]:
    """The days named at ``tokens[i]`` (a day, a range of days or a group) and tokens used."""
    if tokens[i] in _DAY_GROUPS:
        return list(_DAY_GROUPS[tokens[i]]), 1
    first = _day(tokens, i)
    if first is None:
        return [], 0
    if i + 2 < len(tokens) and tokens[i + 1] in _RANGE_WORDS:
        last = _day(tokens, i + 2)
        if last is not None:
            return [(first + k) % 7 for k in range((last - first) % 7 + 1)], 3
    return [first], 1


def _day(tokens: list[str], i: int) -> int | None:
    word = tokens[i]
    for form in (word, word[:-1] if word.endswith("s") else word):
        if form in _DAY_NAMES:
            return _DAY_NAMES[form]
    if word in _DAY_ABBREVIATIONS:
        after = tokens[i + 1] if i + 1 < len(tokens) else "\n"
        listed = after in _RANGE_WORDS or after in _LIST_WORDS or after in {";", "\n", "|"}
        if listed or _is_time(after) or after in _CLOSED_WORDS or _day_name(after):
            return _DAY_ABBREVIATIONS[word]
    return None


def _day_name(word: str) -> bool:
    return word in _DAY_NAMES or (len(word) >= 3 and word in _DAY_ABBREVIATIONS)


_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2})|h)?\s*(?:([ap])\.?\s?m\.?)?")


def _is_time(token: str) -> bool:
    found = _TIME.fullmatch(token)
    return found is not None and int(found.group(1)) <= 24


def _time_range_at(tokens: list[str], i: int) -> tuple[tuple[str, str] | None, int]:
    if i + 2 >= len(tokens) or not (_is_time(tokens[i]) and _is_time(tokens[i + 2])):
        return None, 0
    if tokens[i + 1] not in _RANGE_WORDS:
        return None, 0
    return _resolve_range(tokens[i], tokens[i + 2]), 3


def _resolve_range(opening: str, closing: str) -> tuple[str, str]:
    """24-hour times for a range, settling am/pm the way a reader would ("10 to 7" → 10-19)."""
    oh, om, omer = _clock_parts(opening)
    ch, cm, cmer = _clock_parts(closing)
    if omer is None and cmer == "p" and oh < 12 and oh <= ch % 12:
        oh += 12  # "1-5pm": both afternoon
    elif cmer is None and ch < 12 and (ch, cm) <= (oh, om) and ch != 0:
        ch += 12  # "10 to 7", "10am-6": closing after opening
    if ch == 0 and (oh, om) > (0, 0):
        ch = 24  # closing at midnight
    if oh == 24:
        oh = 0
    return f"{oh:02d}:{om:02d}", f"{ch:02d}:{cm:02d}"


def _clock_parts(token: str) -> tuple[int, int, str | None]:
    found = _TIME.fullmatch(token)
    assert found is not None  # checked by _is_time
    hour, minute, meridiem = int(found.group(1)), int(found.group(2) or 0), found.group(3)
    if meridiem == "p" and hour < 12:
        hour += 12
    elif meridiem == "a" and hour == 12:
        hour = 0
    return hour, minute, meridiem


_DAY_CODES = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")


def format_hours(schedule: dict[int, list[tuple[str, str]]]) -> str:
    """One readable line, consecutive days with the same hours grouped.

    >>> format_hours({0: [("09:00", "18:00")], 1: [("09:00", "18:00")], 5: [("10:00", "14:00")]})
    'Mo-Tu 09:00-18:00; Sa 10:00-14:00'
    """
    groups: list[tuple[int, int, list[tuple[str, str]]]] = []
    for day in sorted(d for d in schedule if schedule[d]):
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == schedule[day]:
            groups[-1] = (groups[-1][0], day, schedule[day])
        else:
            groups.append((day, day, schedule[day]))
    return "; ".join(_format_group(first, last, spans) for first, last, spans in groups)


def _format_group(first: int, last: int, spans: list[tuple[str, str]]) -> str:
    days = _DAY_CODES[first] if first == last else f"{_DAY_CODES[first]}-{_DAY_CODES[last]}"
    return f"{days} " + ", ".join(f"{o}-{c}" for o, c in spans)


def is_hours_line(text: str) -> bool:
    """Whether a line states opening hours or starts with a day: "Sundays: closed" too."""
    words = re.findall(r"[a-z]+", fold(text))
    first = words[0] if words else ""
    starts_with_day = first in _DAY_GROUPS or any(
        form in _DAY_NAMES for form in (first, first.removesuffix("s"))
    )
    return starts_with_day or bool(parse_hours(text))
