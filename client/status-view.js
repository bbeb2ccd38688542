// The header: connection state (connected / reconnecting with a countdown),
// the person's current name with the rename form, and transient notices.

const NOTICE_MS = 6000;

export class StatusView {
  #status;
  #reconnectButton;
  #nickInput;
  #nickError;
  #notices;
  #countdown = 0;
  #noticeTimer = 0;

  constructor(elements) {
    this.#status = elements.status;
    this.#reconnectButton = elements.reconnectButton;
    this.#nickInput = elements.nickInput;
    this.#nickError = elements.nickError;
    this.#notices = elements.notices;
  }

  connection(detail, me) {
    clearInterval(this.#countdown);
    this.#status.dataset.state = detail.state;
    this.#reconnectButton.hidden = detail.state !== 'reconnecting';
    if (detail.state === 'connected') {
      this.#status.textContent = me ? `Connected as ${me}` : 'Connected';
    } else if (detail.state === 'connecting') {
      this.#status.textContent = 'Connecting…';
    } else if (detail.retryAt) {
      const tick = () => {
        const seconds = Math.max(0, Math.ceil((detail.retryAt - Date.now()) / 1000));
        this.#status.textContent = seconds > 0 ? `Reconnecting in ${seconds}s…` : 'Reconnecting…';
      };
      tick();
      this.#countdown = setInterval(tick, 1000);
    } else {
      this.#status.textContent = 'Reconnecting…';
    }
  }

  me(name) {
    // Do not overwrite what the person is typing.
    if (document.activeElement !== this.#nickInput) this.#nickInput.value = name;
    this.#nickInput.dataset.current = name;
    this.#nickError.textContent = '';
  }

  nickError(text) {
    this.#nickError.textContent = text;
  }

  notice(text, kind = 'info') {
    clearTimeout(this.#noticeTimer);
    this.#notices.textContent = text;
    this.#notices.dataset.kind = kind;
    this.#notices.hidden = false;
    this.#noticeTimer = setTimeout(() => { this.#notices.hidden = true; }, NOTICE_MS);
  }
}
