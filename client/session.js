// What survives a page reload: the chosen name and the joined rooms, per tab
// (sessionStorage), so two tabs can be two different people. ?name= and ?room=
// in the page address win, which makes links like /?room=support work.

const KEY = 'chathub.session';

export function loadSession(search = location.search) {
  let stored = {};
  try {
    stored = JSON.parse(sessionStorage.getItem(KEY) ?? '{}') ?? {};
  } catch {
    stored = {};
  }
  const params = new URLSearchParams(search);
  const rooms = params.getAll('room');
  return {
    name: params.get('name') ?? stored.name ?? null,
    rooms: rooms.length ? rooms : (stored.rooms ?? []),
    save(state) {
      try {
        sessionStorage.setItem(KEY, JSON.stringify(state));
      } catch {
        // storage full or disabled: the session just is not remembered
      }
    },
  };
}
