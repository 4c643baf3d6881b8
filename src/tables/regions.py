"""The region tree (địa bàn): country › province › (district) › ward › village › point.

``path`` is the chain of codes from the root (``/VN/46/19753/``), so "is X inside Y" is
``X.path LIKE Y.path || '%'`` and "everything in ward Y" is one index range scan.
"""

from piccolo.columns import ForeignKey, Integer, Serial, Varchar
from piccolo.table import Table


class Region(Table, tablename="region"):
    id: Serial  # Piccolo's implicit primary key: typed here, not declared (no column)

    code = Varchar(length=40, unique=True, index=True)  # "VN", "VN-46", "VN-46-19753", …
    name = Varchar(length=200)
    name_folded = Varchar(length=200, index=True)  # lower case, no diacritics, đ → d
    kind = Varchar(length=20)  # country | province | district | ward | village | point
    parent: ForeignKey["Region"] = ForeignKey("self", null=True, index=True)
    path = Varchar(length=400, index=True)
    depth = Integer(default=0)
