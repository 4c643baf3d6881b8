/*
 * Khai Báo — the venue's scanner (/diem-den/{id}/quet).
 *
 * The form posts with htmx (the scanned text in the body); scanner.js fills the field and
 * submits it for each code the camera reads (the same code is ignored for 3 s). The field is
 * emptied when a code is sent and given back after an error about it (scan_field.js, loaded
 * before this file). After each answer the cursor goes back to the field — not while the
 * camera runs: on a phone that would open the keyboard over the video. A short tone and
 * vibration follow the colour (result_signal.js, loaded before this file).
 * Strict-CSP safe: no inline code, no eval.
 */
(function () {
  'use strict';

  var scanField = window.KhaiBaoScanField.watch('venue-scan-form', '[data-venue-scan-input]');

  function cameraRunning() {
    var scanner = document.querySelector('.venue-scanner');
    return !!(scanner && scanner.classList.contains('qr-scanner--running'));
  }

  document.addEventListener('htmx:afterSwap', function (event) {
    if (!scanField.isMine(event)) { return; }
    var field = document.querySelector('[data-venue-scan-input]');
    if (field) {
      scanField.answered(field);
      if (!cameraRunning() && document.activeElement !== field) { field.focus(); }
    }
    var result = document.getElementById('ket-qua');
    if (result && result.hasAttribute('data-colour')) {
      window.KhaiBaoResultSignal.play(result.getAttribute('data-colour'), false);
    }
  });
}());
