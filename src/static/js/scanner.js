/*
 * Khai Báo — camera QR scanner (progressive enhancement, no dependencies).
 *
 * Decodes with the native BarcodeDetector when it supports "qr_code", otherwise with jsQR
 * (fetched only then, from <meta name="khaibao-jsqr" content="URL">: phones with the native
 * detector never download it, and no page pays for it before its camera starts).
 * Strict-CSP safe: no eval, no inline styles; state is shown through classes, the `hidden`
 * attribute and `data-qr-state` only.
 *
 * Markup contract (the server renders it; everything but the root and <video> is optional):
 *
 *   <div class="qr-scanner" data-qr-scanner
 *        [data-continuous] [data-target-input="#code"] [data-submit="false"] [data-silent]
 *        [data-dedupe-ms="3000"] data-msg-stop="…" data-msg-starting="…" …>
 *     <div class="qr-scanner__viewport" data-qr-viewport hidden>
 *       <video class="qr-scanner__video" muted playsinline></video>
 *       <div class="qr-scanner__frame" aria-hidden="true"></div>
 *     </div>
 *     <div class="qr-scanner__controls">
 *       <button type="button" class="qr-scanner__button" data-qr-toggle hidden>Bật camera để quét</button>
 *       <button type="button" class="qr-scanner__button" data-qr-torch hidden>Đèn pin</button>
 *       <button type="button" class="qr-scanner__button" data-qr-switch hidden>Đổi camera</button>
 *     </div>
 *     <p class="qr-scanner__status" data-qr-status role="status" aria-live="polite"></p>
 *   </div>
 *
 * Texts: the script has none of its own. The root's data-msg-* attributes, rendered from the
 * catalog in the page's language (the macro texts() of templates/_scanner.html), give the
 * toggle's label while running (stop) and the status lines: starting, scanning, found,
 * stopped, paused, denied, no-camera, insecure, unsupported, busy, error. The toggle's label
 * when stopped is its own text as rendered (or data-msg-start).
 *
 * Events (all bubble, dispatched on the root element):
 *   qr-scanned          detail {text, engine, format, decodeMs}; cancelable — preventDefault()
 *                       stops the data-target-input fill/submit for that result.
 *   qr-scanner-started  detail {engine}
 *   qr-scanner-stopped  detail {reason}  ("user" | "result" | "hidden" | "switch" | "error" |
 *                       "cleanup" | "removed")
 *   qr-scanner-error    detail {reason, message}  reason: denied | no-camera | insecure |
 *                       unsupported | busy | error
 *
 * State on the root, for CSS and tests: class qr-scanner--ready once bound, --running while the
 * camera is on, --found briefly after a result, --error; data-qr-state = idle | starting |
 * scanning | done (single mode, after a result) | stopped | error; data-qr-engine = native | jsqr.
 * The result's text is only ever put in `textContent`/`value`, never parsed as HTML.
 *
 * Continuous mode: the same text is reported again only after it has been out of view for
 * data-dedupe-ms (default 3000 ms); a different text is reported at once.
 *
 * API: window.KhaiBaoScanner.bind(root?) binds every [data-qr-scanner] under root (done
 * automatically on page load and on htmx:load); .get(el) returns the instance
 * ({start(), stop(reason), destroy()}).
 */
(function () {
  'use strict';

  if (window.KhaiBaoScanner) {
    return; // loaded twice (e.g. a swapped fragment repeated the <script>): keep the first
  }

  var FRAME_INTERVAL_MS = 100; // ~10 decodes per second
  var MAX_DECODE_WIDTH = 640;
  var DEFAULT_DEDUPE_MS = 3000;
  var FOUND_FLASH_MS = 700;

  var instances = new WeakMap();
  var live = new Set();
  var audioCtx = null;
  var nativeSupport = null; // Promise<boolean>, computed once

  function nativeQrSupported() {
    if (nativeSupport) {
      return nativeSupport;
    }
    var BD = window.BarcodeDetector;
    if (typeof BD !== 'function') {
      nativeSupport = Promise.resolve(false);
    } else if (typeof BD.getSupportedFormats !== 'function') {
      nativeSupport = Promise.resolve(true);
    } else {
      nativeSupport = BD.getSupportedFormats().then(function (formats) {
        return Array.isArray(formats) && formats.indexOf('qr_code') !== -1;
      }, function () { return false; });
    }
    return nativeSupport;
  }

  function ensureAudio() {
    // Called from a click handler only, so the context may start (autoplay policy).
    var AC = window.AudioContext || window.webkitAudioContext;
    if (!AC) {
      return;
    }
    try {
      if (!audioCtx) {
        audioCtx = new AC();
      }
      if (audioCtx.state === 'suspended') {
        audioCtx.resume();
      }
    } catch (e) {
      audioCtx = null;
    }
  }

  function beep() {
    if (!audioCtx || audioCtx.state !== 'running') {
      return;
    }
    try {
      var t = audioCtx.currentTime;
      var osc = audioCtx.createOscillator();
      var gain = audioCtx.createGain();
      osc.type = 'sine';
      osc.frequency.value = 1046;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.2, t + 0.01);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.12);
      osc.connect(gain);
      gain.connect(audioCtx.destination);
      osc.start(t);
      osc.stop(t + 0.13);
    } catch (e) { /* sound is a nicety */ }
  }

  function vibrate() {
    try {
      if (navigator.vibrate) {
        navigator.vibrate(80);
      }
    } catch (e) { /* not allowed: ignore */ }
  }

  function errorReason(err) {
    var name = (err && err.name) || '';
    if (name === 'NotAllowedError' || name === 'PermissionDeniedError' || name === 'SecurityError') {
      return 'denied';
    }
    if (name === 'NotFoundError' || name === 'DevicesNotFoundError' || name === 'OverconstrainedError') {
      return 'no-camera';
    }
    if (name === 'NotReadableError' || name === 'TrackStartError' || name === 'AbortError') {
      return 'busy';
    }
    return 'error';
  }

  var REASON_MESSAGE = {
    denied: 'denied',
    'no-camera': 'noCamera',
    insecure: 'insecure',
    unsupported: 'unsupported',
    busy: 'busy',
    error: 'error'
  };

  function Scanner(root) {
    this.root = root;
    this.video = root.querySelector('video');
    this.viewport = root.querySelector('[data-qr-viewport]');
    this.toggleBtn = root.querySelector('[data-qr-toggle]');
    this.torchBtn = root.querySelector('[data-qr-torch]');
    this.switchBtn = root.querySelector('[data-qr-switch]');
    this.statusEl = root.querySelector('[data-qr-status]');
    this.startLabel = this.toggleBtn && this.toggleBtn.textContent.trim();
    this.stream = null;
    this.track = null;
    this.engine = null;
    this.detector = null;
    this.canvas = null;
    this.ctx = null;
    this.timer = null;
    this.generation = 0;
    this.running = false;
    this.torchOn = false;
    this.devices = [];
    this.deviceId = null;
    this.lastText = null;
    this.lastSeen = 0;
    this.flashTimer = null;
    this.handlers = [];

    if (this.video) {
      this.video.muted = true;
      this.video.playsInline = true;
      this.video.setAttribute('muted', '');
      this.video.setAttribute('playsinline', '');
      this.video.setAttribute('autoplay', '');
    }
    this.listen(this.toggleBtn, 'click', this.onToggle.bind(this));
    this.listen(this.torchBtn, 'click', this.onTorch.bind(this));
    this.listen(this.switchBtn, 'click', this.onSwitch.bind(this));
    if (this.torchBtn) { this.torchBtn.hidden = true; }
    if (this.switchBtn) { this.switchBtn.hidden = true; }
    if (this.viewport) { this.viewport.hidden = true; }

    if (window.isSecureContext === false) {
      this.fail('insecure');
    } else if (!this.video || !navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') {
      this.fail('unsupported');
    } else {
      this.setState('idle');
      if (this.toggleBtn) {
        this.toggleBtn.hidden = false;
        this.toggleBtn.disabled = false;
      }
      this.setToggle(false);
    }
    this.root.classList.add('qr-scanner--ready');
  }

  Scanner.prototype.listen = function (el, type, fn) {
    if (el) {
      el.addEventListener(type, fn);
      this.handlers.push([el, type, fn]);
    }
  };

  Scanner.prototype.msg = function (key) {
    var attr = 'msg' + key.charAt(0).toUpperCase() + key.slice(1); // data-msg-no-camera → msgNoCamera
    var text = this.root.dataset[attr];
    if (!text && key === 'start') {
      return this.startLabel || '';
    }
    return text || '';
  };

  Scanner.prototype.status = function (key) {
    if (this.statusEl) {
      this.statusEl.textContent = key ? this.msg(key) : '';
    }
  };

  Scanner.prototype.setState = function (state) {
    this.root.setAttribute('data-qr-state', state);
    this.root.classList.toggle('qr-scanner--running', state === 'scanning' || state === 'starting');
    this.root.classList.toggle('qr-scanner--error', state === 'error');
  };

  Scanner.prototype.setToggle = function (running) {
    if (!this.toggleBtn) {
      return;
    }
    this.toggleBtn.textContent = this.msg(running ? 'stop' : 'start');
    this.toggleBtn.setAttribute('aria-pressed', running ? 'true' : 'false');
  };

  Scanner.prototype.emit = function (type, detail, cancelable) {
    var ev = new CustomEvent(type, { bubbles: true, cancelable: !!cancelable, detail: detail });
    return this.root.dispatchEvent(ev);
  };

  Scanner.prototype.fail = function (reason) {
    var key = REASON_MESSAGE[reason] || 'error';
    this.setState('error');
    this.status(key);
    if (reason === 'insecure' || reason === 'unsupported') {
      if (this.toggleBtn) { this.toggleBtn.hidden = true; }
    }
    this.emit('qr-scanner-error', { reason: reason, message: this.msg(key) });
  };

  Scanner.prototype.onToggle = function () {
    ensureAudio();
    if (this.running) {
      this.stop('user');
    } else {
      this.start();
    }
  };

  Scanner.prototype.onTorch = function () {
    var self = this;
    if (!this.track) {
      return;
    }
    var want = !this.torchOn;
    this.track.applyConstraints({ advanced: [{ torch: want }] }).then(function () {
      self.torchOn = want;
      self.torchBtn.setAttribute('aria-pressed', want ? 'true' : 'false');
    }, function () {
      self.torchBtn.hidden = true;
    });
  };

  Scanner.prototype.onSwitch = function () {
    ensureAudio();
    if (this.devices.length < 2) {
      return;
    }
    var current = this.track && this.track.getSettings ? this.track.getSettings().deviceId : this.deviceId;
    var idx = -1;
    for (var i = 0; i < this.devices.length; i++) {
      if (this.devices[i].deviceId === current) { idx = i; }
    }
    this.deviceId = this.devices[(idx + 1) % this.devices.length].deviceId;
    this.stop('switch', true);
    this.start();
  };

  Scanner.prototype.start = function () {
    var self = this;
    if (this.running) {
      return Promise.resolve();
    }
    if (window.isSecureContext === false) {
      this.fail('insecure');
      return Promise.resolve();
    }
    if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== 'function') {
      this.fail('unsupported');
      return Promise.resolve();
    }
    var gen = ++this.generation;
    this.running = true;
    this.lastText = null;
    this.setState('starting');
    this.setToggle(true);
    this.status('starting');

    return this.chooseEngine().then(function (engine) {
      if (gen !== self.generation) { return null; }
      if (!engine) {
        self.running = false;
        self.setToggle(false);
        self.fail('unsupported');
        return null;
      }
      self.engine = engine;
      var video = { facingMode: { ideal: 'environment' }, width: { ideal: 1280 }, height: { ideal: 720 } };
      if (self.deviceId) {
        video = { deviceId: { exact: self.deviceId }, width: { ideal: 1280 }, height: { ideal: 720 } };
      }
      return navigator.mediaDevices.getUserMedia({ video: video, audio: false });
    }).then(function (stream) {
      if (!stream) { return; }
      if (gen !== self.generation || !self.root.isConnected) {
        stream.getTracks().forEach(function (t) { t.stop(); });
        return;
      }
      self.stream = stream;
      self.track = stream.getVideoTracks()[0] || null;
      self.video.srcObject = stream;
      if (self.viewport) { self.viewport.hidden = false; }
      var played = self.video.play();
      return Promise.resolve(played).catch(function () { /* autoplay of a muted stream: retried by frames */ }).then(function () {
        if (gen !== self.generation) { return; }
        self.root.setAttribute('data-qr-engine', self.engine);
        self.setState('scanning');
        self.status('scanning');
        self.emit('qr-scanner-started', { engine: self.engine });
        self.setupExtras();
        self.schedule(gen, 0);
      });
    }).catch(function (err) {
      if (gen !== self.generation) { return; }
      self.stop('error', true);
      if (self.deviceId && err && err.name === 'OverconstrainedError') {
        self.deviceId = null; // the chosen camera went away: fall back to the default next time
      }
      self.fail(errorReason(err));
    });
  };

  Scanner.prototype.chooseEngine = function () {
    var self = this;
    return nativeQrSupported().then(function (native) {
      if (native) {
        try {
          self.detector = new window.BarcodeDetector({ formats: ['qr_code'] });
          return 'native';
        } catch (e) { /* fall through to jsQR */ }
      }
      return loadJsQR().then(function (loaded) {
        if (!loaded) { return null; }
        self.canvas = self.canvas || document.createElement('canvas');
        self.ctx = self.ctx || self.canvas.getContext('2d', { willReadFrequently: true });
        return self.ctx ? 'jsqr' : null;
      });
    });
  };

  var jsQRLoading = null;
  function loadJsQR() {
    if (typeof window.jsQR === 'function') { return Promise.resolve(true); }
    if (jsQRLoading) { return jsQRLoading; }
    var meta = document.querySelector('meta[name="khaibao-jsqr"]');
    if (!meta) { return Promise.resolve(false); }
    jsQRLoading = new Promise(function (resolve) {
      var script = document.createElement('script');
      script.src = meta.getAttribute('content');
      script.onload = function () { resolve(typeof window.jsQR === 'function'); };
      script.onerror = function () { jsQRLoading = null; resolve(false); };
      document.head.appendChild(script);
    });
    return jsQRLoading;
  }

  Scanner.prototype.setupExtras = function () {
    var self = this;
    var track = this.track;
    if (this.torchBtn) {
      var caps = track && track.getCapabilities ? track.getCapabilities() : {};
      this.torchBtn.hidden = !(caps && caps.torch);
      this.torchOn = false;
      this.torchBtn.setAttribute('aria-pressed', 'false');
    }
    if (this.switchBtn && navigator.mediaDevices.enumerateDevices) {
      navigator.mediaDevices.enumerateDevices().then(function (list) {
        self.devices = list.filter(function (d) { return d.kind === 'videoinput' && d.deviceId; });
        self.switchBtn.hidden = self.devices.length < 2 || !self.running;
      }, function () { /* keep hidden */ });
    }
  };

  Scanner.prototype.schedule = function (gen, delay) {
    var self = this;
    this.timer = window.setTimeout(function () { self.tick(gen); }, delay);
  };

  Scanner.prototype.tick = function (gen) {
    var self = this;
    if (gen !== this.generation || !this.running) {
      return;
    }
    if (!this.root.isConnected) {
      this.stop('removed');
      return;
    }
    var video = this.video;
    if (video.readyState < 2 || !video.videoWidth) {
      if (video.paused) { video.play().catch(function () {}); }
      this.schedule(gen, FRAME_INTERVAL_MS);
      return;
    }
    var t0 = performance.now();
    var pending;
    try {
      pending = this.decode();
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(function (result) {
      if (gen !== self.generation || !self.running) { return; }
      var spent = performance.now() - t0;
      if (result) {
        self.deliver(result.text, result.format, spent);
        if (!self.running || gen !== self.generation) { return; }
      }
      self.schedule(gen, Math.max(0, FRAME_INTERVAL_MS - spent));
    }, function () {
      if (gen === self.generation && self.running) {
        self.schedule(gen, FRAME_INTERVAL_MS);
      }
    });
  };

  Scanner.prototype.decode = function () {
    var video = this.video;
    if (this.engine === 'native') {
      return this.detector.detect(video).then(function (codes) {
        for (var i = 0; i < codes.length; i++) {
          if (codes[i].rawValue) {
            return { text: codes[i].rawValue, format: codes[i].format || 'qr_code' };
          }
        }
        return null;
      });
    }
    var scale = Math.min(1, MAX_DECODE_WIDTH / video.videoWidth);
    var w = Math.max(1, Math.round(video.videoWidth * scale));
    var h = Math.max(1, Math.round(video.videoHeight * scale));
    if (this.canvas.width !== w || this.canvas.height !== h) {
      this.canvas.width = w;
      this.canvas.height = h;
    }
    this.ctx.drawImage(video, 0, 0, w, h);
    var image = this.ctx.getImageData(0, 0, w, h);
    var code = window.jsQR(image.data, w, h, { inversionAttempts: 'dontInvert' });
    return Promise.resolve(code && code.data ? { text: code.data, format: 'qr_code' } : null);
  };

  Scanner.prototype.deliver = function (text, format, decodeMs) {
    var now = Date.now();
    var continuous = this.root.hasAttribute('data-continuous');
    var dedupe = parseInt(this.root.getAttribute('data-dedupe-ms'), 10);
    if (!(dedupe >= 0)) { dedupe = DEFAULT_DEDUPE_MS; }
    if (continuous && text === this.lastText && now - this.lastSeen < dedupe) {
      this.lastSeen = now; // still in view: keep ignoring until it has been gone for `dedupe` ms
      return;
    }
    this.lastText = text;
    this.lastSeen = now;

    if (!this.root.hasAttribute('data-silent')) {
      vibrate();
      beep();
    }
    this.flash();
    this.status('found');
    if (!continuous) {
      this.stop('result', true);
      this.status('found');
    }
    var proceed = this.emit('qr-scanned', {
      text: text, engine: this.engine, format: format, decodeMs: Math.round(decodeMs)
    }, true);
    if (proceed) {
      this.fillTarget(text);
    }
  };

  Scanner.prototype.fillTarget = function (text) {
    var sel = this.root.getAttribute('data-target-input');
    if (!sel) { return; }
    var input = null;
    try { input = document.querySelector(sel); } catch (e) { input = null; }
    if (!input) { return; }
    input.value = text;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    input.dispatchEvent(new Event('change', { bubbles: true }));
    var form = input.form;
    if (!form || this.root.getAttribute('data-submit') === 'false') { return; }
    if (typeof form.requestSubmit === 'function') {
      form.requestSubmit();
    } else {
      var ev = new Event('submit', { bubbles: true, cancelable: true });
      if (form.dispatchEvent(ev)) { form.submit(); }
    }
  };

  Scanner.prototype.flash = function () {
    var root = this.root;
    root.classList.add('qr-scanner--found');
    window.clearTimeout(this.flashTimer);
    this.flashTimer = window.setTimeout(function () {
      root.classList.remove('qr-scanner--found');
    }, FOUND_FLASH_MS);
  };

  /** Stop the camera. `quiet` leaves the status line alone (caller sets it). */
  Scanner.prototype.stop = function (reason, quiet) {
    var wasRunning = this.running || !!this.stream;
    this.generation++;
    this.running = false;
    window.clearTimeout(this.timer);
    this.timer = null;
    if (this.stream) {
      this.stream.getTracks().forEach(function (t) { t.stop(); });
    }
    this.stream = null;
    this.track = null;
    if (this.video) {
      try { this.video.pause(); } catch (e) { /* ignore */ }
      this.video.srcObject = null;
    }
    if (this.viewport) { this.viewport.hidden = true; }
    if (this.torchBtn) { this.torchBtn.hidden = true; }
    if (this.switchBtn) { this.switchBtn.hidden = true; }
    this.setToggle(false);
    if (this.root.getAttribute('data-qr-state') !== 'error') {
      this.setState(reason === 'result' ? 'done' : 'stopped');
    }
    if (!quiet) {
      this.status(reason === 'hidden' ? 'paused' : 'stopped');
    }
    if (wasRunning) {
      this.emit('qr-scanner-stopped', { reason: reason || 'user' });
    }
  };

  Scanner.prototype.destroy = function (reason) {
    this.stop(reason || 'cleanup', true);
    this.handlers.forEach(function (h) { h[0].removeEventListener(h[1], h[2]); });
    this.handlers = [];
    window.clearTimeout(this.flashTimer);
    instances.delete(this.root);
    live.delete(this);
  };

  function bind(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var found = [];
    if (scope.matches && scope.matches('[data-qr-scanner]')) {
      found.push(scope);
    }
    Array.prototype.push.apply(found, scope.querySelectorAll('[data-qr-scanner]'));
    found.forEach(function (el) {
      if (!instances.has(el)) {
        var s = new Scanner(el);
        instances.set(el, s);
        live.add(s);
      }
    });
  }

  // htmx fires htmx:beforeCleanupElement on the removed element and on each descendant, so
  // looking at the event target alone is enough. Removal by other means is caught by tick().
  function cleanup(el) {
    var s = el && instances.get(el);
    if (s) { s.destroy('cleanup'); }
  }

  document.addEventListener('visibilitychange', function () {
    if (document.hidden) {
      live.forEach(function (s) {
        if (s.running) { s.stop('hidden'); }
      });
    }
  });
  window.addEventListener('pagehide', function () {
    live.forEach(function (s) { if (s.running) { s.stop('hidden', true); } });
  });
  document.addEventListener('htmx:load', function (e) { bind(e.target); });
  document.addEventListener('htmx:beforeCleanupElement', function (e) { cleanup(e.target); });

  window.KhaiBaoScanner = {
    bind: bind,
    get: function (el) { return instances.get(el) || null; }
  };

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { bind(document); });
  } else {
    bind(document);
  }
})();
