// Every say/dm carries a ref so acks and errors can be matched to it, and so a
// resend after a reconnect is recognised by the server's dedup. The server keeps
// refs per name for 10 minutes, so refs must not repeat after a page reload:
// a random per-page prefix plus a counter. crypto.getRandomValues also works on
// plain http origins, unlike crypto.randomUUID.

export class RefGenerator {
  #prefix;
  #counter = 0;

  constructor() {
    const bytes = crypto.getRandomValues(new Uint8Array(8));
    this.#prefix = Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
  }

  next(kind = 'r') {
    this.#counter += 1;
    return `${kind}-${this.#prefix}-${this.#counter}`;
  }
}
