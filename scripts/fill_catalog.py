"""Fill src/locale/en/LC_MESSAGES/messages.po from the .pot plus a dict of translations
(keeps existing translations)."""
import io
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

root = Path(__file__).resolve().parents[1] / "src" / "locale"
pot = read_po((root / "messages.pot").open("rb"))
po_path = root / "en/LC_MESSAGES/messages.po"
existing = {}
if po_path.exists():
    for m in read_po(po_path.open("rb"), locale="en"):
        translated = m.string if isinstance(m.string, str) else all(m.string)
        if m.id and translated:
            existing[m.id if isinstance(m.id, str) else m.id[0]] = m.string
new = json.load(open(sys.argv[1])) if len(sys.argv) > 1 else {}
catalog = Catalog(locale="en", project="khaibao", charset="utf-8")
missing = []
for m in pot:
    if not m.id:
        continue
    key = m.id if isinstance(m.id, str) else m.id[0]
    text = new.get(key) or existing.get(key)
    if isinstance(text, list):
        text = tuple(text)
    if not text:
        missing.append(key)
    catalog.add(m.id, string=text or ("" if isinstance(m.id, str) else ("", "")))
po_path.parent.mkdir(parents=True, exist_ok=True)
buffer = io.BytesIO()  # write only once the whole catalog is ready: never a half file
write_po(buffer, catalog, omit_header=False, width=100, sort_output=True)
po_path.write_bytes(buffer.getvalue())
print("missing:", json.dumps(missing, ensure_ascii=False, indent=1))
