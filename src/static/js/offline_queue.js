/* Khai Báo — the offline outbox and the device's own storage (IndexedDB "khaibao").
 *
 * - A health declaration (form[data-offline-queue]) that cannot reach the server is kept in
 *   the "outbox" store with its client_ref; the page says "Đã lưu, sẽ gửi khi có mạng" and
 *   the pending badge counts it. It is sent again by Background Sync (sw.js) where the browser
 *   has it, otherwise on the next page load or the "online" event. The server treats a
 *   repeated client_ref as the same submission, so any number of replays make one declaration.
 * - Signing out deletes this device's live-QR keys (sending their references so the server
 *   revokes them), the outbox, the kept /qr page and this tab's drafts (form_draft.js)
 *   before the form is submitted.
 * No inline script anywhere (strict CSP).
 */
(function () {
  "use strict";

  var DB_NAME = "khaibao";
  var DB_VERSION = 1;
  var OUTBOX = "outbox";
  var KEYS = "device_keys";
  var SYNC_TAG = "khaibao-outbox";
  // The texts come from the pending bar (#cho-gui, base.html): data-msg-saved, -saved-hint,
  // -sent and -see-qr, rendered from the catalog in the page's language.
  function text(name) {
    var bar = document.getElementById("cho-gui");
    return (bar && bar.getAttribute("data-msg-" + name)) || "";
  }

  // ---- IndexedDB (the same schema as sw.js) ---------------------------------------------
  function open() {
    return new Promise(function (resolve, reject) {
      if (!window.indexedDB) { reject(new Error("no IndexedDB")); return; }
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: "client_ref" });
        if (!db.objectStoreNames.contains(KEYS)) db.createObjectStore(KEYS, { keyPath: "person_id" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function run(storeName, mode, action) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(storeName, mode);
        var request = action(tx.objectStore(storeName));
        tx.oncomplete = function () { db.close(); resolve(request ? request.result : undefined); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }
  var store = {
    all: function (name) { return run(name, "readonly", function (s) { return s.getAll(); }); },
    get: function (name, key) { return run(name, "readonly", function (s) { return s.get(key); }); },
    put: function (name, value) { return run(name, "readwrite", function (s) { return s.put(value); }); },
    remove: function (name, key) { return run(name, "readwrite", function (s) { return s.delete(key); }); },
    clear: function (name) { return run(name, "readwrite", function (s) { return s.clear(); }); }
  };

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers"))["x-csrftoken"] || "";
    } catch (e) { return ""; }
  }

  // ---- pending badge --------------------------------------------------------------------
  function refreshBadge() {
    return store.all(OUTBOX).then(function (entries) {
      var bar = document.getElementById("cho-gui");
      if (!bar) return entries;
      bar.hidden = entries.length === 0;
      var count = bar.querySelector("[data-pending-count]");
      if (count) count.textContent = String(entries.length);
      return entries;
    }).catch(function () { return []; });
  }

  // ---- queueing -------------------------------------------------------------------------
  function showSaved(form) {
    var old = form.querySelector("[data-offline-saved]");
    if (old) old.remove();
    var box = document.createElement("div");
    box.className = "message offline-saved";
    box.setAttribute("role", "status");
    box.setAttribute("data-offline-saved", "");
    var strong = document.createElement("strong");
    strong.textContent = text("saved");
    var hint = document.createElement("span");
    hint.textContent = text("saved-hint");
    box.appendChild(strong);
    box.appendChild(hint);
    form.insertBefore(box, form.firstChild);
    box.scrollIntoView({ block: "center" });
  }

  function queue(form) {
    var data = new FormData(form);
    var ref = String(data.get("client_ref") || "");
    if (!ref) {
      ref = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).replace(/[^A-Za-z0-9]/g, "").slice(0, 32);
      data.set("client_ref", ref);
    }
    var entry = {
      client_ref: ref,
      url: form.getAttribute("action") || window.location.pathname,
      body: new URLSearchParams(data).toString(),
      csrf: csrfToken(),
      created_at: Date.now()
    };
    return store.put(OUTBOX, entry).then(function () {
      showSaved(form);
      var banner = document.getElementById("trang-thai-mang");
      if (banner) banner.hidden = true;  // nothing is being retried: it is saved
      refreshBadge();
      if ("serviceWorker" in navigator) {
        navigator.serviceWorker.ready.then(function (registration) {
          if (registration.sync) return registration.sync.register(SYNC_TAG);
        }).catch(function () { /* no Background Sync: online event / next load */ });
      }
    });
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    var form = elt && elt.closest && elt.closest("form[data-offline-queue]");
    if (!form || elt !== form || navigator.onLine !== false) return;
    event.preventDefault();  // clearly offline: do not even try
    queue(form);
  });
  document.addEventListener("htmx:sendError", function (event) {
    var elt = event.detail && event.detail.elt;
    var form = elt && elt.closest && elt.closest("form[data-offline-queue]");
    if (form && elt === form) queue(form);
  });

  // ---- sending --------------------------------------------------------------------------
  function send(entry) {
    var token = csrfToken() || entry.csrf;
    var body = new URLSearchParams(entry.body);
    if (token) body.set("_csrf_token", token);
    return fetch(entry.url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: { "HX-Request": "true", "x-csrftoken": token }
    }).then(function (response) {
      if (response.ok) {
        return store.remove(OUTBOX, entry.client_ref).then(function () {
          return { sent: true, next: response.headers.get("HX-Redirect") || "/qr" };
        });
      }
      if (response.status === 422) {
        // The server refused the content: show the form with its errors (input kept).
        var form = document.querySelector("form[data-offline-queue]");
        if (!form) return { sent: false };
        return response.text().then(function (html) {
          return store.remove(OUTBOX, entry.client_ref).then(function () {
            form.outerHTML = html;
            if (window.htmx) window.htmx.process(document.querySelector("form[data-offline-queue]") || document.body);
            return { sent: false, refused: true };
          });
        });
      }
      return { sent: false };  // signed out, CSRF, server error: keep it
    }).catch(function () { return { sent: false }; });
  }

  /* Send every queued declaration now. Safe to call any number of times, also at once: a
   * call while a flush runs joins it (and the server dedupes by client_ref anyway). */
  var flushing = null;
  function flush() {
    if (flushing) return flushing;
    flushing = store.all(OUTBOX).then(function (entries) {
      if (!entries.length) return [];
      return Promise.all(entries.map(send));
    }).then(function (results) {
      return refreshBadge().then(function () {
        var done = results.filter(function (r) { return r.sent; });
        if (done.length) accepted(done[done.length - 1].next);
        return results;
      });
    }).catch(function () { return []; }).then(function (results) {
      flushing = null;
      return results;
    });
    return flushing;
  }

  var leaving = false;
  function accepted(next) {
    // On the form that was saved offline: go on to the QR, as an online submission does.
    if (document.querySelector("[data-offline-saved]")) {
      // Once: a second assign (another flush, the service worker's replay) would abort the
      // first navigation.
      if (!leaving) {
        leaving = true;
        window.location.assign(next);
      }
      return;
    }
    var area = document.getElementById("thong-bao");
    if (!area) return;
    area.textContent = "";
    var box = document.createElement("p");
    box.className = "message message-ok";
    box.textContent = text("sent") + " ";
    var link = document.createElement("a");
    link.href = next;
    link.textContent = text("see-qr");
    box.appendChild(link);
    area.appendChild(box);
  }

  window.addEventListener("online", function () { flush(); });
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.addEventListener("message", function (event) {
      if (event.data && event.data.outbox === "replayed") {
        refreshBadge();
        if (event.data.sent) accepted(event.data.next || "/qr");
      }
    });
  }

  // ---- sign-out: forget this device's keys, outbox and kept /qr page ------------------------
  // Offline, the kept /qr page is the only way this phone shows its QR: ask first, in the
  // page (the form's .sign-out-confirm panel, its texts rendered by the server).
  function askBeforeSignOut(form, event) {
    var ask = form.querySelector(".sign-out-confirm");
    if (!ask || navigator.onLine !== false) return false;
    if (event.submitter && event.submitter.hasAttribute("data-sign-out-confirm")) return false;
    ask.hidden = false;
    var confirm = ask.querySelector("[data-sign-out-confirm]");
    if (confirm) confirm.focus();
    return true;
  }

  document.addEventListener("click", function (event) {
    var cancel = event.target.closest && event.target.closest("[data-sign-out-cancel]");
    if (!cancel) return;
    var ask = cancel.closest(".sign-out-confirm");
    ask.hidden = true;
    var again = ask.parentNode.querySelector('button[type="submit"]:not([data-sign-out-confirm])');
    if (again) again.focus();
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches('form[action="/xac-thuc/dang-xuat"]') || form.__kbCleared) return;
    event.preventDefault();
    if (askBeforeSignOut(form, event)) return;
    form.__kbCleared = true;
    try { sessionStorage.clear(); } catch (e) { /* this tab's drafts (form_draft.js) */ }
    var done = function () { form.submit(); };
    store.all(KEYS).then(function (keys) {
      var refs = keys.map(function (k) { return k.reference; }).join(" ");
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "device_refs";
      input.value = refs;
      form.appendChild(input);
      return Promise.all([store.clear(KEYS), store.clear(OUTBOX),
        window.caches ? caches.delete("khaibao-personal") : null]);
    }).then(done, done);
  }, true);

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form#khai-bao").forEach(function (form) {
      form.setAttribute("data-offline-queue", "");
    });
    refreshBadge().then(function (entries) {
      if (entries.length && navigator.onLine !== false) flush();
    });
  });
  document.addEventListener("htmx:load", function (event) {
    var form = event.target.querySelector ? event.target.querySelector("form#khai-bao") : null;
    if (event.target.id === "khai-bao") form = event.target;
    if (form) form.setAttribute("data-offline-queue", "");
  });

  window.KhaiBaoStore = store;
  window.KhaiBaoOutbox = { flush: flush, queue: queue, refresh: refreshBadge };
})();
