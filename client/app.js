// Entry point: finds the page's elements, builds the views and the client, and
// wires forms and buttons to the client's actions.

import { ChatClient } from './chat-client.js';
import { MessageView } from './message-view.js';
import { SidebarView } from './sidebar-view.js';
import { MembersView } from './members-view.js';
import { StatusView } from './status-view.js';
import { loadSession } from './session.js';
import { DrawerController } from './drawers.js';

const byId = id => document.getElementById(id);
let client;

const status = new StatusView({
  status: byId('connection'),
  reconnectButton: byId('reconnect-now'),
  nickInput: byId('nick-input'),
  nickError: byId('nick-error'),
  notices: byId('notice'),
});
const messages = new MessageView({
  scroller: byId('messages'),
  list: byId('message-list'),
  pendingList: byId('pending-list'),
  olderButton: byId('load-older'),
  olderStatus: byId('older-status'),
  newBelow: byId('new-below'),
}, {
  loadOlder: () => client.loadOlder(),
  retry: (conversationId, ref) => client.retry(conversationId, ref),
  discard: (conversationId, ref) => client.discard(conversationId, ref),
});
const sidebar = new SidebarView({
  joinedList: byId('joined-list'),
  dmList: byId('dm-list'),
  dmEmpty: byId('dm-empty'),
  directory: byId('room-directory'),
}, {
  switchTo: id => client.switchTo(id),
  join: room => client.join(room),
});
const members = new MembersView({ heading: byId('members-heading'), list: byId('member-list') }, {
  openDm: name => client.openDm(name),
});
const drawers = new DrawerController([
  { button: byId('toggle-sidebar'), panel: byId('sidebar'), className: 'show-sidebar' },
  { button: byId('toggle-members'), panel: byId('members-panel'), className: 'show-members' },
]);

const title = byId('conversation-title');
const leaveButton = byId('leave-room');
const composerInput = byId('composer-input');

client = new ChatClient({
  connectionState: (detail, me) => {
    status.connection(detail, me);
    messages.online = detail.state === 'connected';
  },
  me: name => {
    status.me(name);
    messages.me = name;
  },
  showConversation: conversation => {
    title.textContent = !conversation ? 'No conversation' : conversation.isRoom ? `#${conversation.name}` : `${conversation.name} (direct messages)`;
    leaveButton.hidden = !conversation?.isRoom;
    composerInput.placeholder = !conversation ? 'Join a room first'
      : conversation.isRoom ? `Message #${conversation.name}` : `Message ${conversation.name} privately`;
    messages.show(conversation);
    members.show(conversation, client.me);
    drawers.closeAll();
  },
  entryAdded: (conversation, entry) => messages.entryAdded(conversation, entry),
  entryChanged: (conversation, entry) => messages.entryChanged(conversation, entry),
  pendingChanged: (conversation, options) => messages.pendingChanged(conversation, options),
  olderLoading: (conversation, loading) => messages.olderLoading(conversation, loading),
  olderLoaded: (conversation, added) => messages.olderLoaded(conversation, added),
  members: (conversation, me) => members.show(conversation, me),
  sidebar: c => sidebar.conversations(c),
  directory: (rooms, c) => sidebar.directory(rooms, c),
  notice: (text, kind) => status.notice(text, kind),
  nickError: text => status.nickError(text),
}, loadSession());

byId('composer').addEventListener('submit', event => {
  event.preventDefault();
  const line = composerInput.value;
  composerInput.value = '';
  client.submit(line);
});
byId('nick-form').addEventListener('submit', event => {
  event.preventDefault();
  client.rename(byId('nick-input').value.trim());
});
byId('join-form').addEventListener('submit', event => {
  event.preventDefault();
  const input = byId('join-input');
  client.join(input.value.trim());
  input.value = '';
});
leaveButton.addEventListener('click', () => {
  if (client.active?.isRoom) client.leave(client.active.name);
});
byId('reconnect-now').addEventListener('click', () => client.reconnectNow());

client.start();
composerInput.focus();
