"""Chinese names of UK cities and towns, to find a patient's home town in Chinese text.

A summary translated into Chinese says 利兹, not "Leeds": the English address line no
longer matches. When a town below appears in the case's own address or provider, its
Chinese forms are looked for too. Keys are the English names as written in addresses;
each value lists the usual Simplified Chinese forms (some towns have two in common use).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

UK_PLACES_ZH: dict[str, tuple[str, ...]] = {
    "Aberdeen": ("阿伯丁",),
    "Bangor": ("班戈",),
    "Bath": ("巴斯",),
    "Belfast": ("贝尔法斯特",),
    "Birmingham": ("伯明翰",),
    "Blackburn": ("布莱克本",),
    "Blackpool": ("布莱克浦",),
    "Bolton": ("博尔顿",),
    "Bournemouth": ("伯恩茅斯",),
    "Bradford": ("布拉德福德", "布拉德福"),
    "Brighton": ("布莱顿",),
    "Bristol": ("布里斯托尔", "布里斯托"),
    "Cambridge": ("剑桥",),
    "Canterbury": ("坎特伯雷",),
    "Cardiff": ("卡迪夫",),
    "Chester": ("切斯特",),
    "Colchester": ("科尔切斯特",),
    "Coventry": ("考文垂",),
    "Derby": ("德比",),
    "Doncaster": ("唐卡斯特",),
    "Dundee": ("邓迪",),
    "Durham": ("达勒姆",),
    "Edinburgh": ("爱丁堡",),
    "Exeter": ("埃克塞特",),
    "Glasgow": ("格拉斯哥",),
    "Gloucester": ("格洛斯特",),
    "Hull": ("赫尔",),
    "Inverness": ("因弗内斯",),
    "Ipswich": ("伊普斯维奇",),
    "Lancaster": ("兰开斯特",),
    "Leeds": ("利兹",),
    "Leicester": ("莱斯特",),
    "Lincoln": ("林肯",),
    "Liverpool": ("利物浦",),
    "London": ("伦敦",),
    "Luton": ("卢顿",),
    "Manchester": ("曼彻斯特",),
    "Middlesbrough": ("米德尔斯堡",),
    "Milton Keynes": ("米尔顿凯恩斯",),
    "Newcastle": ("纽卡斯尔",),
    "Newport": ("纽波特",),
    "Northampton": ("北安普顿", "北安普敦"),
    "Norwich": ("诺里奇", "诺维奇"),
    "Nottingham": ("诺丁汉",),
    "Oxford": ("牛津",),
    "Peterborough": ("彼得伯勒",),
    "Plymouth": ("普利茅斯",),
    "Portsmouth": ("朴茨茅斯",),
    "Preston": ("普雷斯顿",),
    "Reading": ("雷丁",),
    "Salford": ("索尔福德",),
    "Sheffield": ("谢菲尔德",),
    "Southampton": ("南安普顿", "南安普敦"),
    "Stirling": ("斯特灵",),
    "Stoke": ("斯托克",),
    "Sunderland": ("桑德兰",),
    "Swansea": ("斯旺西",),
    "Swindon": ("斯温登",),
    "Wolverhampton": ("伍尔弗汉普顿",),
    "Worcester": ("伍斯特",),
    "York": ("约克",),
}

# Whole words only: "Chester" is not in "Manchester", "Hull" not in "Solihull".
_PLACES = {
    re.compile(rf"(?<![^\W\d_]){re.escape(name).replace(r'\ ', r'\s+')}(?![^\W\d_])", re.I): zh
    for name, zh in UK_PLACES_ZH.items()
}


@lru_cache(maxsize=256)
def _chinese_names_in(text: str) -> tuple[str, ...]:
    return tuple(name for pattern, zh in _PLACES.items() if pattern.search(text) for name in zh)


def chinese_place_names(texts: Iterable[str]) -> tuple[str, ...]:
    """The Chinese forms of every town in the table that ``texts`` name, longest first."""
    names = {name for text in texts for name in _chinese_names_in(text)}
    # Longest first, so "布里斯托尔" is taken whole rather than as "布里斯托" and a "尔".
    return tuple(sorted(names, key=lambda name: (-len(name), name)))
