"""Fixed word lists for the demo city: people's names, village names, phone prefixes.

Everything here is drawn through a seeded ``random.Random``, so the same seed gives the
same names. The lists are plain data; change them and the demo city changes with them.
"""

from __future__ import annotations

import random

# Common surnames of Taizhou and Wenling, the first ones drawn more often.
SURNAMES = (
    "陈林王张李郑叶徐黄蔡江潘赵吴周金颜毛梁应"
    "杨朱何许罗卢胡郭谢柯章莫程沈戴阮项鲍夏蒋"
)
SURNAME_WEIGHTS = [6] * 10 + [3] * 10 + [1] * (len(SURNAMES) - 20)

# Characters used in given names (one or two of them).
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力"
    "斌宇浩凯鹏飞彬琳丹晨雪婷慧颖宁海波松林峰志国庆春燕云霖佳琪欣怡"
)

# Village names: a first and a second syllable, as in 上墩、横山、塘下.
VILLAGE_FIRST = "上下东西南北新前后大小横塘石沙山岙湖溪桥坑岭洋金松竹梅桑蒲凤龙鹤"
VILLAGE_SECOND = "墩岙桥塘洋头宅山岭湾浦岸港门坑田林园里庄河溪屿湖垟埠岩礁"

# Urban community names, as in 锦园、和平、万昌.
COMMUNITY_FIRST = "锦和华文安康瑞兴嘉泰万昌九凤春明丰富永新景阳"
COMMUNITY_SECOND = "园苑城府庭湾都华昌盛平宁泰和景悦岸"

# Mobile prefixes of the three carriers (all of the form 1[3-9]X).
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "177", "180", "181", "182", "183", "186", "187", "188", "189", "198", "199",
)


def person_name(rng: random.Random) -> str:
    """A plausible Chinese name: a surname and one or two given characters."""
    surname = rng.choices(SURNAMES, weights=SURNAME_WEIGHTS)[0]
    length = 2 if rng.random() < 0.75 else 1
    given = "".join(rng.choice(GIVEN) for _ in range(length))
    return surname + given


def _pairs(first: str, second: str) -> list[str]:
    return [a + b for a in dict.fromkeys(first) for b in dict.fromkeys(second) if a != b]


def village_stems(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """``count`` two-character village stems not in ``taken`` (which grows with them)."""
    return _draw(rng, _pairs(VILLAGE_FIRST, VILLAGE_SECOND), count, taken)


def community_stems(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """``count`` two-character community stems not in ``taken`` (which grows with them)."""
    return _draw(rng, _pairs(COMMUNITY_FIRST, COMMUNITY_SECOND), count, taken)


def _draw(rng: random.Random, pool: list[str], count: int, taken: set[str]) -> list[str]:
    free = [stem for stem in pool if stem not in taken]
    if count > len(free):
        raise ValueError(f"only {len(free)} names left, {count} wanted")
    chosen = rng.sample(free, count)
    taken.update(chosen)
    return chosen


class PhoneBook:
    """Deterministic, unique mobile numbers: 1[3-9]X XXXX XXXX."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.used:
                self.used.add(number)
                return number

    def landline(self) -> str:
        """A Wenling office number (area code 0576)."""
        while True:
            number = f"0576-8{self.rng.randrange(10**7):07d}"
            if number not in self.used:
                self.used.add(number)
                return number
