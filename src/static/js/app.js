/* Khai Báo — page behaviour shared by every page. No inline script anywhere (strict CSP). */
(function () {
  "use strict";

  // The network banner (#trang-thai-mang) and the app bars carry their texts as rendered by
  // base.html: this script only shows and hides them.

  function showNetworkStatus(offline) {
    var banner = document.getElementById("trang-thai-mang");
    if (banner) banner.hidden = !offline;
  }

  // htmx could not reach the server: say so instead of swapping nothing.
  document.addEventListener("htmx:sendError", function () { showNetworkStatus(true); });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail && event.detail.successful !== undefined && event.detail.xhr && event.detail.xhr.status) {
      showNetworkStatus(false);
    }
  });
  window.addEventListener("online", function () { showNetworkStatus(false); });
  window.addEventListener("offline", function () { showNetworkStatus(true); });

  // A new request clears the previous error message.
  document.addEventListener("htmx:beforeRequest", function () {
    var area = document.getElementById("thong-bao");
    if (area) area.innerHTML = "";
  });

  // A date (or date and time) field says back the day chosen in the page's language (_fields.html): a phone set
  // to English shows the field itself as mm/dd/yyyy, where 05/08 is not the 5th of August.
  function echoDate(input) {
    var out = document.getElementById(input.id + "-ngay-chon");
    if (!out) return;
    var match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/.exec(input.value || "");
    var text = "";
    if (match) {
      var moment = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3],
        +(match[4] || 0), +(match[5] || 0)));
      var style = { dateStyle: "full", timeZone: "UTC" };
      if (match[4]) style.timeStyle = "short";
      var words = new Intl.DateTimeFormat(document.documentElement.lang || "vi", style)
        .format(moment);
      text = (out.getAttribute("data-msg-chosen") || "{date}").replace("{date}", words);
    }
    out.textContent = text;
  }
  function echoDates(root) {
    var fields = (root || document).querySelectorAll("input[type=date], input[type=datetime-local]");
    for (var i = 0; i < fields.length; i++) echoDate(fields[i]);
  }
  ["input", "change"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var kind = event.target && event.target.type;
      if (kind === "date" || kind === "datetime-local") echoDate(event.target);
    });
  });
  document.addEventListener("DOMContentLoaded", function () { echoDates(document); });
  document.addEventListener("htmx:load", function (event) { echoDates(event.target); });

  // Move focus to the first field with an error after a swap, for keyboard and screen readers.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.detail.target && event.detail.target.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  });

  // A POST that could not reach the server (officer scanner on a weak network): keep the
  // banner up and send the same request again, backing off to 30 s, and at once when the
  // browser is back online — a scan is never silently lost. Health declarations are queued
  // in IndexedDB instead (offline_queue.js, forms marked data-offline-queue).
  var retryTimers = new WeakMap();
  document.addEventListener("htmx:sendError", function (event) {
    var detail = event.detail || {};
    var config = detail.requestConfig;
    var elt = detail.elt;
    if (!config || !elt || !window.htmx || config.verb === "get") return;
    if (elt.closest && elt.closest("[data-offline-queue]")) return;
    var attempt = (elt.__kbAttempt || 0) + 1;
    elt.__kbAttempt = attempt;
    var values = {};
    if (config.formData && config.formData.forEach) {
      config.formData.forEach(function (value, key) {
        if (key in values) values[key] = [].concat(values[key], value);
        else values[key] = value;
      });
    }
    function resend() {
      window.removeEventListener("online", resend);
      clearTimeout(retryTimers.get(elt));
      if (!document.body.contains(elt)) return;
      window.htmx.ajax(config.verb.toUpperCase(), config.path,
        { source: elt, values: values, target: detail.target });
    }
    retryTimers.set(elt, setTimeout(resend, Math.min(30000, 1000 * Math.pow(2, attempt - 1))));
    window.addEventListener("online", resend);
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail && event.detail.elt;
    if (elt && event.detail.xhr && event.detail.xhr.status) elt.__kbAttempt = 0;
  });

  // ---- installable app: install button, iOS hint, update banner ----------------------------
  var installPrompt = null;
  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();
    installPrompt = event;
    var bar = document.getElementById("cai-dat");
    if (bar) bar.hidden = false;
  });
  window.addEventListener("appinstalled", function () {
    var bar = document.getElementById("cai-dat");
    if (bar) bar.hidden = true;
    installPrompt = null;
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-pwa-install]") && installPrompt) {
      installPrompt.prompt();
      installPrompt.userChoice.then(function () {
        installPrompt = null;
        document.getElementById("cai-dat").hidden = true;
      });
    }
  });
  var standalone = window.matchMedia("(display-mode: standalone)").matches ||
    window.navigator.standalone === true;
  var iOS = /iPhone|iPad|iPod/.test(navigator.userAgent) && !window.MSStream;
  if (iOS && !standalone) {
    var hint = document.getElementById("cai-dat-ios");
    if (hint) hint.hidden = false;
  }

  // A new service worker waits (sw.js); offer "Có phiên bản mới — Tải lại". Tapping it tells
  // the waiting worker to take over; the page reloads when it controls the page.
  function offerUpdate(worker) {
    var bar = document.getElementById("cap-nhat");
    if (!bar || !worker) return;
    bar.hidden = false;
    bar.querySelector("[data-pwa-update]").onclick = function () {
      worker.postMessage("skipWaiting");
    };
  }
  function watchUpdates(registration) {
    if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
    registration.addEventListener("updatefound", function () {
      var installing = registration.installing;
      if (!installing) return;
      installing.addEventListener("statechange", function () {
        if (installing.state === "installed" && navigator.serviceWorker.controller) {
          offerUpdate(installing);
        }
      });
    });
  }

  if ("serviceWorker" in navigator && window.isSecureContext) {
    var reloading = false;
    navigator.serviceWorker.addEventListener("controllerchange", function () {
      // Only reload when the user asked (a first install also changes the controller).
      if (reloading || !document.getElementById("cap-nhat") ||
          document.getElementById("cap-nhat").hidden) return;
      reloading = true;
      window.location.reload();
    });
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (registration) {
        watchUpdates(registration);
        window.KhaiBaoRegistration = registration;
      }).catch(function (error) {
        console.warn("service worker registration failed", error);
      });
    });
  }

  window.KhaiBao = { standalone: standalone };
})();
