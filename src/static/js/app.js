/* Khai Báo — page behaviour shared by every page. No inline script anywhere (strict CSP). */
(function () {
  "use strict";

  var lang = document.documentElement.lang || "vi";
  var texts = {
    vi: { network: "Mất kết nối mạng — đang thử lại", close: "Đóng" },
    en: { network: "Connection lost — retrying", close: "Close" }
  };
  var t = texts[lang] || texts.vi;

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

  // Move focus to the first field with an error after a swap, for keyboard and screen readers.
  document.addEventListener("htmx:afterSwap", function (event) {
    var invalid = event.detail.target && event.detail.target.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  });

  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function (error) {
        console.warn("service worker registration failed", error);
      });
    });
  }

  window.KhaiBao = { texts: t };
})();
