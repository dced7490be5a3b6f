// Getting the operator's attention for a new critical or life-safety alert: a sound (an <audio> element, so it
// works offline and can be tested) and a flashing tab title until the page is looked at. An operator can mute the
// sound for the rest of the shift; the choice survives a reload (localStorage) and ends by itself.

import { t } from "./i18n.js";

const MUTE_KEY = "ew.alarm.mutedUntil";
const SHIFT_MS = 12 * 3600e3;
const FLASH_MS = 60_000;

export class Alarm {
  constructor() {
    this.audio = document.getElementById("alarm-sound");
    this.flashTimer = 0;
    this.flashEnds = 0;
    this.title = document.title;
    window.addEventListener("focus", () => this.stopFlash());
    document.addEventListener("visibilitychange", () => { if (!document.hidden && document.hasFocus()) this.stopFlash(); });
  }

  /** Until when the sound is muted (ms since the epoch), or 0 when it is on. */
  mutedUntil(now = Date.now()) {
    const until = Number(localStorage.getItem(MUTE_KEY) ?? 0);
    return until > now ? until : 0;
  }

  /** Mute for the shift (12 h), or turn the sound back on. */
  setMuted(muted, now = Date.now()) {
    if (muted) localStorage.setItem(MUTE_KEY, String(now + SHIFT_MS));
    else localStorage.removeItem(MUTE_KEY);
  }

  /** A new alert needs eyes now: sound (unless muted) and flash the title. */
  ring(text) {
    if (!this.mutedUntil()) {
      this.audio.currentTime = 0;
      const played = this.audio.play();
      played?.catch(() => { /* the browser refused autoplay: the title still flashes */ });
    }
    this.flash(text);
  }

  flash(text) {
    this.stopFlash();
    this.title = document.title;
    this.flashEnds = Date.now() + FLASH_MS;
    let on = false;
    document.body.dataset.flashing = "true";
    this.flashTimer = setInterval(() => {
      on = !on;
      document.title = on ? `⚠ ${text}` : this.title;
      if (Date.now() > this.flashEnds) this.stopFlash();
    }, 700);
    document.title = `⚠ ${text}`;
  }

  stopFlash() {
    if (!this.flashTimer) return;
    clearInterval(this.flashTimer);
    this.flashTimer = 0;
    document.title = this.title;
    delete document.body.dataset.flashing;
  }

  /** The mute button's text and state. */
  describe(button, formatTime) {
    const until = this.mutedUntil();
    button.setAttribute("aria-pressed", until ? "true" : "false");
    button.textContent = until ? `${t("Muted until {time}", { time: formatTime(new Date(until).toISOString()) })}`
      : t("Sound on");
    button.title = t("Mute alarm sound for this shift");
  }
}
