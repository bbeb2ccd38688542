// Turns a composer line into an action. Lines starting with "/" are commands
// (the same ones the text format offers in wscat); "//" escapes a leading slash.

const HELP = '/msg NAME TEXT · /nick NAME · /join ROOM · /leave · /help · //text sends "/text"';

export function parseComposerLine(line) {
  const text = line.trim();
  if (text === '') return { kind: 'none' };
  if (text.startsWith('//')) return { kind: 'say', text: text.slice(1) };
  if (!text.startsWith('/')) return { kind: 'say', text };

  // The argument keeps its spacing: it may be the text of a message.
  const [, command, arg] = /^\/(\S+)\s*(.*)$/s.exec(text);
  const rest = arg === '' ? [] : arg.split(/\s+/);
  switch (command.toLowerCase()) {
    case 'msg':
    case 'dm': {
      const match = /^(\S+)\s+(.+)$/s.exec(arg);
      return match ? { kind: 'dm', to: match[1], text: match[2] } : { kind: 'usage', text: 'Usage: /msg NAME TEXT' };
    }
    case 'nick':
      return rest.length === 1 ? { kind: 'nick', name: rest[0] } : { kind: 'usage', text: 'Usage: /nick NAME' };
    case 'join':
      return rest.length === 1 ? { kind: 'join', room: rest[0] } : { kind: 'usage', text: 'Usage: /join ROOM' };
    case 'leave':
      return { kind: 'leave', room: rest[0] };
    case 'help':
      return { kind: 'usage', text: HELP };
    default:
      return { kind: 'usage', text: `Unknown command /${command}. ${HELP}` };
  }
}
