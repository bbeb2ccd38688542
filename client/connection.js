// One logical ChatHub session over a series of WebSockets: opens the socket,
// reports frames and state changes, and reconnects with backoff after any
// close it did not ask for (a drop, 1001 server shutdown, 1013 slow reader...).

import { Backoff } from './backoff.js';

const PING_EVERY_MS = 25000;
// A socket that answers nothing for this long after a ping is treated as dead:
// browsers can miss a half-open TCP connection for minutes otherwise.
const PONG_TIMEOUT_MS = 10000;

export class ChatConnection extends EventTarget {
  #urlFor;
  #backoff;
  #socket = null;
  #ready = false;
  #retryTimer = 0;
  #pingTimer = 0;
  #pongDeadline = 0;
  #stopped = false;
  #opening = false;
  #epoch = 0;

  /** @param urlFor () => string or Promise<string>, the WebSocket URL for the next attempt (it may fetch a token) */
  constructor(urlFor, backoff = new Backoff()) {
    super();
    this.#urlFor = urlFor;
    this.#backoff = backoff;
  }

  /** Increments with every socket, so callers can tell what was sent on which. */
  get epoch() {
    return this.#epoch;
  }

  /** True between the server's welcome and the socket's close. */
  get ready() {
    return this.#ready;
  }

  start() {
    this.#stopped = false;
    this.#open();
  }

  /** Skips the remaining backoff wait (e.g. a "Reconnect now" click). */
  reconnectNow() {
    if (this.#socket || this.#stopped || this.#opening) return;
    clearTimeout(this.#retryTimer);
    this.#open();
  }

  /** Sends one JSON frame; false when there is no ready socket (caller keeps it pending). */
  send(frame) {
    if (!this.#ready || this.#socket?.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(JSON.stringify(frame));
    return true;
  }

  async #open() {
    this.#epoch += 1;
    this.#emitState(this.#epoch === 1 ? 'connecting' : 'reconnecting', {});
    let socket;
    this.#opening = true;
    try {
      socket = new WebSocket(await this.#urlFor());
    } catch (error) {
      this.#scheduleRetry(0, String(error));
      return;
    } finally {
      this.#opening = false;
    }
    this.#socket = socket;
    socket.addEventListener('message', event => this.#onMessage(socket, event));
    socket.addEventListener('close', event => this.#onClose(socket, event.code, event.reason));
  }

  #onMessage(socket, event) {
    if (socket !== this.#socket) return;
    this.#pongDeadline = 0;
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch {
      return; // the JSON format never sends anything else; ignore rather than crash
    }
    if (frame?.type === 'welcome') {
      this.#ready = true;
      this.#backoff.reset();
      this.#startPings(socket);
      this.#emitState('connected', {});
    }
    this.dispatchEvent(new CustomEvent('frame', { detail: frame }));
  }

  #onClose(socket, code, reason) {
    if (socket !== this.#socket) return;
    this.#socket = null;
    this.#ready = false;
    clearInterval(this.#pingTimer);
    if (this.#stopped) return;
    // 1008 means the server considers this client abusive: wait the longest.
    if (code === 1008) this.#backoff.exhaust();
    this.#scheduleRetry(code, reason);
  }

  #scheduleRetry(code, reason) {
    const delayMs = this.#backoff.nextDelayMs();
    this.#emitState('reconnecting', { code, reason, retryAt: Date.now() + delayMs });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#open(), delayMs);
  }

  #startPings(socket) {
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      if (this.#pongDeadline && Date.now() > this.#pongDeadline) {
        this.#abandon(socket);
        return;
      }
      if (!this.#pongDeadline && this.send({ type: 'ping', ref: `ping-${Date.now()}` })) {
        this.#pongDeadline = Date.now() + PONG_TIMEOUT_MS;
      }
    }, Math.min(PING_EVERY_MS, PONG_TIMEOUT_MS));
  }

  // close() on a dead socket may wait long for the closing handshake, so stop
  // listening to it and treat it as closed now.
  #abandon(socket) {
    try { socket.close(4000, 'no pong'); } catch { /* already closing */ }
    this.#onClose(socket, 1006, 'no answer to ping');
  }

  #emitState(state, extra) {
    this.dispatchEvent(new CustomEvent('state', { detail: { state, ...extra } }));
  }
}
