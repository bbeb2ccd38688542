// The left column: the rooms this person is in and their DM threads (with
// unread counts), and the server's room directory with member counts.

import { h, clear } from './dom.js';

export class SidebarView {
  #joinedList;
  #dmList;
  #dmEmpty;
  #directory;
  #handlers;
  #lastRooms = [];

  /** @param handlers { switchTo(id), join(room) } */
  constructor(elements, handlers) {
    this.#joinedList = elements.joinedList;
    this.#dmList = elements.dmList;
    this.#dmEmpty = elements.dmEmpty;
    this.#directory = elements.directory;
    this.#handlers = handlers;
  }

  conversations(client) {
    clear(this.#joinedList);
    clear(this.#dmList);
    let dmCount = 0;
    let totalUnread = 0;
    for (const conversation of client.conversations.values()) {
      totalUnread += conversation.unread;
      const list = conversation.isRoom ? this.#joinedList : this.#dmList;
      if (!conversation.isRoom) dmCount += 1;
      list.append(this.#conversationItem(conversation, conversation.id === client.activeId));
    }
    this.#dmEmpty.hidden = dmCount > 0;
    document.title = totalUnread > 0 ? `(${totalUnread}) ChatHub` : 'ChatHub';
    this.directory(this.#lastRooms, client);
  }

  directory(rooms, client) {
    this.#lastRooms = rooms;
    clear(this.#directory);
    if (rooms.length === 0) {
      this.#directory.append(h('li', { class: 'empty', text: 'No rooms yet: create one above.' }));
      return;
    }
    for (const { room, members } of rooms) {
      const joined = client.conversations.get(`room:${room}`)?.joined;
      const label = `${members} ${members === 1 ? 'member' : 'members'}`;
      this.#directory.append(h('li', { attrs: { 'data-room': room } }, [
        h('button', {
          class: 'room-link',
          attrs: { type: 'button', 'aria-label': `${joined ? 'Open' : 'Join'} room ${room}, ${label}` },
          on: { click: () => this.#handlers.join(room) },
        }, [h('span', { class: 'name', text: `#${room}` }), h('span', { class: 'count', text: label })]),
      ]));
    }
  }

  #conversationItem(conversation, active) {
    const title = conversation.isRoom ? `#${conversation.name}` : conversation.name;
    const unread = conversation.unread > 0
      ? h('span', { class: 'badge', text: conversation.unread, attrs: { 'aria-label': `${conversation.unread} unread` } })
      : null;
    return h('li', { attrs: { 'data-conversation': conversation.id } }, [
      h('button', {
        class: 'conversation-link',
        attrs: { type: 'button', 'aria-current': active ? 'true' : null },
        on: { click: () => this.#handlers.switchTo(conversation.id) },
      }, [h('span', { class: 'name', text: title }), unread]),
    ]);
  }
}
