"""Crisis categories, their screens, and the order in which they win."""

from __future__ import annotations

__all__ = [
    "ALL_TOPICS",
    "BENIGN_TOPICS",
    "CATEGORIES",
    "CATEGORY_TOPIC",
    "EMERGENCY_CATEGORIES",
    "SCREEN_CATEGORY",
]

# Priority order: when rules of several categories fire, the earliest wins.
# Danger now and self-harm come first (they set "emergency"); abuse at home comes
# before sexual assault so that a family member touching a child goes to 189;
# images before paid dating and grooming because a request for pictures is the
# sharper risk.
CATEGORIES: tuple[str, ...] = (
    "emergency",
    "suicide",
    "abuse_home",
    "sexual_assault",
    "sexual_images",
    "paid_dating",
    "grooming",
)

CATEGORY_TOPIC: dict[str, str] = {
    "emergency": "help.now",
    "suicide": "help.suicide",
    "sexual_images": "teen.pictures",
    "abuse_home": "help.home",
    "sexual_assault": "help.violence",
    "paid_dating": "teen.paid",
    "grooming": "teen.meet",
}

EMERGENCY_CATEGORIES: frozenset[str] = frozenset({"emergency", "suicide"})

BENIGN_TOPICS: frozenset[str] = frozenset(
    {
        "parent.filtering",
        "parent.rules",
        "parent.first_phone",
        "parent.signs",
        "parent.victim",
        "school.disclosure",
        "school.share",
        "teen.privacy",
        "teen.posted",
        "teen.friend",
        "teen.friend_image",
        "help.legal",
        "help.talk",
    }
)

# Sharper screens a crisis may go to instead of its category's own (issue 18): an overdose or an injury now puts
# 119 first (help.hurt); nowhere to stay tonight (help.nohome); a threat to spread pictures unless paid
# (teen.pic_threat); a meeting already arranged (teen.meet_after). The category, and so "emergency", stays.
SCREEN_CATEGORY: dict[str, str] = {
    "help.hurt": "suicide",
    "help.nohome": "grooming",
    "teen.pic_threat": "sexual_images",
    "teen.meet_after": "grooming",
}

ALL_TOPICS: frozenset[str] = BENIGN_TOPICS | frozenset(CATEGORY_TOPIC.values()) | frozenset(SCREEN_CATEGORY)
