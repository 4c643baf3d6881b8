// The paper QR card's "In thẻ" button (no inline script under the CSP).
"use strict";
document.addEventListener("click", (event) => {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
