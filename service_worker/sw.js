/* Khai Báo service worker (served at /sw.js, root scope).
 * __CACHE_VERSION__ and __APP_SHELL__ are filled in by the server: the version is a hash of
 * this file and of the app-shell files' contents, so every deploy that changes them installs
 * a new worker. The new worker waits until the page's "Có phiên bản mới — Tải lại" button
 * asks it to take over (message "skipWaiting").
 *
 * - App shell (versioned static files + the offline page) is precached.
 * - Versioned static files (/static/…?v=…): cache first.
 * - Pages: network first with a short timeout; the offline page when the network fails.
 * - Privacy: no page is stored except the citizen's own /qr page (kept on purpose so the QR
 *   opens in airplane mode; it is dropped on sign-out and whenever /qr answers "signed out").
 *   Officer pages, lookups and everyone else's data are never cached.
 * - HTMX fragment requests and every other non-GET request go straight to the network.
 * - Background Sync "khaibao-outbox": replays health declarations queued offline
 *   (static/js/offline_queue.js keeps them in IndexedDB; the server dedupes by client_ref).
 */
"use strict";

const VERSION = "__CACHE_VERSION__";
const SHELL_CACHE = "khaibao-shell-" + VERSION;
const PERSONAL_CACHE = "khaibao-personal";  // only the citizen's own /qr page
const APP_SHELL = [__APP_SHELL__];
const PAGE_TIMEOUT_MS = 3500;
const QR_PAGE = "/qr";
const SIGN_OUT = "/xac-thuc/dang-xuat";
const NEVER_CACHED = ["/kiemtra", "/quan-tri", "/can-bo", "/diem-den", "/kiosk", "/tra-cuu"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(APP_SHELL)));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(
        keys.filter((key) => key.startsWith("khaibao-shell-") && key !== SHELL_CACHE)
          .map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skipWaiting") self.skipWaiting();
  if (event.data === "forgetPersonal") event.waitUntil(caches.delete(PERSONAL_CACHE));
  if (event.data === "version" && event.source) event.source.postMessage({ version: VERSION });
});

function isVersionedStatic(url) {
  return url.pathname.startsWith("/static/") && url.searchParams.has("v");
}

function neverCached(url) {
  return NEVER_CACHED.some((p) => url.pathname === p || url.pathname.startsWith(p + "/"));
}

async function cacheFirst(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok) {
    const cache = await caches.open(SHELL_CACHE);
    cache.put(request, response.clone());
  }
  return response;
}

async function fetchWithTimeout(request) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PAGE_TIMEOUT_MS);
  try {
    return await fetch(request, { signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

async function offlinePage() {
  return (await caches.match("/offline")) || Response.error();
}

async function networkFirstPage(request) {
  try {
    return await fetchWithTimeout(request);
  } catch (error) {
    return offlinePage();
  }
}

/* /qr: the network copy when there is one (and it is kept for airplane mode); the kept copy
 * offline. A /qr that redirects (signed out) removes the kept copy. */
async function qrPage(request) {
  let response;
  try {
    response = await fetchWithTimeout(request);
  } catch (error) {
    const kept = await caches.open(PERSONAL_CACHE).then((c) => c.match(QR_PAGE));
    return kept || offlinePage();
  }
  const finalPath = response.url ? new URL(response.url).pathname : QR_PAGE;
  if (response.ok && !response.redirected && finalPath === QR_PAGE) {
    const copy = response.clone();
    await caches.open(PERSONAL_CACHE).then((c) => c.put(QR_PAGE, copy));
  } else if (response.redirected || response.status === 401) {
    await caches.delete(PERSONAL_CACHE);
  }
  return response;
}

/* Offline, the server cannot end the session: the phone has forgotten its QR all the same,
 * and the address bar moves to the offline page it shows (not the sign-out address). */
async function signOut(request) {
  await caches.delete(PERSONAL_CACHE);
  try {
    return await fetch(request);
  } catch (error) {
    return Response.redirect(new URL("/offline", self.location.origin).href, 303);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === SIGN_OUT) {
    event.respondWith(signOut(request));
    return;
  }
  if (request.method !== "GET") return;
  if (request.headers.get("HX-Request")) return;  // fragments: never from a page cache
  if (isVersionedStatic(url)) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    if (url.pathname === QR_PAGE && !neverCached(url)) {
      event.respondWith(qrPage(request));
    } else {
      event.respondWith(networkFirstPage(request));
    }
  }
});

/* ---- Background Sync: send the health declarations queued offline --------------------- */

const DB_NAME = "khaibao";
const DB_VERSION = 1;
const OUTBOX = "outbox";

function openDb() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, DB_VERSION);
    open.onupgradeneeded = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: "client_ref" });
      if (!db.objectStoreNames.contains("device_keys")) db.createObjectStore("device_keys", { keyPath: "person_id" });
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

function storeRequest(db, mode, action) {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(OUTBOX, mode);
    const request = action(tx.objectStore(OUTBOX));
    tx.oncomplete = () => resolve(request && request.result);
    tx.onerror = () => reject(tx.error);
  });
}

async function replayOutbox() {
  const db = await openDb();
  const entries = await storeRequest(db, "readonly", (s) => s.getAll());
  let sent = 0;
  let next = "/qr";
  for (const entry of entries || []) {
    const response = await fetch(entry.url, {
      method: "POST", body: entry.body, credentials: "same-origin", redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded", "HX-Request": "true",
                 "x-csrftoken": entry.csrf || "" },
    });
    if (response.ok) {
      await storeRequest(db, "readwrite", (s) => s.delete(entry.client_ref));
      sent += 1;
      next = response.headers.get("HX-Redirect") || next;
    }
  }
  const clients = await self.clients.matchAll({ type: "window" });
  clients.forEach((client) => client.postMessage({ outbox: "replayed", sent: sent, next: next }));
}

self.addEventListener("sync", (event) => {
  if (event.tag === "khaibao-outbox") event.waitUntil(replayOutbox());
});
