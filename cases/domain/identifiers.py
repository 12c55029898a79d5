"""Finding patient identifiers in text: one detector for page words and for free text.

Pure Python, no Django: the case's own identity (``Identity``) plus generic patterns that
catch identifiers of anyone (other NHS numbers, clinicians, hospitals). The same
``find`` serves the partner file's free text, the words of a rasterised record page
(``find_in_words``) and the verification pass over a rendered partner file.

Two sorts of hit:
- ``identity`` hits are the case's own identifiers: always redacted, and any one of them in
  a rendered partner file blocks its approval;
- generic hits (a clinician's name, any valid NHS number, a hospital) are redacted by default
  but a coordinator may keep them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

import phonenumbers

from cases.domain.places import chinese_place_names

# --- What we look for --------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Everything known about who the case is about, as typed on the enquiry.

    Names are whole names ("Mark Hope", "Anne-Marie O'Neill", "王小明"); the detector
    derives titles, initials, possessives and the parts of hyphenated names itself.
    """

    names: tuple[str, ...] = ()
    date_of_birth: date | None = None
    nhs_number: str = ""
    postcodes: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    address_lines: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()  # hospitals, trusts, GP practices
    clinicians: tuple[str, ...] = ()

    def strings(self) -> list[str]:
        """Every identifier as written, for messages and tests."""
        values = [*self.names, self.nhs_number, *self.postcodes, *self.phones, *self.emails]
        values += [*self.address_lines, *self.providers, *self.clinicians]
        if self.date_of_birth:
            values.append(self.date_of_birth.isoformat())
        return [value for value in values if value]


@dataclass(frozen=True)
class Hit:
    kind: str  # "name", "date of birth", "NHS number", ...
    text: str  # as found
    start: int
    end: int
    identity: bool  # the case's own identifier (always redacted, blocks release)


# --- Words -> text and back ------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """One word on a page, with its box in page pixels (left, top, right, bottom)."""

    text: str
    box: tuple[int, int, int, int]
    line: int = 0  # words with the same number are on one line
    confidence: float = 100.0


@dataclass
class WordHit:
    kind: str
    text: str
    identity: bool
    words: list[int] = field(default_factory=list)  # indexes into the page's words


def join_words(words: Sequence[Word]) -> tuple[str, list[tuple[int, int]]]:
    """The page as text (spaces between words, newlines between lines) and each word's span."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    position = 0
    previous_line: int | None = None
    for word in words:
        if previous_line is not None:
            separator = " " if word.line == previous_line else "\n"
            parts.append(separator)
            position += 1
        spans.append((position, position + len(word.text)))
        parts.append(word.text)
        position += len(word.text)
        previous_line = word.line
    return "".join(parts), spans


def find_in_words(words: Sequence[Word], identity: Identity) -> list[WordHit]:
    """Identifiers among a page's words, each with the words that must be covered."""
    text, spans = join_words(words)
    found: list[WordHit] = []
    for hit in find(text, identity):
        covered = [i for i, (start, end) in enumerate(spans) if start < hit.end and end > hit.start]
        if covered:
            found.append(WordHit(hit.kind, hit.text, hit.identity, covered))
    # OCR misreads a letter now and then ("Hcpe"); a near miss of a distinctive name part
    # is still the name.
    fuzzy_targets = _fuzzy_name_parts(identity)
    if fuzzy_targets:
        already = {i for hit in found for i in hit.words}
        for index, word in enumerate(words):
            if index in already:
                continue
            token = _fold(word.text.strip(".,;:()[]'’\"").removesuffix("'s").removesuffix("’s"))
            if len(token) >= 5 and any(_within_one_edit(token, part) for part in fuzzy_targets):
                found.append(WordHit("name", word.text, True, [index]))
    return found


# --- The detector ------------------------------------------------------------------------------

TITLES = (
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "dr",
    "doctor",
    "prof",
    "professor",
    "sir",
    "dame",
    "lady",
    "lord",
    "rev",
    "sister",
    "nurse",
    "master",
)
# "Or" is how OCR often reads "Dr"; only ever a prefix of the case's own names, so taking
# it into a box costs nothing.
_TITLE = r"(?:" + "|".join((*TITLES, "or")) + r")\.?"
_TITLE_CASED = (
    r"(?:"
    + "|".join(t.capitalize() for t in TITLES)
    + r"|"
    + "|".join(t.upper() for t in TITLES)
    + r")\.?"
)

# Names that are also ordinary words ("Mark Hope", "Grace Hill"): on their own, in lower
# case or away from the rest of the name they are words, not the patient.
COMMON_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "bell",
        "best",
        "bird",
        "black",
        "bloom",
        "blue",
        "bond",
        "bone",
        "born",
        "brown",
        "bush",
        "but",
        "by",
        "can",
        "care",
        "carter",
        "case",
        "chance",
        "child",
        "church",
        "clay",
        "close",
        "cook",
        "cross",
        "dale",
        "date",
        "day",
        "dean",
        "dear",
        "do",
        "down",
        "drake",
        "early",
        "east",
        "english",
        "even",
        "fair",
        "faith",
        "field",
        "fine",
        "fish",
        "fisher",
        "ford",
        "fox",
        "frank",
        "free",
        "friend",
        "gay",
        "gift",
        "glass",
        "gold",
        "good",
        "grace",
        "grant",
        "gray",
        "green",
        "grey",
        "hall",
        "hand",
        "happy",
        "hardy",
        "hart",
        "have",
        "head",
        "heart",
        "her",
        "hill",
        "his",
        "holly",
        "home",
        "hope",
        "house",
        "hunt",
        "ivy",
        "jack",
        "james",
        "joy",
        "judge",
        "just",
        "key",
        "king",
        "lake",
        "lamb",
        "lane",
        "law",
        "lee",
        "little",
        "long",
        "love",
        "low",
        "major",
        "march",
        "mark",
        "marsh",
        "mason",
        "may",
        "mercy",
        "moon",
        "more",
        "moss",
        "new",
        "north",
        "oak",
        "old",
        "on",
        "page",
        "park",
        "patience",
        "pay",
        "pearl",
        "penny",
        "person",
        "pierce",
        "pink",
        "play",
        "poor",
        "pope",
        "post",
        "power",
        "price",
        "pride",
        "read",
        "reading",
        "reed",
        "rich",
        "rose",
        "ross",
        "round",
        "row",
        "royal",
        "rush",
        "sage",
        "sale",
        "savage",
        "say",
        "see",
        "shaw",
        "short",
        "sharp",
        "sky",
        "small",
        "smart",
        "snow",
        "south",
        "spring",
        "stone",
        "storm",
        "street",
        "strong",
        "summer",
        "swan",
        "taylor",
        "the",
        "then",
        "tree",
        "true",
        "tucker",
        "turner",
        "victor",
        "wall",
        "ward",
        "ware",
        "warren",
        "waters",
        "way",
        "webb",
        "well",
        "wells",
        "west",
        "white",
        "will",
        "win",
        "wing",
        "winter",
        "wise",
        "wood",
        "woods",
        "young",
    ]
)


def _fold(text: str) -> str:
    """Lower case without accents, curly apostrophes straightened."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'"))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def _is_cjk(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text)


def _name_parts(name: str) -> list[str]:
    """ "Anne-Marie O'Neill" -> ["Anne-Marie", "Anne", "Marie", "O'Neill"]."""
    parts: list[str] = []
    for token in re.split(r"[\s,()（）]+", name.strip()):
        token = token.strip(".")
        if not token:
            continue
        if _is_cjk(token):
            continue
        parts.append(token)
        if "-" in token:
            parts += [piece for piece in token.split("-") if piece]
    return parts


def _fuzzy_name_parts(identity: Identity) -> set[str]:
    return {
        _fold(part)
        for name in identity.names
        for part in _name_parts(name)
        if len(part) >= 5 and _fold(part) not in COMMON_WORDS
    }


def _within_one_edit(a: str, b: str) -> bool:
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _flexible(text: str) -> str:
    """A regex for ``text`` that allows any spacing (OCR and typing both vary it)."""
    pieces = [re.escape(c) for c in text if not c.isspace()]
    apostrophes = "['’]"
    return r"\s*".join(apostrophes if p in {"'", "’", "\\'"} else p for p in pieces)


_POSSESSIVE = r"(?:['’]s|['’])?"
_INITIAL = r"(?:[A-Z]\.?\s*){1,3}"


def _name_patterns(identity: Identity) -> list[re.Pattern[str]]:
    patterns: list[re.Pattern[str]] = []
    parts: set[str] = set()
    for name in identity.names:
        if _is_cjk(name):
            # Chinese names are written without spaces; OCR may put spaces between characters.
            for form in {name.replace(" ", ""), *re.findall(r"[\u3400-\u9fff]{2,}", name)}:
                patterns.append(re.compile(_flexible(form)))
            continue
        words = [p for p in re.split(r"\s+", name.strip()) if p]
        if len(words) >= 2:
            # The whole name in either order ("Hope, Mark"), any case.
            full = r"\s+".join(_flexible(w) for w in words)
            reverse = (
                _flexible(words[-1]) + r",?\s+" + r"\s+".join(_flexible(w) for w in words[:-1])
            )
            for form in (full, reverse):
                patterns.append(
                    re.compile(rf"(?:{_TITLE}\s+)?(?<!\w){form}{_POSSESSIVE}(?!\w)", re.I)
                )
            # "M. Hope", "M Hope", "MJ Hope", "Mr M. Hope": initials before the surname.
            patterns.append(
                re.compile(
                    rf"(?:{_TITLE_CASED}\s+)?(?<![\w.]){_INITIAL}\s*{_flexible(words[-1])}"
                    rf"{_POSSESSIVE}(?!\w)"
                )
            )
        parts |= set(_name_parts(name))
    for part in sorted(parts, key=len, reverse=True):
        if len(part) < 2:
            continue
        body = _flexible(part)
        if _fold(part) in COMMON_WORDS:
            # Only as a name: capitalised as one, and after a title ("Mrs Hope").
            capitalised = _flexible(part[0].upper() + part[1:].lower())
            upper = _flexible(part.upper())
            patterns.append(
                re.compile(
                    rf"{_TITLE_CASED}\s+(?:{_INITIAL}\s*)?(?:{capitalised}|{upper}){_POSSESSIVE}(?!\w)"
                )
            )
        else:
            patterns.append(re.compile(rf"(?:{_TITLE}\s+)?(?<!\w){body}{_POSSESSIVE}(?!\w)", re.I))
    return patterns


# Dates -------------------------------------------------------------------------------------

_MONTHS = {
    _fold(name): number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_OCR_LOOKALIKES = {"l": "[l1It|]", "i": "[i1l!]", "o": "[o0]", "s": "[s5]", "b": "[b6]"}


def _ocr_tolerant(word: str) -> str:
    """A regex for ``word`` that also accepts the letters OCR mistakes for others ("Apri1")."""
    return "".join(_OCR_LOOKALIKES.get(c, re.escape(c)) for c in word)


def _month_number(written: str) -> int:
    folded = _fold(written)
    if folded in _MONTHS:
        return _MONTHS[folded]
    for name, number in _MONTHS.items():
        if len(name) == len(folded) and re.fullmatch(_ocr_tolerant(name), folded):
            return number
    raise KeyError(written)


_MONTH = (
    r"(?P<mon>"
    + "|".join(_ocr_tolerant(m) for m in sorted(_MONTHS, key=len, reverse=True))
    + r")\.?"
)
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:1[89]|20)\d\d|'?\d\d)"
_SEP = r"\s*[./\-]\s*|\s+"
_DATE_PATTERNS = [
    # 03.04.1961, 3/4/61, 03-04-1961, 3 4 1961
    re.compile(rf"(?<![\d.])(?P<a>[0-3]?\d)(?:{_SEP})(?P<b>[01]?\d)(?:{_SEP}){_YEAR}(?![\d])"),
    # 1961-04-03, 1961/4/3
    re.compile(
        r"(?<!\d)(?P<year>(?:1[89]|20)\d\d)\s*[./\-]\s*(?P<b>[01]?\d)\s*[./\-]\s*(?P<a>[0-3]?\d)(?!\d)"
    ),
    # 3rd April 1961, 3 Apr. 61, 3-Apr-1961
    re.compile(rf"(?<!\w){_DAY}(?:\s+of)?[\s\-./]*{_MONTH}[\s\-./,]*{_YEAR}(?![\d])", re.I),
    # April 3, 1961; April 3rd 1961
    re.compile(rf"(?<!\w){_MONTH}[\s\-./]*{_DAY},?[\s\-./]*{_YEAR}(?![\d])", re.I),
    # 1961年4月3日
    re.compile(r"(?P<year>\d{4})\s*年\s*(?P<b>\d{1,2})\s*月\s*(?P<a>\d{1,2})\s*日"),
]
_BIRTH_LABEL = re.compile(
    r"(?:\bD\.?\s*O\.?\s*B\b\.?|\bdate\s+of\s+birth\b|\bborn\b|\bbirth\s*date\b|出生日期|出生)",
    re.I,
)


def _year(text: str) -> int:
    digits = text.lstrip("'")
    value = int(digits)
    if len(digits) == 2:
        # Two-digit years of birth: 61 -> 1961, 05 -> 2005 (nobody here was born in 2061).
        value += 2000 if value <= date.today().year % 100 else 1900
    return value


def _dates_in(text: str) -> Iterable[tuple[int, int, set[date]]]:
    """Each written date with the calendar dates it may mean (3/4/61: 3 April or 4 March)."""
    seen: set[tuple[int, int]] = set()
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            groups = match.groupdict()
            year = _year(groups["year"])
            candidates: set[date] = set()
            if groups.get("mon"):
                month = _month_number(groups["mon"])
                pairs = [(int(groups["day"]), month)]
            else:
                a, b = int(groups["a"]), int(groups["b"])
                pairs = [(a, b), (b, a)]
            for day, month in pairs:
                try:
                    candidates.add(date(year, month, day))
                except ValueError:
                    continue
            if candidates and (match.start(), match.end()) not in seen:
                seen.add((match.start(), match.end()))
                yield match.start(), match.end(), candidates


# Numbers and addresses ---------------------------------------------------------------------

_TEN_DIGITS = re.compile(r"(?<![\w.])\d(?:[ \t.\-/]?\d){9}(?![\w])")
_POSTCODE = re.compile(
    r"(?<![\w])(?:GIR\s?0AA|[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2})(?![\w])"
)
_EMAIL = re.compile(r"[\w.+\-]+\s?@\s?[\w\-]+(?:\.[\w\-]+)+")
_MRN = re.compile(
    r"(?<![\w])(?-i:(?!NHS\b)[A-Z]{2,4}\d?\s?\d{6,10}|\d{1,3}[A-Z]\d{5,8})(?![\w])"
    r"|(?:\b(?:MRN|Hospital\s+(?:No|Number)|Hosp\.?\s+No|Unit\s+No|Patient\s+ID|"
    r"K\s*number|RTX|CHI)\b\.?\s*[:#]?\s*)(?P<value>[A-Z0-9][A-Z0-9\-/]{4,})",
    re.I,
)
_STREET_WORDS = (
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Drive|Dr|Way|Court|Ct|Place|Pl|Crescent|"
    r"Gardens|Gdns|Terrace|Grove|Hill|Park|Square|Sq|Mews|Walk|Row|Rise|View|Green|Parade)"
)
_STREET = re.compile(
    rf"(?<![\w])(?:Flat\s+\d+[A-Z]?,?\s+)?\d{{1,4}}[A-Z]?,?\s+(?:[A-Z][a-z'’]+\s+){{1,3}}{_STREET_WORDS}\b\.?"
)
_PROVIDER_WORDS = (
    r"(?:Hospital|Infirmary|Medical\s+Centre|Health\s+Centre|Clinic|Surgery|Hospice|"
    r"NHS\s+(?:Foundation\s+)?Trust|University\s+Hospitals?|Health\s+Board|Practice)"
)
_PROVIDER = re.compile(
    rf"(?:(?:The|St\.?|Saint)\s+)?(?:[A-Z][A-Za-z'’&\-]+\s+){{1,4}}{_PROVIDER_WORDS}\b"
)
# A title and a capitalised name: "Dr Ahmed", "Professor J. K. Lee", "Mr O'Brien".
_PERSON = re.compile(
    r"(?<![\w])(?:Dr|Doctor|Prof|Professor|Mr|Mrs|Ms|Miss|Mx|Sister|Nurse)\.?\s+"
    r"(?:[A-Z]\.?\s*){0,3}[A-Z][a-zA-Z'’\-]+(?:\s+[A-Z][a-zA-Z'’\-]+)?"
)
_CONSULTANT = re.compile(
    r"\b(?:Consultant|Registrar|Clinician|Oncologist|Surgeon|GP)\b\s*[:\-]\s*"
    r"(?P<value>[A-Z][a-zA-Z'’\-]+(?:\s+[A-Z][a-zA-Z'’\-]+){0,2})"
)

# Words a provider's name shares with every other provider: never evidence on their own.
_GENERIC_PROVIDER_WORDS = frozenset(
    [
        "nhs",
        "foundation",
        "trust",
        "hospital",
        "hospitals",
        "university",
        "the",
        "of",
        "and",
        "royal",
        "general",
        "infirmary",
        "medical",
        "centre",
        "center",
        "health",
        "clinic",
        "surgery",
        "practice",
        "st",
        "saint",
        "county",
        "district",
        "community",
        "teaching",
        "children's",
        "childrens",
        "women's",
        "womens",
        "board",
    ]
)


def nhs_number_valid(digits: str) -> bool:
    """The modulus 11 check every NHS number passes."""
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _phone_key(text: str) -> str:
    """A phone number's national significant number, whatever the writing."""
    try:
        number = phonenumbers.parse(text, "GB")
    except phonenumbers.NumberParseException:
        return _digits(text).lstrip("0")
    return str(number.national_number)


def _phones(text: str) -> Iterable[tuple[int, int, str]]:
    for match in phonenumbers.PhoneNumberMatcher(
        text, "GB", leniency=phonenumbers.Leniency.POSSIBLE
    ):
        digits = _digits(match.raw_string)
        if len(digits) >= 10:
            yield match.start, match.end, match.raw_string


def find(text: str, identity: Identity, *, generic: bool = True) -> list[Hit]:
    """Every possible identifier in ``text``, longest first where they overlap."""
    hits: list[Hit] = []

    def add(kind: str, start: int, end: int, own: bool) -> None:
        value = text[start:end].strip()
        if value:
            lead = len(text[start:end]) - len(text[start:end].lstrip())
            hits.append(Hit(kind, value, start + lead, start + lead + len(value), own))

    for pattern in _name_patterns(identity):
        for match in pattern.finditer(text):
            add("name", match.start(), match.end(), True)

    dob = identity.date_of_birth
    labels = [m.end() for m in _BIRTH_LABEL.finditer(text)]
    for start, end, candidates in _dates_in(text):
        if dob and dob in candidates:
            add("date of birth", start, end, True)
        elif generic and any(0 <= start - label <= 25 for label in labels):
            add("date of birth", start, end, False)

    own_nhs = _digits(identity.nhs_number)
    for match in _TEN_DIGITS.finditer(text):
        digits = _digits(match.group())
        if own_nhs and digits == own_nhs:
            add("NHS number", match.start(), match.end(), True)
        elif generic and nhs_number_valid(digits):
            add("NHS number", match.start(), match.end(), False)

    own_postcodes = {_digits_letters(p) for p in identity.postcodes if p}
    for postcode in identity.postcodes:
        if postcode.strip():
            # OCR sometimes slips a stray mark in ("LS$1 4AP").
            chars = [re.escape(c) for c in postcode if c.isalnum()]
            loose = r"[^\w\n]{0,2}".join(chars)
            for match in re.finditer(rf"(?<!\w){loose}(?!\w)", text, re.I):
                add("postcode", match.start(), match.end(), True)
    if generic:
        for match in _POSTCODE.finditer(text):
            own = _digits_letters(match.group()) in own_postcodes
            add("postcode", match.start(), match.end(), own)

    own_phones = {_phone_key(p) for p in identity.phones if _digits(p)}
    for start, end, raw in _phones(text):
        own = _phone_key(raw) in own_phones
        if own or generic:
            add("phone number", start, end, own)
    for phone in identity.phones:
        key = _phone_key(phone)
        if len(key) >= 9:
            # The same digits however they are broken up, with or without +44 / 0.
            flexible = r"[\s.\-()]*".join(key)
            prefix = r"(?:(?:\+|00)\s*44\s*(?:\(0\))?|0)?[\s.\-()]*"
            for match in re.finditer(rf"(?<!\d){prefix}{flexible}(?!\d)", text):
                add("phone number", match.start(), match.end(), True)

    own_emails = {_fold(e) for e in identity.emails if e}
    for match in _EMAIL.finditer(text):
        own = _fold(match.group().replace(" ", "")) in own_emails
        if own or generic:
            add("e-mail address", match.start(), match.end(), own)

    for email in identity.emails:
        local = email.split("@")[0]
        if len(local) >= 3:
            # However OCR mangles the domain, the address starts with the same local part.
            written = rf"(?<![\w.]){_flexible(local)}\s?[@©®]\s?\S*\w"
            for match in re.finditer(written, text, re.I):
                add("e-mail address", match.start(), match.end(), True)

    for line in identity.address_lines:
        if len(line.strip()) >= 4:
            for match in re.finditer(rf"(?<!\w){_flexible(line)}(?!\w)", text, re.I):
                add("address", match.start(), match.end(), True)

    for provider in identity.providers:
        for hit in _provider_hits(text, provider):
            add("provider", *hit, True)
    # The home town in a translated summary: 利兹 for an address in Leeds.
    for place in chinese_place_names((*identity.address_lines, *identity.providers)):
        for match in re.finditer(re.escape(place), text):
            add("address", match.start(), match.end(), True)
    for clinician in identity.clinicians:
        words = [w for w in clinician.split() if _fold(w).rstrip(".") not in TITLES]
        if words:
            surname = (
                rf"(?:{_TITLE}\s+)?(?:{_INITIAL}\s*)?{_flexible(words[-1])}{_POSSESSIVE}(?!\w)"
            )
            if len(words) > 1:
                full = r"\s+".join(_flexible(w) for w in words)
                surname = rf"(?:(?:{_TITLE}\s+)?{full}|{surname})"
            for match in re.finditer(rf"(?<!\w){surname}", text, re.I):
                add("clinician", match.start(), match.end(), True)

    if generic:
        for match in _MRN.finditer(text):
            if match.group("value"):
                add("hospital number", match.start("value"), match.end("value"), False)
            elif not _TEN_DIGITS.fullmatch(match.group()):
                add("hospital number", match.start(), match.end(), False)
        for match in _STREET.finditer(text):
            add("address", match.start(), match.end(), False)
        for match in _PROVIDER.finditer(text):
            add("provider", match.start(), match.end(), False)
        for match in _PERSON.finditer(text):
            add("person's name", match.start(), match.end(), False)
        for match in _CONSULTANT.finditer(text):
            add("person's name", match.start("value"), match.end("value"), False)

    return _without_overlaps(text, hits)


def _digits_letters(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text).upper()


def _provider_hits(text: str, provider: str) -> Iterable[tuple[int, int]]:
    provider = provider.strip()
    if len(provider) < 3:
        return
    yield from ((m.start(), m.end()) for m in re.finditer(_flexible(provider), text, re.I))
    # "The Royal Marsden" for "Royal Marsden NHS Foundation Trust": the distinctive word,
    # widened to the capitalised words around it so the whole name on a letterhead goes.
    for word in re.split(r"[\s,]+", provider):
        if len(word) < 4 or _fold(word) in _GENERIC_PROVIDER_WORDS:
            continue
        around = rf"(?:[A-Z][\w'’&\-]*\s+){{0,3}}{_flexible(word)}(?:\s+[A-Z][\w'’&\-]*){{0,4}}"
        for match in re.finditer(rf"(?<!\w){around}(?!\w)", text):
            yield match.start(), match.end()


def _without_overlaps(text: str, hits: list[Hit]) -> list[Hit]:
    """Merge overlapping hits into one span: named after the longer, the case's own if either is."""
    ordered = sorted(hits, key=lambda h: (h.start, -(h.end - h.start), not h.identity))
    merged: list[Hit] = []
    for hit in ordered:
        if merged and hit.start < merged[-1].end:
            last = merged[-1]
            start, end = last.start, max(last.end, hit.end)
            longer = hit if (hit.end - hit.start) > (last.end - last.start) else last
            own = last.identity or hit.identity
            merged[-1] = Hit(longer.kind, text[start:end], start, end, own)
            continue
        merged.append(hit)
    return merged
