"""Fill src/locale/en/LC_MESSAGES/messages.po from the .pot plus a dict of translations
(keeps existing translations). An entry with a context (msgctxt) is keyed as the catalog
reader keys it: context, "\x04", msgid."""
import io
import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

root = Path(__file__).resolve().parents[1] / "src" / "locale"
pot = read_po((root / "messages.pot").open("rb"))
po_path = root / "en/LC_MESSAGES/messages.po"


def key(context, msgid):
    msgid = msgid if isinstance(msgid, str) else msgid[0]
    return f"{context}\x04{msgid}" if context else msgid


existing = {}
if po_path.exists():
    for m in read_po(po_path.open("rb"), locale="en"):
        translated = m.string if isinstance(m.string, str) else all(m.string)
        if m.id and translated:
            existing[key(m.context, m.id)] = m.string
new = json.load(open(sys.argv[1])) if len(sys.argv) > 1 else {}
catalog = Catalog(locale="en", project="khaibao", charset="utf-8")
missing = []
for m in pot:
    if not m.id:
        continue
    entry = key(m.context, m.id)
    text = new.get(entry) or existing.get(entry)
    if isinstance(text, list):
        text = tuple(text)
    if not text:
        missing.append(entry)
    catalog.add(m.id, string=text or ("" if isinstance(m.id, str) else ("", "")),
                context=m.context)
po_path.parent.mkdir(parents=True, exist_ok=True)
buffer = io.BytesIO()  # write only once the whole catalog is ready: never a half file
write_po(buffer, catalog, omit_header=False, width=100, sort_output=True)
po_path.write_bytes(buffer.getvalue())
print("missing:", json.dumps(missing, ensure_ascii=False, indent=1))
