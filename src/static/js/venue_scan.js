/*
 * Khai Báo — the venue's scanner (/diem-den/{id}/quet).
 *
 * The form posts with htmx (the scanned text in the body); scanner.js fills the field and
 * submits it for each code the camera reads (the same code is ignored for 3 s). After each
 * result swaps in, this clears the field and puts the cursor back in it, so a USB barcode
 * reader (which types the code and Enter) can scan the next person at once. While the camera
 * runs the field is not focused: on a phone that would open the keyboard over the video.
 * A short tone and vibration follow the colour (result_signal.js, loaded before this file).
 * Strict-CSP safe: no inline code, no eval.
 */
(function () {
  'use strict';

  function cameraRunning() {
    var scanner = document.querySelector('.venue-scanner');
    return !!(scanner && scanner.classList.contains('qr-scanner--running'));
  }

  function afterSwap(event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.closest || !document.getElementById('quet-diem-den')) { return; }
    var signal = window.KhaiBaoResultSignal;
    signal.clearField(document.querySelector('[data-venue-scan-input]'), !cameraRunning());
    var result = document.getElementById('ket-qua');
    if (result && result.hasAttribute('data-colour')) {
      signal.play(result.getAttribute('data-colour'), false);
    }
  }

  document.addEventListener('htmx:afterSwap', afterSwap);
}());
