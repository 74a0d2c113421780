"""Normalised Chinese addresses and site codes, so a partner's spelling meets ours.

NFKC folds full-width digits, letters and spaces to half-width; then spacing and punctuation go,
traditional and variant forms of 号/弄/栋 become one form, and the city and district prefixes
(上海市, 浦东新区 …) are dropped because partners write them inconsistently. What is left is the
street, the number and the building: the part that identifies a site.
"""

from __future__ import annotations

import re
import unicodedata

#: Shanghai's districts, current and merged ones partners still write.
DISTRICTS = (
    "浦东新区", "黄浦区", "徐汇区", "长宁区", "静安区", "普陀区", "虹口区", "杨浦区", "闵行区",
    "宝山区", "嘉定区", "金山区", "松江区", "青浦区", "奉贤区", "崇明区", "崇明县", "卢湾区",
    "闸北区", "南汇区",
)  # fmt: skip
#: Only full district names are dropped: short forms are also road names (浦东大道, 浦东南路).
_PREFIX = re.compile(r"^(中国)?(上海市|上海)?(" + "|".join(DISTRICTS) + r")?")
_VARIANTS = str.maketrans({"號": "号", "衖": "弄", "幢": "栋", "棟": "栋", "樓": "楼"})
_BUILDING = re.compile(r"(\d+)(号楼|号栋|栋楼)")
_NOTES = re.compile(r"\([^)]*\)|\[[^\]]*\]|【[^】]*】")
_DROP = re.compile(r"[\s,，、.。;；:：'\"“”‘’·_]+")


def normalise_address(text: str) -> str:
    """The comparable form of an address ('' for a blank one)."""
    s = unicodedata.normalize("NFKC", text or "")
    s = _NOTES.sub("", s)
    s = _DROP.sub("", s)
    s = s.translate(_VARIANTS)
    s = _BUILDING.sub(r"\1栋", s)
    s = _PREFIX.sub("", s, count=1)
    return s.casefold()


def normalise_code(text: str) -> str:
    """The comparable form of a site code: half-width, no spacing, upper case."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).upper()
