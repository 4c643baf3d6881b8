/* Khai Báo — the poster page's "In áp phích" button (no inline script under the CSP). */
(function () {
  'use strict';
  document.querySelectorAll('[data-print]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () { window.print(); });
  });
})();
