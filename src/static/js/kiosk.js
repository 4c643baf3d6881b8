// Kiosk pages: back to the welcome screen after idle, nothing of the previous visitor kept.
//  - body[data-idle-seconds]: seconds without input before the reset (read at every tick,
//    so it can be changed while the page is open); a countdown shows in the last 10 s;
//    the reset posts #kiosk-reset (POST /kiosk/xong ends the visit on the server).
//  - a page restored from the back/forward cache is reloaded: the server decides again.
//  - a form is sent once (a double tap would race the visit rotation).
"use strict";
(() => {
  const body = document.body;
  const countdown = document.getElementById("kiosk-countdown");
  const COUNTDOWN_FROM = 10;
  let lastInput = Date.now();
  let resetting = false;

  window.addEventListener("pageshow", (event) => {
    if (event.persisted) window.location.reload();
  });

  const touch = () => {
    lastInput = Date.now();
    if (countdown && !countdown.hidden) countdown.hidden = true;
  };
  for (const name of ["pointerdown", "keydown", "input", "touchstart", "wheel", "scroll"]) {
    window.addEventListener(name, touch, { passive: true, capture: true });
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.dataset.sent === "1") {
      event.preventDefault();
      return;
    }
    form.dataset.sent = "1";
  });

  const reset = () => {
    if (resetting) return;
    resetting = true;
    const form = document.getElementById("kiosk-reset");
    if (form) {
      form.submit();
    } else {
      window.location.replace("/kiosk");
    }
  };

  const tick = () => {
    const limit = Number.parseFloat(body.dataset.idleSeconds || "");
    if (!Number.isFinite(limit) || limit <= 0 || resetting) return;
    const left = Math.ceil(limit - (Date.now() - lastInput) / 1000);
    if (left <= 0) {
      reset();
      return;
    }
    if (countdown) {
      if (left <= COUNTDOWN_FROM) {
        const text = body.dataset.msgCountdown || "{n}";
        countdown.textContent = text.replace("{n}", String(left));
        countdown.hidden = false;
      } else {
        countdown.hidden = true;
      }
    }
  };
  window.setInterval(tick, 250);
})();
