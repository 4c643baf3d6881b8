/* Khai Báo service worker (served at /sw.js, root scope).
 * __CACHE_VERSION__ and __APP_SHELL__ are filled in by the server: the version is a hash of
 * this file and of the app-shell files, so every deploy that changes them installs anew.
 *
 * - App shell (versioned static files + the offline page) is precached.
 * - Versioned static files (/static/…?v=…): cache first.
 * - Pages: network first with a short timeout; the offline page when the network fails.
 *   Pages are never stored (personal data stays on the server).
 * - HTMX fragment requests and every non-GET request go straight to the network.
 */
"use strict";

const VERSION = "__CACHE_VERSION__";
const SHELL_CACHE = "khaibao-shell-" + VERSION;
const APP_SHELL = [__APP_SHELL__];
const PAGE_TIMEOUT_MS = 4000;

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
});

function isVersionedStatic(url) {
  return url.origin === self.location.origin && url.pathname.startsWith("/static/") &&
    url.searchParams.has("v");
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

async function networkFirstPage(request) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), PAGE_TIMEOUT_MS);
  try {
    return await fetch(request, { signal: controller.signal });
  } catch (error) {
    const offline = await caches.match("/offline");
    return offline || Response.error();
  } finally {
    clearTimeout(timer);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.headers.get("HX-Request")) return;
  if (isVersionedStatic(url)) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(networkFirstPage(request));
  }
});
