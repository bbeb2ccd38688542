// The client's protocol logic: turns server frames into model changes and user
// actions into frames, and hands the views what to show. Views never talk to
// the socket; this class never touches the DOM.

import { ChatConnection } from './connection.js';
import { Conversation } from './conversation.js';
import { RefGenerator } from './refs.js';
import { parseComposerLine } from './commands.js';
import { TokenSource, tokenExpiry, refreshDelayMs } from './token.js';

const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,32}$/;
const ROOM_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
const ROOMS_REFRESH_MS = 15000;
const HISTORY_PAGE = 50;
// Right after a drop the server may still hold our old connection's name for a
// moment; a few quiet retries get it back without bothering the person.
const NAME_RECLAIM_TRIES = 5;
const NAME_RECLAIM_DELAY_MS = 1500;
// A cluster answers `unavailable` while its Redis is away: nothing was stored, and the same ref may be sent
// again safely (a copy that was stored after all is acked, not stored twice). Resent a few times, then failed.
const UNAVAILABLE_RESENDS = 5;
const UNAVAILABLE_RESEND_MS = 2000;

export const sameName = (a, b) => typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();

export class ChatClient {
  me = null;
  limits = null;
  conversations = new Map();
  activeId = null;
  #views;
  #session;
  #connection;
  #refs = new RefGenerator();
  #dmRefs = new Map();        // ref -> { conversation, entry } for own DMs
  #requests = new Map();      // ref -> { kind, ... } for nick/join/leave
  #desiredName = null;
  #initialRooms;
  #joinIntent = null;
  #nameReclaimTries = 0;
  #reclaiming = false;
  #attemptsWithoutWelcome = 0;
  #roomsTimer = 0;
  #roomsDebounce = 0;
  #tokens;
  #tokenTimer = 0;
  #tokenIssuedAt = 0;

  /**
   * @param views    object with the view callbacks (see app.js)
   * @param session  { name, rooms } remembered from the last visit, and save(state)
   */
  constructor(views, session, tokens = new TokenSource()) {
    this.#tokens = tokens;
    this.#views = views;
    this.#session = session;
    this.#desiredName = NAME_PATTERN.test(session.name ?? '') ? session.name : null;
    this.#initialRooms = (session.rooms ?? []).filter(r => ROOM_PATTERN.test(r));
    if (this.#initialRooms.length === 0) this.#initialRooms = ['lobby'];
  }

  start() {
    this.#connection = new ChatConnection(() => this.#socketUrl());
    this.#connection.addEventListener('frame', e => this.#onFrame(e.detail));
    this.#connection.addEventListener('state', e => this.#onState(e.detail));
    this.#connection.start();
    this.#roomsTimer = setInterval(() => this.requestRooms(), ROOMS_REFRESH_MS);
  }

  reconnectNow() {
    this.#connection.reconnectNow();
  }

  get active() {
    return this.conversations.get(this.activeId) ?? null;
  }

  // ---- user actions -------------------------------------------------------

  /** A line from the composer: a message to the current conversation or a command. */
  submit(line) {
    const action = parseComposerLine(line);
    switch (action.kind) {
      case 'none': return;
      case 'say': return this.#sendToActive(action.text);
      case 'dm': return this.sendDm(action.to, action.text);
      case 'nick': return this.rename(action.name);
      case 'join': return this.join(action.room);
      case 'leave': return this.leave(action.room ?? (this.active?.isRoom ? this.active.name : null));
      case 'usage': return this.#views.notice(action.text, 'info');
    }
  }

  rename(name) {
    if (!NAME_PATTERN.test(name)) {
      this.#views.nickError('A name is 1 to 32 letters, digits, _ - or .');
      return;
    }
    this.#desiredName = name;
    this.#reclaiming = false;
    this.#sendRequest({ type: 'nick', name }, { kind: 'nick', name });
  }

  join(room) {
    if (!ROOM_PATTERN.test(room)) {
      this.#views.notice('A room name is 1 to 64 letters, digits, _ - or .', 'error');
      return;
    }
    const existing = this.conversations.get(Conversation.idFor('room', room));
    if (existing?.joined) {
      this.switchTo(existing.id);
      return;
    }
    this.#joinIntent = room;
    if (!this.#sendRequest({ type: 'join', room }, { kind: 'join', room })) {
      // Offline: remember the room; it is joined with the others on reconnect.
      this.#roomConversation(room);
      this.switchTo(Conversation.idFor('room', room));
      this.#saveSession();
    }
  }

  leave(room) {
    if (!room) return;
    const conversation = this.conversations.get(Conversation.idFor('room', room));
    if (!conversation) return;
    if (!this.#sendRequest({ type: 'leave', room }, { kind: 'leave', room })) this.#forgetRoom(conversation);
  }

  sendDm(to, text) {
    if (!NAME_PATTERN.test(to)) {
      this.#views.notice(`No such user: ${to}`, 'error');
      return;
    }
    const conversation = this.#dmConversation(to);
    const ref = this.#refs.next('dm');
    const entry = conversation.addDm({ from: this.me, to, text, ts: new Date().toISOString() }, { ref, own: true, state: 'sending' });
    this.#dmRefs.set(ref, { conversation, entry });
    if (this.activeId !== conversation.id) this.switchTo(conversation.id);
    else this.#views.entryAdded(conversation, entry);
    this.#sendDm(entry);
  }

  openDm(name) {
    if (sameName(name, this.me)) return;
    this.switchTo(this.#dmConversation(name).id);
  }

  switchTo(id) {
    const conversation = this.conversations.get(id);
    if (!conversation) return;
    this.activeId = id;
    conversation.unread = 0;
    this.#views.showConversation(conversation);
    this.#views.sidebar(this);
    this.#saveSession();
  }

  /** Scroll-back: asks for the page of messages before the oldest one shown. */
  loadOlder() {
    const conversation = this.active;
    if (!conversation?.isRoom || !conversation.hasOlder || conversation.loadingOlder) return;
    const before = conversation.oldestSeq;
    if (before <= 1) return;
    if (this.#connection.send({ type: 'history', room: conversation.name, before, limit: HISTORY_PAGE })) {
      conversation.loadingOlder = true;
      this.#views.olderLoading(conversation, true);
    }
  }

  /** Sends a refused message again, under a new ref (the old one was refused). */
  retry(conversationId, ref) {
    const conversation = this.conversations.get(conversationId);
    const pending = conversation?.pending.get(ref);
    if (!pending) return;
    conversation.pending.delete(ref);
    this.#say(conversation, pending.text);
  }

  discard(conversationId, ref) {
    const conversation = this.conversations.get(conversationId);
    if (conversation?.pending.delete(ref)) this.#views.pendingChanged(conversation);
  }

  requestRooms() {
    this.#connection?.send({ type: 'rooms' });
  }

  // ---- connection -----------------------------------------------------------

  async #socketUrl() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // Presence in batches: one frame per room and tick instead of one per joiner
    // (docs/protocol.md, "Presence batches"); a server without it sends single events.
    const params = new URLSearchParams({ format: 'json', presence: 'batch' });
    if (this.#tokens.present) {
      // The token says who we are; a name= would only earn an invalid_name.
      const token = await this.#tokens.get();
      if (token) {
        params.set('token', token);
        this.#scheduleRefresh(token);
      }
      return `${scheme}//${location.host}/ws?${params}`;
    }
    // Keep the chosen (or guest) name across reconnects. If attempts keep failing
    // before a welcome, connect without it and claim it with `nick` afterwards.
    const name = this.#desiredName ?? this.me;
    if (name && this.#attemptsWithoutWelcome < 3) params.set('name', name);
    return `${scheme}//${location.host}/ws?${params}`;
  }

  // A fresh token from the callback before the current one expires, sent on the
  // open connection as auth; the answer (authed) schedules the next one.
  #scheduleRefresh(token) {
    clearTimeout(this.#tokenTimer);
    const expires = tokenExpiry(token);
    if (!this.#tokens.renewable || expires === null) return;
    this.#tokenIssuedAt = Date.now();
    this.#tokenTimer = setTimeout(() => this.#refreshToken(), refreshDelayMs(expires, this.#tokenIssuedAt));
  }

  async #refreshToken() {
    let token = null;
    try {
      token = await this.#tokens.get();
    } catch (error) {
      this.#views.notice(`Could not renew the sign-in: ${error}`, 'error');
    }
    if (!token) return;
    if (this.#connection.send({ type: 'auth', token, ref: this.#refs.next() })) {
      this.#scheduleRefresh(token);
    }
    // Offline: the next connection fetches a fresh token anyway.
  }

  #onState(detail) {
    if (detail.state === 'reconnecting' && detail.code !== undefined) {
      this.#attemptsWithoutWelcome += 1;
      for (const conversation of this.conversations.values()) conversation.loadingOlder = false;
    }
    if (detail.state === 'connected') this.#attemptsWithoutWelcome = 0;
    this.#views.connectionState(detail, this.me);
  }

  #onFrame(frame) {
    switch (frame?.type) {
      case 'welcome': return this.#onWelcome(frame);
      case 'joined': return this.#onJoined(frame);
      case 'left': return this.#onLeft(frame);
      case 'message': return this.#onMessage(frame);
      case 'ack': return this.#onAck(frame);
      case 'dm': return this.#onDm(frame);
      case 'presence': return this.#onPresence(frame);
      case 'presence_batch': return this.#onPresenceBatch(frame);
      case 'members': return this.#onMembers(frame);
      case 'rooms': return this.#views.directory(frame.rooms ?? [], this);
      case 'history': return this.#onHistory(frame);
      case 'nick': return this.#onNick(frame);
      case 'error': return this.#onError(frame);
      default: return; // pong and anything newer than this client
    }
  }

  #onWelcome(welcome) {
    this.me = welcome.name;
    this.limits = welcome.limits ?? null;
    if (!this.#desiredName || this.#tokens.present) {
      // With a token the server names us after it; there is nothing to reclaim.
      this.#desiredName = welcome.name;
    } else if (!sameName(welcome.name, this.#desiredName)) {
      // The server made us a guest (our name was still held, e.g. by the
      // connection that just dropped): claim it back quietly.
      this.#reclaiming = true;
      this.#nameReclaimTries = 0;
      this.#reclaimName();
    }
    this.#views.me(this.me);
    this.#views.connectionState({ state: 'connected' }, this.me);

    const rooms = [...this.conversations.values()].filter(c => c.isRoom);
    // Only the first connection joins the start rooms; later ones rejoin what the person has.
    for (const room of this.#initialRooms) {
      // The conversation exists from the request on, so the rooms keep the order the person joined them in:
      // replies from different rooms come back in no set order.
      this.#roomConversation(room);
      this.#sendRequest({ type: 'join', room }, { kind: 'join', room });
    }
    this.#initialRooms = [];
    for (const conversation of rooms) {
      conversation.joined = false;
      // Resume: everything after the last seq seen. A room that was joined but
      // still empty resumes from 0, so nothing said meanwhile is skipped.
      const join = { type: 'join', room: conversation.name };
      if (conversation.wasJoined) join.since = conversation.lastSeq;
      this.#sendRequest(join, { kind: 'join', room: conversation.name });
    }
    for (const { entry } of this.#dmRefs.values()) {
      if (entry.state === 'sending') this.#sendDm(entry);
    }
    this.#saveSession();
    this.requestRooms();
  }

  #onJoined(joined) {
    this.#settleRequests('join', joined.room);
    const conversation = this.#roomConversation(joined.room);
    const fresh = conversation.entries.every(e => e.type !== 'message');
    // On a resume the history is what was missed, so it counts as unread; on a
    // first join it is just the room's recent past.
    const resumed = conversation.wasJoined;
    conversation.joined = true;
    conversation.wasJoined = true;
    conversation.members = new Set(joined.members ?? []);
    // Noted before the history is added, so the note sits where the gap is.
    if (joined.truncated) {
      this.#addNote(conversation, 'Some messages from while you were away are no longer kept by the server.');
    }
    for (const message of joined.history ?? []) this.#acceptMessage(conversation, message, resumed);
    if (fresh) conversation.hasOlder = conversation.oldestSeq > 1;
    // Resend what was not acked before the drop, with the same ref: the server
    // answers a repeated ref with the first ack instead of storing it twice.
    for (const pending of conversation.pending.values()) {
      if (pending.state === 'sending' && pending.epoch !== this.#connection.epoch) this.#sendSay(conversation, pending);
    }
    if (this.#joinIntent === joined.room || !this.active) {
      this.#joinIntent = null;
      this.switchTo(conversation.id);
    } else if (this.activeId === conversation.id) {
      this.#views.members(conversation, this.me);
    }
    this.#views.sidebar(this);
    this.#saveSession();
    this.#scheduleRoomsRefresh();
  }

  #onLeft(left) {
    this.#settleRequests('leave', left.room);
    const conversation = this.conversations.get(Conversation.idFor('room', left.room));
    if (conversation) this.#forgetRoom(conversation);
    this.#scheduleRoomsRefresh();
  }

  #onMessage(message) {
    const conversation = this.conversations.get(Conversation.idFor('room', message.room));
    if (conversation) this.#acceptMessage(conversation, message);
  }

  #onAck(ack) {
    if (ack.room === null || ack.room === undefined) {
      const own = this.#dmRefs.get(ack.ref);
      if (!own) return;
      own.entry.state = 'sent';
      this.#views.entryChanged(own.conversation, own.entry);
      return;
    }
    const conversation = this.conversations.get(Conversation.idFor('room', ack.room));
    const pending = conversation?.pending.get(ack.ref);
    if (!pending) return; // a second ack for a resent ref, or a discarded message
    conversation.pending.delete(ack.ref);
    if (pending.linkedSeq && pending.linkedSeq !== ack.seq) {
      // The shown message was really an identical twin's: hand the link over.
      const twin = [...conversation.pending.values()].find(p => !p.linkedSeq && p.text === pending.text && p.state === 'sending');
      if (twin) twin.linkedSeq = pending.linkedSeq;
    }
    if (!conversation.hasSeq(ack.seq)) {
      // Acked before its broadcast reached us: show it at its seq now.
      const entry = conversation.addMessage({ seq: ack.seq, from: this.me, text: pending.text, ts: pending.ts }, { provisional: true });
      if (entry) this.#views.entryAdded(conversation, entry);
    }
    this.#views.pendingChanged(conversation);
  }

  #onDm(dm) {
    const ownEcho = sameName(dm.from, this.me);
    const peer = ownEcho ? dm.to : dm.from;
    const conversation = this.#dmConversation(peer);
    if (ownEcho) {
      // The server echoes our DMs; the line is already shown, so mark it delivered.
      const entry = conversation.entries.find(e => e.own && !e.echoed && e.state !== 'failed' && e.text === dm.text);
      if (entry) {
        entry.echoed = true;
        entry.ts = dm.ts;
        if (entry.state === 'sending') entry.state = 'sent';
        this.#views.entryChanged(conversation, entry);
        return;
      }
    }
    const entry = conversation.addDm(dm, ownEcho ? { own: true, echoed: true, state: 'sent' } : {});
    this.#entryArrived(conversation, entry, !ownEcho);
  }

  #onPresence(presence) {
    const conversation = this.conversations.get(Conversation.idFor('room', presence.room));
    if (!conversation) return;
    const { name } = presence;
    if (presence.event === 'join') {
      conversation.members.add(name);
      this.#addNote(conversation, `${name} joined`);
    } else if (presence.event === 'leave') {
      conversation.members.delete(name);
      this.#addNote(conversation, `${name} left`);
    } else if (presence.event === 'rename') {
      conversation.members.delete(name);
      conversation.members.add(presence.to);
      this.#addNote(conversation, `${name} is now ${presence.to}`);
      this.#renameDmPeer(name, presence.to);
    }
    if (this.activeId === conversation.id) this.#views.members(conversation, this.me);
    this.#scheduleRoomsRefresh();
  }

  // A room's changes of one tick, in order. Each sets a name present or absent,
  // so a change the member list already shows (one made before our joined, or our
  // own join and renames, which a batch includes) changes nothing and gets no note.
  #onPresenceBatch(batch) {
    const conversation = this.conversations.get(Conversation.idFor('room', batch.room));
    if (!conversation) return;
    const members = conversation.members;
    for (const { event, name, to } of batch.changes ?? []) {
      if (event === 'join') {
        if (!members.has(name)) this.#addNote(conversation, `${name} joined`);
        members.add(name);
      } else if (event === 'leave') {
        if (members.delete(name)) this.#addNote(conversation, `${name} left`);
      } else if (event === 'rename' && to) {
        const known = members.delete(name);
        if (known && !members.has(to)) {
          this.#addNote(conversation, `${name} is now ${to}`);
          this.#renameDmPeer(name, to);
        }
        members.add(to);
      }
    }
    if (this.activeId === conversation.id) this.#views.members(conversation, this.me);
    this.#scheduleRoomsRefresh();
  }

  #onMembers(members) {
    const conversation = this.conversations.get(Conversation.idFor('room', members.room));
    if (!conversation) return;
    conversation.members = new Set(members.members ?? []);
    if (this.activeId === conversation.id) this.#views.members(conversation, this.me);
  }

  #onHistory(history) {
    const conversation = this.conversations.get(Conversation.idFor('room', history.room));
    if (!conversation) return;
    conversation.loadingOlder = false;
    const added = [];
    for (const message of history.messages ?? []) {
      const entry = conversation.addMessage(message);
      if (entry) added.push(entry);
    }
    // An empty page means the server keeps nothing older (seq 1 or the history window).
    conversation.hasOlder = added.length > 0 && conversation.oldestSeq > 1;
    this.#views.olderLoaded(conversation, added);
  }

  #onNick(nick) {
    this.#settleRequests('nick');
    const old = nick.old ?? this.me;
    this.me = nick.name;
    this.#reclaiming = false;
    this.#desiredName = nick.name;
    for (const conversation of this.conversations.values()) {
      if (conversation.isRoom && conversation.members.delete(old)) conversation.members.add(nick.name);
    }
    this.#views.me(this.me);
    this.#views.connectionState({ state: 'connected' }, this.me);
    if (this.active?.isRoom) this.#views.members(this.active, this.me);
    this.#saveSession();
  }

  #onError(error) {
    const description = `${error.code}: ${error.message ?? ''}`.trim();
    const ref = error.ref;
    if (ref) {
      for (const conversation of this.conversations.values()) {
        const pending = conversation.pending.get(ref);
        if (pending && error.code === 'unavailable' && (pending.resends ?? 0) < UNAVAILABLE_RESENDS) {
          pending.resends = (pending.resends ?? 0) + 1;
          setTimeout(() => {
            if (conversation.pending.get(ref) === pending && pending.state === 'sending') this.#sendSay(conversation, pending);
          }, UNAVAILABLE_RESEND_MS);
          return;
        }
        if (pending) {
          pending.state = 'failed';
          pending.error = description;
          this.#views.pendingChanged(conversation);
          return;
        }
      }
      const own = this.#dmRefs.get(ref);
      if (own) {
        own.entry.state = 'failed';
        own.entry.error = description;
        this.#views.entryChanged(own.conversation, own.entry);
        return;
      }
      const request = this.#requests.get(ref);
      this.#requests.delete(ref);
      if (request?.kind === 'nick') return this.#nickRefused(request, error, description);
      if (request?.kind === 'join') {
        const conversation = this.conversations.get(Conversation.idFor('room', request.room));
        if (conversation && !conversation.joined && !conversation.wasJoined) this.#forgetRoom(conversation);
      }
    } else if (error.code === 'invalid_name' || error.code === 'name_taken') {
      // Sent right after welcome when name= could not be had: say so, while
      // the quiet reclaim keeps trying.
      if (this.#reclaiming) return this.#views.nickError(description);
      return this.#nickRefused({ kind: 'nick', quiet: false }, error, description);
    }
    this.#views.notice(description, 'error');
  }

  // ---- helpers --------------------------------------------------------------

  #sendToActive(text) {
    const conversation = this.active;
    if (!conversation) {
      this.#views.notice('Join a room first.', 'error');
    } else if (conversation.isRoom) {
      this.#say(conversation, text);
    } else {
      this.sendDm(conversation.name, text);
    }
  }

  #say(conversation, text) {
    const pending = { ref: this.#refs.next('say'), text, ts: new Date().toISOString(), state: 'sending', epoch: 0 };
    conversation.pending.set(pending.ref, pending);
    this.#sendSay(conversation, pending);
    this.#views.pendingChanged(conversation, { scrollToEnd: true });
  }

  #sendSay(conversation, pending) {
    if (this.#connection.send({ type: 'say', room: conversation.name, text: pending.text, ref: pending.ref })) {
      pending.epoch = this.#connection.epoch;
    }
  }

  // Offline, the DM just stays "sending"; welcome resends it with the same ref.
  #sendDm(entry) {
    this.#connection.send({ type: 'dm', to: entry.to, text: entry.text, ref: entry.ref });
  }

  #sendRequest(frame, request) {
    const ref = this.#refs.next(frame.type);
    this.#requests.set(ref, request);
    if (this.#connection.send({ ...frame, ref })) return true;
    this.#requests.delete(ref);
    return false;
  }

  // Replies to join/leave/nick carry no ref; once one arrives, the pending
  // request it answers needs no error handler any more.
  #settleRequests(kind, room) {
    for (const [ref, request] of this.#requests) {
      if (request.kind === kind && (room === undefined || request.room === room)) this.#requests.delete(ref);
    }
  }

  #acceptMessage(conversation, message, countsAsUnread = true) {
    if (conversation.contradicts(message)) {
      // Better an empty view than one that silently drops new messages as duplicates.
      conversation.resetMessages();
      conversation.addNote('The server started its history over; earlier messages are gone.');
      if (this.activeId === conversation.id) this.#views.showConversation(conversation);
    }
    const entry = conversation.addMessage(message);
    if (!entry) return;
    const own = sameName(message.from, this.me);
    if (own) {
      // The message is ours: the pending copy with that text stops being shown
      // (its ack removes it for good). Own messages arrive in sending order.
      const pending = [...conversation.pending.values()].find(p => !p.linkedSeq && p.state === 'sending' && p.text === message.text);
      if (pending) {
        pending.linkedSeq = message.seq;
        this.#views.pendingChanged(conversation);
      }
    }
    this.#entryArrived(conversation, entry, countsAsUnread && !own);
  }

  #entryArrived(conversation, entry, countsAsUnread) {
    if (this.activeId === conversation.id) {
      this.#views.entryAdded(conversation, entry);
    } else if (countsAsUnread) {
      conversation.unread += 1;
      this.#views.sidebar(this);
    }
  }

  #addNote(conversation, text) {
    const entry = conversation.addNote(text);
    if (this.activeId === conversation.id) this.#views.entryAdded(conversation, entry);
  }

  #roomConversation(room) {
    const id = Conversation.idFor('room', room);
    let conversation = this.conversations.get(id);
    if (!conversation) {
      conversation = new Conversation('room', room);
      this.conversations.set(id, conversation);
    }
    return conversation;
  }

  #dmConversation(name) {
    const id = Conversation.idFor('dm', name);
    let conversation = this.conversations.get(id);
    if (!conversation) {
      conversation = new Conversation('dm', name);
      this.conversations.set(id, conversation);
      this.#views.sidebar(this);
    }
    return conversation;
  }

  #renameDmPeer(oldName, newName) {
    const conversation = this.conversations.get(Conversation.idFor('dm', oldName));
    if (!conversation || this.conversations.has(Conversation.idFor('dm', newName))) return;
    const wasActive = this.activeId === conversation.id;
    this.conversations.delete(conversation.id);
    conversation.name = newName;
    this.conversations.set(conversation.id, conversation);
    if (wasActive) this.switchTo(conversation.id);
    else this.#views.sidebar(this);
  }

  #forgetRoom(conversation) {
    this.conversations.delete(conversation.id);
    if (this.activeId === conversation.id) {
      this.activeId = null;
      const next = [...this.conversations.values()].find(c => c.isRoom) ?? this.conversations.values().next().value;
      if (next) this.switchTo(next.id);
      else this.#views.showConversation(null);
    }
    this.#views.sidebar(this);
    this.#saveSession();
  }

  #reclaimName() {
    if (!this.#reclaiming || !this.#connection.ready || this.#nameReclaimTries >= NAME_RECLAIM_TRIES) return;
    this.#nameReclaimTries += 1;
    this.#sendRequest({ type: 'nick', name: this.#desiredName }, { kind: 'nick', name: this.#desiredName, quiet: true });
  }

  #nickRefused(request, error, description) {
    if (request.quiet) {
      if (error.code === 'name_taken' && this.#nameReclaimTries < NAME_RECLAIM_TRIES) {
        setTimeout(() => this.#reclaimName(), NAME_RECLAIM_DELAY_MS);
        return;
      }
      // Give up for this connection; the next reconnect asks for it again.
      this.#reclaiming = false;
      this.#views.nickError(`${this.#desiredName} is in use: you are ${this.me} for now.`);
      return;
    }
    this.#desiredName = this.me;
    this.#views.nickError(description);
  }

  #scheduleRoomsRefresh() {
    clearTimeout(this.#roomsDebounce);
    this.#roomsDebounce = setTimeout(() => this.requestRooms(), 250);
  }

  #saveSession() {
    const rooms = [...this.conversations.values()].filter(c => c.isRoom).map(c => c.name);
    this.#session.save({ name: this.#desiredName, rooms });
  }
}
