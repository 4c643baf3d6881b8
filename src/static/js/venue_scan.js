/*
 * Khai Báo — the venue's scanner (/diem-den/{id}/quet).
 *
 * The form posts with htmx (the scanned text in the body); scanner.js fills the field and
 * submits it for each code the camera reads (the same code is ignored for 3 s). The field is
 * emptied the moment a code is sent, not when its answer swaps in: a USB barcode reader may
 * already be typing the next person's code, and an answer must not wipe it (the input is
 * never swapped). When the answer is an error about what was typed (#q-loi), or no answer
 * came, the typed text comes back into the field. After each answer the cursor goes back to
 * the field — not while the camera runs: on a phone that would open the keyboard over the
 * video. A short tone and vibration follow the colour (result_signal.js, loaded before this
 * file). Strict-CSP safe: no inline code, no eval.
 */
(function () {
  'use strict';

  var submitted = '';

  function input() { return document.querySelector('[data-venue-scan-input]'); }

  function cameraRunning() {
    var scanner = document.querySelector('.venue-scanner');
    return !!(scanner && scanner.classList.contains('qr-scanner--running'));
  }

  function isScan(event) {
    var config = event.detail && event.detail.requestConfig;
    var elt = config && config.elt;
    return !!(elt && elt.classList && elt.classList.contains('venue-scan-form'));
  }

  function onSend(event) {
    if (!isScan(event)) { return; }
    var field = input();
    if (!field) { return; }
    submitted = field.value; // htmx has read the form already
    field.value = '';
  }

  function afterSwap(event) {
    if (!isScan(event)) { return; }
    var field = input();
    if (field) {
      if (document.getElementById('q-loi')) {
        field.setAttribute('aria-invalid', 'true');
        if (field.value === '' && submitted) { field.value = submitted; }
      } else {
        field.removeAttribute('aria-invalid');
      }
      if (!cameraRunning() && document.activeElement !== field) { field.focus(); }
    }
    var result = document.getElementById('ket-qua');
    if (result && result.hasAttribute('data-colour')) {
      window.KhaiBaoResultSignal.play(result.getAttribute('data-colour'), false);
    }
  }

  function onFailure(event) {
    // no answer (offline, server down): give the typed text back unless a new one was begun
    var field = input();
    if (field && isScan(event) && field.value === '' && submitted) { field.value = submitted; }
  }

  document.addEventListener('htmx:beforeRequest', onSend);
  document.addEventListener('htmx:sendError', onFailure);
  document.addEventListener('htmx:responseError', onFailure);
  document.addEventListener('htmx:afterSwap', afterSwap);
}());
