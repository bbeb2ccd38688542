// The client-side model of one room or one DM thread.
//
// Room entries are ordered by seq, so a message is shown once however it
// arrives (live, in joined.history on resume, or via history scroll-back):
// the room+seq pair is the dedupe key. Presence notes sit after the message
// that was newest when they happened. DM threads have no seq and keep arrival order.
//
// A room's own messages wait in `pending` (keyed by ref) until the server acks
// them with their seq; only then do they take their place in the seq order.

export class Conversation {
  entries = [];
  pending = new Map();
  members = new Set();
  unread = 0;
  lastSeq = 0;
  hasOlder = false;
  loadingOlder = false;
  joined = false;
  // Joined at some point on an earlier connection: a rejoin then resumes with `since`.
  wasJoined = false;
  #bySeq = new Map();
  #counter = 0;

  constructor(kind, name) {
    this.kind = kind;
    this.name = name;
  }

  static idFor(kind, name) {
    // Names are unique without case, so one DM thread per person whatever the spelling.
    return kind === 'room' ? `room:${name}` : `dm:${name.toLowerCase()}`;
  }

  get id() {
    return Conversation.idFor(this.kind, this.name);
  }

  get isRoom() {
    return this.kind === 'room';
  }

  /** Lowest seq shown, or 0 when no message is shown. */
  get oldestSeq() {
    const first = this.entries.find(e => e.type === 'message');
    return first ? first.seq : 0;
  }

  hasSeq(seq) {
    return this.#bySeq.has(seq);
  }

  /**
   * True when the server sends a different message under a seq already shown:
   * its seq numbering started over (a server with a non-durable store was
   * restarted), so what is shown can no longer be matched by seq.
   */
  contradicts(message) {
    const existing = this.#bySeq.get(message.seq);
    return !!existing && !existing.provisional && (existing.from !== message.from || existing.text !== message.text);
  }

  /** Forgets every message and note, keeping members and pending sends. */
  resetMessages() {
    this.entries = [];
    this.#bySeq.clear();
    this.lastSeq = 0;
    this.hasOlder = false;
  }

  /**
   * Adds a room message unless its seq is already shown; returns the new entry,
   * or null for a duplicate. A provisional entry (built from an ack that beat
   * its broadcast) does not advance lastSeq, so a resume can never skip
   * messages that were sequenced before it but have not arrived yet.
   */
  addMessage(message, { provisional = false } = {}) {
    const existing = this.#bySeq.get(message.seq);
    if (existing) {
      if (existing.provisional && !provisional) {
        existing.provisional = false;
        existing.ts = message.ts;
        this.lastSeq = Math.max(this.lastSeq, message.seq);
      }
      return null;
    }
    const entry = { type: 'message', key: [message.seq, 0], seq: message.seq, from: message.from, text: message.text, ts: message.ts, provisional };
    this.#bySeq.set(message.seq, entry);
    if (!provisional) this.lastSeq = Math.max(this.lastSeq, message.seq);
    this.#insert(entry);
    return entry;
  }

  /** Adds a local note ("bob joined") after the newest message seen so far. */
  addNote(text) {
    this.#counter += 1;
    const entry = { type: 'note', key: [this.lastSeq, this.#counter], text, ts: new Date().toISOString() };
    this.#insert(entry);
    return entry;
  }

  /** Adds a DM line in arrival order; own lines carry a ref and a delivery state. */
  addDm(dm, own = {}) {
    this.#counter += 1;
    const entry = { type: 'dm', key: [this.#counter, 0], from: dm.from, to: dm.to, text: dm.text, ts: dm.ts, ...own };
    this.#insert(entry);
    return entry;
  }

  /** Index of the entry in display order (for the view to place its element). */
  indexOf(entry) {
    return this.entries.indexOf(entry);
  }

  #insert(entry) {
    // Binary search for the first entry with a greater key; new entries are
    // almost always last, older history pages go to the front.
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (compareKeys(this.entries[mid].key, entry.key) <= 0) low = mid + 1;
      else high = mid;
    }
    this.entries.splice(low, 0, entry);
  }
}

function compareKeys(a, b) {
  return a[0] - b[0] || a[1] - b[1];
}
