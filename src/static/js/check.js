/*
 * Khai Báo — the officer's check page (/kiemtra) and camera scanner (/kiemtra/quet).
 *
 * The form posts with htmx (text in the body); this only adds, after each result swaps in:
 * the field is cleared for the next person (and focused on /kiemtra, where a USB barcode
 * reader types into it — not on the camera page, where focusing would open the phone's
 * keyboard), and a short sound and vibration whose pattern follows the colour
 * (result_signal.js, loaded before this file). Strict-CSP safe: no inline code, no eval.
 */
(function () {
  'use strict';

  var lastResult = null;

  function afterSwap() {
    var signal = window.KhaiBaoResultSignal;
    var onScanPage = !!document.querySelector('.check-on-scan');
    signal.clearField(document.querySelector('[data-check-input]'), !onScanPage);
    var result = document.getElementById('ket-qua');
    if (result && result !== lastResult && result.hasAttribute('data-colour')) {
      lastResult = result; // a new result arrived (not just "Ghi nhận" inside the old one)
      var colour = result.getAttribute('data-colour');
      signal.play(colour, true);
      document.body.setAttribute('data-check-colour', colour);
    }
  }

  document.addEventListener('htmx:afterSwap', afterSwap);
  document.addEventListener('DOMContentLoaded', function () {
    lastResult = document.getElementById('ket-qua');
  });
}());
