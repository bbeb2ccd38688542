// The message pane of the current conversation: the seq-ordered entries, the
// own messages still waiting for their ack, and scroll-back at the top.

import { h, clear } from './dom.js';
import { formatTimestamp } from './time-format.js';

// How close to the top (px) a scroll must come to fetch older messages, and how
// close to the bottom counts as "reading the newest" (new messages then scroll in).
const LOAD_OLDER_THRESHOLD = 48;
const STICK_TO_BOTTOM_THRESHOLD = 64;

export class MessageView {
  #scroller;
  #list;
  #pendingList;
  #olderButton;
  #olderStatus;
  #handlers;
  #elements = new WeakMap();
  #conversation = null;
  #me = null;
  #online = false;
  #newBelow;

  /** @param handlers { loadOlder(), retry(conversationId, ref), discard(conversationId, ref) } */
  constructor(elements, handlers) {
    this.#scroller = elements.scroller;
    this.#list = elements.list;
    this.#pendingList = elements.pendingList;
    this.#olderButton = elements.olderButton;
    this.#olderStatus = elements.olderStatus;
    this.#newBelow = elements.newBelow;
    this.#handlers = handlers;
    this.#scroller.addEventListener('scroll', () => {
      if (this.#scroller.scrollTop < LOAD_OLDER_THRESHOLD) this.#handlers.loadOlder();
      if (this.#nearBottom()) this.#newBelow.hidden = true;
    }, { passive: true });
    this.#newBelow.addEventListener('click', () => this.#scrollToBottom());
    this.#olderButton.addEventListener('click', () => this.#handlers.loadOlder());
  }

  set me(name) {
    this.#me = name;
  }

  /** While offline, waiting messages say they wait for the connection. */
  set online(value) {
    if (this.#online === value) return;
    this.#online = value;
    if (this.#conversation) this.#renderPending();
  }

  show(conversation) {
    this.#conversation = conversation;
    this.#newBelow.hidden = true;
    clear(this.#list);
    clear(this.#pendingList);
    if (!conversation) {
      this.#updateOlder();
      return;
    }
    const fragment = document.createDocumentFragment();
    for (const entry of conversation.entries) fragment.append(this.#render(entry));
    this.#list.append(fragment);
    this.#renderPending();
    this.#updateOlder();
    this.#scrollToBottom();
    this.#fillViewport();
  }

  entryAdded(conversation, entry) {
    if (conversation !== this.#conversation) return;
    const stick = this.#nearBottom() || entry.own;
    this.#list.insertBefore(this.#render(entry), this.#elementAfter(conversation, entry));
    if (stick) this.#scrollToBottom();
    // Someone reading further up is not yanked down, but told there is more.
    else if (entry.type !== 'note') this.#newBelow.hidden = false;
  }

  entryChanged(conversation, entry) {
    if (conversation !== this.#conversation) return;
    const old = this.#elements.get(entry);
    if (old) old.replaceWith(this.#render(entry));
  }

  pendingChanged(conversation, { scrollToEnd = false } = {}) {
    if (conversation !== this.#conversation) return;
    const stick = scrollToEnd || this.#nearBottom();
    this.#renderPending();
    if (stick) this.#scrollToBottom();
  }

  olderLoading(conversation, loading) {
    if (conversation !== this.#conversation) return;
    this.#olderStatus.textContent = loading ? 'Loading older messages…' : '';
  }

  /** Inserts a page of older messages without moving what the reader is looking at. */
  olderLoaded(conversation, added) {
    if (conversation !== this.#conversation) return;
    const fromBottom = this.#scroller.scrollHeight - this.#scroller.scrollTop;
    for (const entry of added) this.#list.insertBefore(this.#render(entry), this.#elementAfter(conversation, entry));
    this.#scroller.scrollTop = this.#scroller.scrollHeight - fromBottom;
    this.#olderStatus.textContent = added.length ? `Loaded ${added.length} older messages.` : '';
    this.#updateOlder();
    this.#fillViewport();
  }

  // With too few messages to scroll there is no scroll-up to trigger loading,
  // so keep fetching until the pane can scroll or nothing older is left.
  #fillViewport() {
    const conversation = this.#conversation;
    if (conversation?.hasOlder && this.#scroller.scrollHeight <= this.#scroller.clientHeight) {
      this.#handlers.loadOlder();
    }
  }

  // The element of the next entry already on screen (entries of a page that
  // is being inserted have none yet), or null to append.
  #elementAfter(conversation, entry) {
    const entries = conversation.entries;
    for (let i = conversation.indexOf(entry) + 1; i < entries.length; i++) {
      const element = this.#elements.get(entries[i]);
      if (element?.isConnected) return element;
    }
    return null;
  }

  #updateOlder() {
    this.#olderButton.hidden = !this.#conversation?.hasOlder;
  }

  #renderPending() {
    clear(this.#pendingList);
    const conversation = this.#conversation;
    for (const pending of conversation.pending.values()) {
      if (pending.linkedSeq) continue; // its stored copy is already shown at its seq
      this.#pendingList.append(this.#renderPendingItem(conversation, pending));
    }
  }

  #renderPendingItem(conversation, pending) {
    const failed = pending.state === 'failed';
    const status = failed ? `Not sent — ${pending.error}` : this.#online ? 'Sending…' : 'Waiting for the connection…';
    const actions = failed
      ? h('span', { class: 'actions' }, [
          h('button', { text: 'Retry', attrs: { type: 'button' }, on: { click: () => this.#handlers.retry(conversation.id, pending.ref) } }),
          h('button', { text: 'Discard', attrs: { type: 'button' }, on: { click: () => this.#handlers.discard(conversation.id, pending.ref) } }),
        ])
      : null;
    return h('li', { class: `message own pending ${pending.state}`, attrs: { 'data-ref': pending.ref, 'data-state': pending.state } }, [
      this.#meta(this.#me, pending.ts),
      h('span', { class: 'text', text: pending.text }),
      h('span', { class: 'status', text: status, attrs: { role: failed ? 'alert' : null } }),
      actions,
    ]);
  }

  #render(entry) {
    let el;
    if (entry.type === 'note') {
      el = h('li', { class: 'note' }, [h('span', { class: 'text', text: entry.text }), this.#time(entry.ts)]);
    } else {
      const own = entry.own || (this.#me && entry.from?.toLowerCase() === this.#me.toLowerCase());
      const state = entry.type === 'dm' && entry.own ? entry.state : null;
      el = h('li', { class: `message ${entry.type === 'dm' ? 'dm' : ''} ${own ? 'own' : ''} ${state ?? ''}`, attrs: { 'data-seq': entry.seq, 'data-state': state } }, [
        this.#meta(entry.from, entry.ts),
        h('span', { class: 'text', text: entry.text }),
        state === 'sending' ? h('span', { class: 'status', text: 'Sending…' }) : null,
        state === 'failed' ? h('span', { class: 'status', text: `Not sent — ${entry.error}`, attrs: { role: 'alert' } }) : null,
      ]);
    }
    this.#elements.set(entry, el);
    return el;
  }

  #meta(from, ts) {
    return h('span', { class: 'meta' }, [h('span', { class: 'from', text: from ?? '' }), this.#time(ts)]);
  }

  #time(ts) {
    const { short, full } = formatTimestamp(ts);
    return h('time', { text: short, attrs: { datetime: ts, title: full } });
  }

  #nearBottom() {
    const s = this.#scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < STICK_TO_BOTTOM_THRESHOLD;
  }

  #scrollToBottom() {
    this.#scroller.scrollTop = this.#scroller.scrollHeight;
    this.#newBelow.hidden = true;
  }
}
