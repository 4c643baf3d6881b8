/*
 * Khai Báo — the officer's check page (/kiemtra) and camera scanner (/kiemtra/quet).
 *
 * The form posts with htmx (text in the body); this only adds, after each result swaps in:
 * the field is cleared for the next person (and focused on /kiemtra, where a USB barcode
 * reader types into it — not on the camera page, where focusing would open the phone's
 * keyboard), and a short sound and vibration whose pattern follows the colour. Strict-CSP
 * safe: no inline code, no eval.
 */
(function () {
  'use strict';

  var audioCtx = null;
  var lastResult = null;

  // An AudioContext may only start after a user gesture: a tap, a click or a key (a USB
  // barcode reader types keys, so it counts).
  function unlockAudio() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) { return; }
    try {
      if (!audioCtx) { audioCtx = new AC(); }
      if (audioCtx.state === 'suspended') { audioCtx.resume(); }
    } catch (e) { audioCtx = null; }
  }

  var TONES = {
    green: [[1046, 0, 0.12]],
    yellow: [[784, 0, 0.1], [784, 0.16, 0.1]],
    red: [[330, 0, 0.45]],
    none: [[220, 0, 0.2]]
  };
  var VIBRATIONS = { green: 80, yellow: [80, 60, 80], red: [300, 80, 300], none: [200] };

  function beep(colour) {
    if (!audioCtx || audioCtx.state !== 'running') { return; }
    try {
      var t = audioCtx.currentTime;
      (TONES[colour] || TONES.none).forEach(function (tone) {
        var osc = audioCtx.createOscillator();
        var gain = audioCtx.createGain();
        osc.type = 'sine';
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

  function vibrate(colour) {
    try {
      if (navigator.vibrate) { navigator.vibrate(VIBRATIONS[colour] || VIBRATIONS.none); }
    } catch (e) { /* not allowed: ignore */ }
  }

  function afterSwap() {
    var input = document.querySelector('[data-check-input]');
    var onScanPage = !!document.querySelector('.check-on-scan');
    if (input) {
      input.value = '';
      if (!onScanPage) { input.focus(); }
    }
    var result = document.getElementById('ket-qua');
    if (result && result !== lastResult && result.hasAttribute('data-colour')) {
      lastResult = result; // a new result arrived (not just "Ghi nhận" inside the old one)
      var colour = result.getAttribute('data-colour');
      beep(colour);
      vibrate(colour);
      document.body.setAttribute('data-check-colour', colour);
    }
  }

  document.addEventListener('pointerdown', unlockAudio, true);
  document.addEventListener('keydown', unlockAudio, true);
  document.addEventListener('htmx:afterSwap', afterSwap);
  document.addEventListener('DOMContentLoaded', function () {
    lastResult = document.getElementById('ket-qua');
  });
}());
