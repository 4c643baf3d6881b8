/* Khai Báo — the live QR (mã QR động) on /qr.
 *
 * Each person's QR is redrawn every 30 s from a token only this phone can make:
 *   "KB1L" + device reference + time step (7 × Crockford base32) + MAC + check character,
 *   MAC = first 80 bits of HMAC-SHA256(device key, "KB1L" reference step)  (tokens.py)
 * The device key comes once from POST /qr/{person}/thiet-bi and is kept in IndexedDB as a
 * non-extractable WebCrypto key, so the QR keeps refreshing in airplane mode. The phone's
 * clock is corrected by the server's time seen at registration. A screenshot stops working
 * within a minute; printed cards keep the static QR.
 *
 * Tests may replace the clock: window.KhaiBaoLiveQR.clock = function () { return ms; }
 * then call window.KhaiBaoLiveQR.refresh().
 */
(function () {
  "use strict";

  var CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  var CHECK = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  var STEP_SECONDS = 30;
  var KEYS = "device_keys";
  // The countdown's text, rendered from the catalog: data-msg-changes-in ("… {n} …") on the
  // nearest element around the live QR that has it (today <body>, base.html).
  function changesIn(box, left) {
    var holder = box.closest("[data-msg-changes-in]");
    return (holder ? holder.getAttribute("data-msg-changes-in") : "").replace("{n}", String(left));
  }
  var api = { clock: null, refresh: refresh, token: liveToken };
  var shown = {};  // person id -> step drawn

  function encodeInt(value, width) {
    var out = "";
    for (var i = width - 1; i >= 0; i--) out += CROCKFORD[Math.floor(value / Math.pow(32, i)) % 32];
    return out;
  }

  function checkChar(text) {
    var p = 36;
    for (var i = 0; i < text.length; i++) {
      p = (p + CHECK.indexOf(text[i])) % 36 || 36;
      p = (p * 2) % 37;
    }
    return CHECK[(37 - p) % 36];
  }

  function macText(bytes) {  // first 80 bits as 16 base32 characters
    var out = "";
    var buffer = 0;
    var bits = 0;
    for (var i = 0; i < 10; i++) {
      buffer = (buffer << 8) | bytes[i];
      bits += 8;
      while (bits >= 5) {
        bits -= 5;
        out += CROCKFORD[(buffer >> bits) & 31];
      }
      buffer &= (1 << bits) - 1;
    }
    return out;
  }

  function liveToken(cryptoKey, reference, step) {
    var signed = "KB1L" + reference + encodeInt(step, 7);
    return crypto.subtle.sign("HMAC", cryptoKey, new TextEncoder().encode(signed)).then(function (mac) {
      var body = signed + macText(new Uint8Array(mac));
      return body + checkChar(body);
    });
  }

  function now(entry) {
    var base = api.clock ? api.clock() : Date.now();
    return base + (entry.offset_ms || 0);
  }

  function draw(canvas, text) {
    var qr = window.qrcode(0, "M");
    qr.addData(text, "Alphanumeric");
    qr.make();
    var count = qr.getModuleCount();
    var quiet = 4;
    var scale = 8;
    var size = (count + 2 * quiet) * scale;
    canvas.width = size;
    canvas.height = size;
    var ctx = canvas.getContext("2d");
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, size, size);
    ctx.fillStyle = "#000";
    for (var r = 0; r < count; r++) {
      for (var c = 0; c < count; c++) {
        if (qr.isDark(r, c)) ctx.fillRect((c + quiet) * scale, (r + quiet) * scale, scale, scale);
      }
    }
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"] || ""; }
    catch (e) { return ""; }
  }

  function fromBase64Url(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function register(personId) {
    var sentAt = Date.now();
    return fetch("/qr/" + personId + "/thiet-bi", {
      method: "POST", credentials: "same-origin", headers: { "x-csrftoken": csrfToken() }
    }).then(function (response) {
      if (!response.ok) throw new Error("register failed: " + response.status);
      return response.json();
    }).then(function (data) {
      var raw = fromBase64Url(data.key);
      return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])
        .then(function (key) {
          raw.fill(0);
          var midpoint = (sentAt + Date.now()) / 2;
          var entry = { person_id: personId, reference: data.reference, key: key,
                        offset_ms: Math.round(data.server_time * 1000 - midpoint),
                        created_at: Date.now() };
          return window.KhaiBaoStore.put(KEYS, entry).then(function () { return entry; });
        });
    });
  }

  function cards() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-live-qr]"));
  }

  function show(box, entry) {
    var step = Math.floor(now(entry) / 1000 / STEP_SECONDS);
    var left = STEP_SECONDS - Math.floor(now(entry) / 1000) % STEP_SECONDS;
    var countdown = box.querySelector("[data-live-countdown]");
    if (countdown) countdown.textContent = changesIn(box, left);
    if (shown[entry.person_id] === step) return Promise.resolve();
    return liveToken(entry.key, entry.reference, step).then(function (token) {
      draw(box.querySelector("canvas"), token);
      var code = box.querySelector("[data-live-code]");
      if (code) code.textContent = token.match(/.{1,4}/g).join(" ");  // as printed under the static QR
      shown[entry.person_id] = step;
      box.hidden = false;
      var card = box.closest(".qr-card");
      var still = card && card.querySelector("[data-static-qr]");
      if (still) still.hidden = true;
    });
  }

  var entries = {};
  function refresh() {
    shown = {};
    return tick();
  }
  function tick() {
    return Promise.all(cards().map(function (box) {
      var entry = entries[box.getAttribute("data-person-id")];
      return entry ? show(box, entry) : null;
    }));
  }

  function loadKeys(setup) {
    var active = (setup.getAttribute("data-live-refs") || "").split(/\s+/).filter(Boolean);
    var renderedAt = parseInt(setup.getAttribute("data-rendered-at") || "0", 10);
    return window.KhaiBaoStore.all(KEYS).then(function (stored) {
      var drops = [];
      stored.forEach(function (entry) {
        // Removed on the server (device list) since: forget it here too.
        if (active.indexOf(entry.reference) < 0 && entry.created_at < renderedAt) {
          drops.push(window.KhaiBaoStore.remove(KEYS, entry.person_id));
        } else {
          entries[String(entry.person_id)] = entry;
        }
      });
      return Promise.all(drops);
    });
  }

  function enable() {
    var missing = cards().filter(function (box) { return !entries[box.getAttribute("data-person-id")]; });
    return missing.reduce(function (chain, box) {
      return chain.then(function () {
        return register(parseInt(box.getAttribute("data-person-id"), 10)).then(function (entry) {
          entries[String(entry.person_id)] = entry;
        });
      });
    }, Promise.resolve()).then(tick);
  }

  function start() {
    var setup = document.querySelector("[data-live-setup]");
    if (!setup || !window.crypto || !crypto.subtle || !window.KhaiBaoStore || !window.qrcode) return;
    loadKeys(setup).then(function () {
      var missing = cards().some(function (box) { return !entries[box.getAttribute("data-person-id")]; });
      var button = setup.querySelector("[data-live-enable]");
      var standalone = window.KhaiBao && window.KhaiBao.standalone;
      if (missing && navigator.onLine !== false) {
        if (standalone) enable();
        else if (button) setup.hidden = false;
      }
      if (button) {
        button.addEventListener("click", function () {
          button.disabled = true;
          enable().then(function () { setup.hidden = true; }, function () { button.disabled = false; });
        });
      }
      tick();
      setInterval(tick, 1000);
    });
  }

  document.addEventListener("DOMContentLoaded", start);
  window.KhaiBaoLiveQR = api;
})();
