"""The JavaScript keeps no texts of its own: what a script shows comes from the server, as
``data-msg-*`` attributes the templates render from the catalog (docs/ARCHITECTURE.md), so the
catalog completeness test (test_i18n.py) covers it. A Vietnamese letter with a diacritic in a
script's code (comments aside) is a text that escaped the catalog."""

import re
from pathlib import Path

JS_DIR = Path(__file__).resolve().parents[2] / "src" / "static" / "js"

# Vietnamese letters with a diacritic (đ, and the vowels with a tone or a shape mark).
VIETNAMESE = re.compile(
    "[đĐàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ]"
)


def without_comments(source: str) -> str:
    """The code of a script with its comments blanked out (strings kept; a line comment's
    newline kept, so line numbers stay). Enough for our scripts, whose regular expression
    literals hold no quote and no ``//``."""
    out = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch in "'\"`":
            end = i + 1
            while end < n and source[end] != ch:
                end += 2 if source[end] == "\\" else 1
            out.append(source[i:end + 1])
            i = end + 1
        elif source.startswith("//", i):
            end = source.find("\n", i)
            i = n if end < 0 else end
        elif source.startswith("/*", i):
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append("\n" * source.count("\n", i, end))
            i = end
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def scripts() -> list[Path]:
    return sorted(p for p in JS_DIR.rglob("*.js") if "vendor" not in p.relative_to(JS_DIR).parts)


def test_comments_are_left_out_and_strings_kept():
    code = without_comments('var a = "Đóng"; // Đóng\n/* Tắt\n camera */ b = \'x // y\';')
    assert "Đóng" in code and "Tắt" not in code and "x // y" in code
    assert code.count("Đóng") == 1 and code.count("\n") == 2


def test_scripts_have_no_vietnamese_texts():
    files = scripts()
    assert len(files) > 10, f"read only {len(files)} scripts under {JS_DIR}"
    found = []
    for path in files:
        for number, line in enumerate(without_comments(path.read_text("utf-8")).splitlines(), 1):
            if VIETNAMESE.search(line):
                found.append(f"{path.name}:{number}: {line.strip()}")
    assert found == [], "put these texts in the catalog (data-msg-*):\n" + "\n".join(found)
