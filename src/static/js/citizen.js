/* Khai Báo — citizen pages: fill a person from a chip-CCCD scan (loading the camera scanner
 * when its box is opened), remove an added person, and enable "Gửi lại mã" when the server
 * allows a new code. No inline script (strict CSP). */
(function () {
  "use strict";

  // The scanner in a person fieldset read a QR: send its text to the server, which parses it
  // and answers with the fieldset filled in for review.
  document.addEventListener("qr-scanned", function (event) {
    var scanner = event.target.closest("[data-chip-scan]");
    if (!scanner) return;
    var fieldset = scanner.closest("fieldset");
    var input = fieldset && fieldset.querySelector("[data-chip-input]");
    if (!input || !window.htmx) return;
    input.value = event.detail.text;
    window.htmx.trigger(input, "chip-scanned");
  });

  // The camera scanner of the chip-CCCD box is loaded when such a box is first opened (its
  // address in meta khaibao-scanner-js): most declarations never use it, and a first visit
  // on mobile data is lighter without it. scanner.js binds the scanners already on the page.
  document.addEventListener("toggle", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("details.chip-scan") || !box.open) return;
    var meta = document.querySelector('meta[name="khaibao-scanner-js"]');
    if (!meta || window.KhaiBaoScanner || document.querySelector("script[data-scanner-js]")) return;
    var script = document.createElement("script");
    script.src = meta.getAttribute("content");
    script.setAttribute("data-scanner-js", "");
    document.head.appendChild(script);
  }, true);  // toggle does not bubble

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-person]");
    if (!button) return;
    var fieldset = button.closest("fieldset.person");
    if (fieldset) fieldset.remove();
  });

  // Seconds left, not a moment: a phone's clock may be off.
  function enableResendButtons(root) {
    (root || document).querySelectorAll("[data-wait-seconds]").forEach(function (button) {
      var at = Date.now() + (+button.getAttribute("data-wait-seconds") || 0) * 1000;
      button.removeAttribute("data-wait-seconds");  // counted once
      var label = button.textContent;
      function tick() {
        var left = Math.ceil((at - Date.now()) / 1000);
        if (left > 0) {
          button.disabled = true;
          button.textContent = label + " (" + left + " s)";
          setTimeout(tick, 1000);
        } else {
          button.disabled = false;
          button.textContent = label;
        }
      }
      tick();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { enableResendButtons(); });
  document.addEventListener("htmx:load", function (event) { enableResendButtons(event.target); });
})();
