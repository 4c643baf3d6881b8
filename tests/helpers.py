"""Small helpers shared by the test suites."""

import random

# Prefixes assigned to Vietnamese mobile networks (Viettel, VinaPhone, MobiFone).
MOBILE_PREFIXES = ("090", "093", "097", "098", "091", "094", "086", "088", "096", "070", "032")


def random_mobile() -> str:
    """A random Vietnamese mobile number in national form, e.g. 0905123456."""
    return random.choice(MOBILE_PREFIXES) + "".join(random.choices("0123456789", k=7))
