// Reconnect delays: exponential with jitter so a restarted server is not hit by
// every client at the same instant, capped so a person never waits long.

export class Backoff {
  #attempt = 0;

  constructor({ initialMs = 250, maxMs = 8000, random = Math.random } = {}) {
    this.initialMs = initialMs;
    this.maxMs = maxMs;
    this.random = random;
  }

  /** Delay before the next attempt; each call doubles the ceiling. */
  nextDelayMs() {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.#attempt);
    this.#attempt += 1;
    return Math.round(ceiling / 2 + this.random() * ceiling / 2);
  }

  /** Jumps straight to the longest delay (e.g. after a 1008 "abuse" close). */
  exhaust() {
    this.#attempt = Math.ceil(Math.log2(this.maxMs / this.initialMs));
  }

  reset() {
    this.#attempt = 0;
  }
}
