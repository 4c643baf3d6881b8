"""The service worker (sw.js), shipped inside the package as ``khaibao.service_worker`` and
served at /sw.js (root scope) with its cache version and app shell filled in."""
