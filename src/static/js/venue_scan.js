/*
 * Khai Báo — the venue's scanner (/diem-den/{id}/quet).
 *
 * The form posts with htmx (the scanned text in the body); scanner.js fills the field and
 * submits it for each code the camera reads (the same code is ignored for 3 s). After each
 * result swaps in, this clears the field and puts the cursor back in it, so a USB barcode
 * reader (which types the code and Enter) can scan the next person at once. While the camera
 * runs the field is not focused: on a phone that would open the keyboard over the video.
 * A short tone and vibration follow the colour. Strict-CSP safe: no inline code, no eval.
 */
(function () {
  'use strict';

  var audioCtx = null;
  var TONES = { green: [[1046, 0, 0.12]], yellow: [[784, 0, 0.1], [784, 0.16, 0.1]], red: [[330, 0, 0.45]] };
  var VIBRATIONS = { green: 80, yellow: [80, 60, 80], red: [300, 80, 300] };

  function unlockAudio() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) { return; }
    try {
      if (!audioCtx) { audioCtx = new AC(); }
      if (audioCtx.state === 'suspended') { audioCtx.resume(); }
    } catch (e) { audioCtx = null; }
  }

  function signal(colour) {
    try {
      if (navigator.vibrate && VIBRATIONS[colour]) { navigator.vibrate(VIBRATIONS[colour]); }
    } catch (e) { /* not allowed: ignore */ }
    if (!audioCtx || audioCtx.state !== 'running' || !TONES[colour]) { return; }
    try {
      var t = audioCtx.currentTime;
      TONES[colour].forEach(function (tone) {
        var osc = audioCtx.createOscillator();
        var gain = audioCtx.createGain();
        osc.frequency.value = tone[0];
        gain.gain.setValueAtTime(0.0001, t + tone[1]);
        gain.gain.exponentialRampToValueAtTime(0.25, t + tone[1] + 0.01);
        gain.gain.exponentialRampToValueAtTime(0.0001, t + tone[1] + tone[2]);
        osc.connect(gain);
        gain.connect(audioCtx.destination);
        osc.start(t + tone[1]);
        osc.stop(t + tone[1] + tone[2] + 0.01);
      });
    } catch (e) { /* sound is a nicety */ }
  }

  function cameraRunning() {
    var scanner = document.querySelector('.venue-scanner');
    return !!(scanner && scanner.classList.contains('qr-scanner--running'));
  }

  function afterSwap(event) {
    var target = event.detail && event.detail.target;
    if (!target || !target.closest || !document.getElementById('quet-diem-den')) { return; }
    var input = document.querySelector('[data-venue-scan-input]');
    if (input) {
      input.value = '';
      if (!cameraRunning()) { input.focus(); }
    }
    var result = document.getElementById('ket-qua');
    if (result && result.hasAttribute('data-colour')) {
      signal(result.getAttribute('data-colour'));
    }
  }

  document.addEventListener('pointerdown', unlockAudio, true);
  document.addEventListener('keydown', unlockAudio, true);
  document.addEventListener('htmx:afterSwap', afterSwap);
}());
