// Server timestamps are UTC ISO-8601; people read them in their own time zone.

const shortTime = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "14:05" in local time, plus the full local date and time for a tooltip. */
export function formatTimestamp(iso) {
  const date = iso ? new Date(iso) : new Date();
  if (Number.isNaN(date.getTime())) return { short: '', full: '' };
  return { short: shortTime.format(date), full: fullDateTime.format(date) };
}
