/*
 * Khai Báo — the sound and vibration after a scan result (the check page /kiemtra, its camera
 * page and a venue's scanner), shared by check.js and venue_scan.js; load it before them.
 *
 * An AudioContext may only start after a user gesture: a tap, a click or a key (a USB barcode
 * reader types keys, so it counts), so this listens for those from the start.
 * API: window.KhaiBaoResultSignal.play(colour, fallback) plays the tone and vibration of
 * "green" | "yellow" | "red"; any other colour is silent unless ``fallback`` is true (then a
 * low "none" tone).
 * Strict-CSP safe: no inline code, no eval.
 */
(function () {
  'use strict';

  var audioCtx = null;
  var TONES = {
    green: [[1046, 0, 0.12]],
    yellow: [[784, 0, 0.1], [784, 0.16, 0.1]],
    red: [[330, 0, 0.45]]
  };
  var VIBRATIONS = { green: 80, yellow: [80, 60, 80], red: [300, 80, 300] };
  var NONE_TONES = [[220, 0, 0.2]];
  var NONE_VIBRATION = [200];

  function unlockAudio() {
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) { return; }
    try {
      if (!audioCtx) { audioCtx = new AC(); }
      if (audioCtx.state === 'suspended') { audioCtx.resume(); }
    } catch (e) { audioCtx = null; }
  }

  function beep(tones) {
    if (!audioCtx || audioCtx.state !== 'running') { return; }
    try {
      var t = audioCtx.currentTime;
      tones.forEach(function (tone) {
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

  function vibrate(pattern) {
    try {
      if (navigator.vibrate) { navigator.vibrate(pattern); }
    } catch (e) { /* not allowed: ignore */ }
  }

  function play(colour, fallback) {
    var known = Object.prototype.hasOwnProperty.call(TONES, colour);
    if (!known && !fallback) { return; }
    vibrate(known ? VIBRATIONS[colour] : NONE_VIBRATION);
    beep(known ? TONES[colour] : NONE_TONES);
  }

  document.addEventListener('pointerdown', unlockAudio, true);
  document.addEventListener('keydown', unlockAudio, true);
  window.KhaiBaoResultSignal = { play: play };
}());
