// The member list of the current room, kept live by presence events. Clicking
// a member opens a DM thread with them.

import { h, clear } from './dom.js';

export class MembersView {
  #heading;
  #list;
  #handlers;

  /** @param handlers { openDm(name) } */
  constructor(elements, handlers) {
    this.#heading = elements.heading;
    this.#list = elements.list;
    this.#handlers = handlers;
  }

  show(conversation, me) {
    clear(this.#list);
    if (!conversation) {
      this.#heading.textContent = 'Members';
      return;
    }
    if (!conversation.isRoom) {
      this.#heading.textContent = 'Direct messages';
      this.#list.append(h('li', { class: 'empty', text: `Only you and ${conversation.name} see these messages.` }));
      return;
    }
    const names = [...conversation.members].sort((a, b) => a.localeCompare(b));
    this.#heading.textContent = `Members (${names.length})`;
    for (const name of names) {
      const isMe = me && name.toLowerCase() === me.toLowerCase();
      const item = isMe
        ? h('span', { class: 'member me', text: `${name} (you)` })
        : h('button', {
            class: 'member',
            text: name,
            attrs: { type: 'button', title: `Send ${name} a direct message`, 'aria-label': `${name}: send a direct message` },
            on: { click: () => this.#handlers.openDm(name) },
          });
      this.#list.append(h('li', { attrs: { 'data-member': name } }, [item]));
    }
  }
}
