"""British and American spellings of one word, brought to one form before stemming, so that
`decriminalisation`, `decriminalization`, `decriminalised` and `decriminalize` meet in search.

`american(word)` takes a lower-case, accent-folded word and returns the American spelling when
the word is a British one it knows, else the word unchanged. It is a rule set with word lists,
not a dictionary: no maintained package with a British/American word list exists on PyPI
(docs/architecture.md says which were looked at and why none was taken). Each rule is written
so that a word it does not know is left alone, and tests/test_search_words.py pins pairs that must
meet and words that must not change; the rules were checked against SCOWL's British-only and
common English word lists (Kevin Atkinson's, which VarCon belongs to).

Both sides of the index use it, the documents and the queries, so only consistency matters: a
word may map to a form nobody writes (`criticize` from `criticise` is real, but nothing is harmed
when a rare word becomes an unusual one), never to another word's form.
"""
from __future__ import annotations

import re
from functools import lru_cache

# Whole words whose spellings differ irregularly (British -> American), with their inflections.
_IRREGULAR = {
    "programme": "program", "programmes": "programs", "preprogramme": "preprogram",
    "defence": "defense", "defences": "defenses", "defenceless": "defenseless", "defencelessness": "defenselessness",
    "offence": "offense", "offences": "offenses", "pretence": "pretense", "pretences": "pretenses",
    "licence": "license", "licences": "licenses", "licenced": "licensed",
    "practise": "practice", "practised": "practiced", "practises": "practices", "practising": "practicing",
    "unpractised": "unpracticed", "practiser": "practicer", "ageing": "aging", "enrol": "enroll",
    "enrols": "enrolls", "enrolment": "enrollment", "enrolments": "enrollments", "fulfil": "fulfill",
    "fulfils": "fulfills", "fulfilment": "fulfillment", "instil": "instill", "instils": "instills",
    "distil": "distill", "distils": "distills", "instalment": "installment", "instalments": "installments",
    "skilful": "skillful", "skilfully": "skillfully", "skilfulness": "skillfulness", "wilful": "willful",
    "wilfully": "willfully", "wilfulness": "willfulness", "fuelled": "fueled", "fuelling": "fueling",
    "refuelled": "refueled", "refuelling": "refueling", "dialled": "dialed", "dialling": "dialing",
    "duelled": "dueled", "duelling": "dueling", "trialled": "trialed", "trialling": "trialing",
    "counsellor": "counselor", "counsellors": "counselors", "councillor": "councilor", "councillors": "councilors",
    "medallist": "medalist", "medallists": "medalists", "panellist": "panelist", "panellists": "panelists",
    "jewellery": "jewelry", "woollen": "woolen", "woollens": "woolens", "focussed": "focused",
    "focussing": "focusing", "focusses": "focuses", "refocussed": "refocused", "biassed": "biased",
    "biassing": "biasing", "learnt": "learned", "unlearnt": "unlearned", "dreamt": "dreamed", "spoilt": "spoiled",
    "aluminium": "aluminum", "artefact": "artifact", "artefacts": "artifacts", "gaol": "jail", "gaols": "jails",
    "gaoled": "jailed", "gaoler": "jailer", "cosy": "cozy", "cosier": "cozier", "cosiest": "coziest",
    "mollusc": "mollusk", "molluscs": "mollusks", "yoghurt": "yogurt", "aeon": "eon", "aeons": "eons",
}
# Word families: a pattern of the British forms (group 1 a prefix kept as it is, group 2 the
# ending), the American stem, and the American spelling of endings that change.
_FAMILIES = tuple((re.compile(pattern), stem, endings) for pattern, stem, endings in (
    (r"(.*)manoeuvr(e|es|ed|ing|ings|able|ability)", "maneuver", {"e": "", "es": "s"}),
    (r"()(catalog|dialog|analog)(ue|ues|ued|uing|uer|uers)", None,
     {"ue": "", "ues": "s", "ued": "ed", "uing": "ing", "uer": "er", "uers": "ers"}),
    (r"(re|)mould(s|ed|ing|ings|y|ier|iest|er|ers|ered|ering|)", "mold", {}),
    (r"()moult(s|ed|ing|)", "molt", {}),
    (r"()smoulder(s|ed|ing|)", "smolder", {}),
    (r"(snow|)plough(s|ed|ing|man|men|share|shares|able|boy|boys|er|ers|)", "plow", {}),
    (r"()grey(s|ed|er|est|ing|ish|ness|)", "gray", {}),
    (r"()scept(ic|ics|ical|ically|icism)", "skept", {}),
    (r"()enquir(e|es|ed|ing|y|ies|er|ers)", "inquir", {}),
    (r"()pyjama(s|)", "pajama", {}),
    (r"()moustache(s|d|)", "mustache", {}),
    (r"()sulph(ur|urs|uric|urous|ate|ates|ide|ides|ite|ites|onamide|onamides)", "sulf", {}),
))

# Greek and Latin digraphs written as one vowel in American spelling; each fragment occurs in no
# American word (checked against SCOWL), so it can be replaced wherever it stands; those marked
# with ^ only at the start of a word (`oestrogen`, but not `shoestring`).
_DIGRAPHS = (("paed", "ped"), ("haem", "hem"), ("anaes", "anes"), ("aesth", "esth"), ("^oesoph", "esoph"),
             ("^oestr", "estr"), ("^aetiol", "etiol"), ("gynaec", "gynec"), ("rrhoe", "rrhe"), ("^faec", "fec"),
             ("^foet", "fet"), ("^oedem", "edem"), ("coeliac", "celiac"), ("aemia", "emia"), ("aemic", "emic"),
             ("archaeo", "archeo"), ("palaeo", "paleo"), ("homoeo", "homeo"), ("apnoe", "apne"),
             ("dyspnoe", "dyspne"), ("amoeb", "ameb"), ("mediaev", "mediev"), ("^caesium", "cesium"),
             ("^oenolog", "enolog"), ("dgement", "dgment"))
_DIGRAPH = re.compile("|".join(f"^{b[1:]}" if b.startswith("^") else b for b, _ in _DIGRAPHS))
_DIGRAPH_US = {british.lstrip("^"): american for british, american in _DIGRAPHS}

# -our words (behaviour, honour...): the part before -our, so `four`, `hour`, `tour` and `our`
# itself are never touched; prefixes (dis-, mis-, un-, water-...) and the usual endings are.
_OUR_ROOTS = ("behavi", "col", "fav", "flav", "hon", "lab", "neighb", "rum", "hum", "tum", "vap", "vig", "rig",
              "arm", "harb", "od", "parl", "savi", "sav", "splend", "val", "ferv", "endeav", "demean", "cand",
              "ard", "clam", "succ", "ranc", "arb", "clang", "glam", "dol", "enam")
_OUR = re.compile(r"([a-z]*?)(" + "|".join(sorted(_OUR_ROOTS, key=len, reverse=True)) + r")our([a-z]*)")

# -tre words with an American -ter (centre, theatre, litre...), matched at the end of a word so
# that compounds (epicentre, kilometre, amphitheatre) follow; acre, genre, ogre, massacre,
# mediocre and timbre are not -ter words and are not listed.
_TRE = ("centre", "theatre", "metre", "litre", "fibre", "calibre", "sombre", "sabre", "spectre", "lustre",
        "meagre", "ochre", "sepulchre", "mitre", "nitre", "titre", "goitre", "saltpetre", "reconnoitre",
        "louvre", "accoutre", "philtre", "sceptre", "dioptre", "piastre", "bistre")
_TRE_FORM = re.compile(r"([a-z]*(?:" + "|".join(word[:-2] for word in _TRE) + r"))r(ed|ing|e|es|ely|eness|eless|ement|ements|egoer|egoers|eboard|eboards|epiece|epieces|efold|efolds|"
                       r"eline|elines|eglass|ewort|eworts)")

# -ise/-isation: the British ending of -ize verbs, after a consonant. Endings that are not -ize
# verbs in any spelling (advise, exercise, promise, franchise...) are left alone.
_ISE = re.compile(r"([a-z]{3,}?)is(e|es|ed|ing|ingly|er|ers|ation|ations|ational|ationally|able|ably|ability|"
                  r"ance|ances|ant|ement|ements)")
# the consonant before -ise -> the letters that may stand before it (None: any): organise, but
# not advise, despise, franchise; realise, authorise, dramatise, criticise, but not sunrise,
# advertise, excise; minimise and economise, but not premise
_ISE_AFTER = {"l": None, "n": None, "d": None, "g": None, "r": "aeiouty", "s": "aeioup", "t": "aeiouynpc",
              "m": "io", "c": "ia", "h": "tpc", "v": "i"}
_ISE_ALSO = ("baptise", "exorcise", "amortise", "itemise", "systemise", "euphemise", "loquise")
_NOT_IZE = ("promise", "treatise", "cerise", "merchandise", "paradise", "valise", "franchise")
_YSE = re.compile(r"([a-z]+l)ys(e|es|ed|ing|ingly|er|ers|ation|able)")


@lru_cache(maxsize=100_000)
def american(word: str) -> str:
    """The American spelling of a lower-case British `word`, or `word` if it knows none."""
    if len(word) < 4 or not word.isascii():
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    for family, stem, endings in _FAMILIES:
        if m := family.fullmatch(word):
            ending = m.group(m.lastindex)
            return m.group(1) + (stem or m.group(2)) + endings.get(ending, ending)
    if _DIGRAPH.search(word):
        word = _DIGRAPH.sub(lambda m: _DIGRAPH_US[m.group(0)], word)
    if "our" in word and (m := _OUR.fullmatch(word)):
        word = f"{m.group(1)}{m.group(2)}or{m.group(3) or ''}"
    if "r" in word and (m := _TRE_FORM.fullmatch(word)):
        ending = m.group(2)
        return m.group(1) + ("ered" if ending == "ed" else "ering" if ending == "ing" else "er" + ending[1:])
    if "ys" in word and (m := _YSE.fullmatch(word)):
        return f"{m.group(1)}yz{m.group(2)}"
    if "is" in word and (m := _ISE.fullmatch(word)) and _ize_verb(m.group(1)):
        return f"{m.group(1)}iz{m.group(2)}"
    return word


def _ize_verb(base: str) -> bool:
    """Whether `base` + "ise" is the British spelling of an -ize verb (organ-, legal-, critic-...)."""
    lemma = base + "ise"
    if lemma.endswith(_ISE_ALSO):
        return True
    if base[-1] not in _ISE_AFTER or lemma.endswith(_NOT_IZE):
        return False
    allowed = _ISE_AFTER[base[-1]]
    return allowed is None or base[-2] in allowed
