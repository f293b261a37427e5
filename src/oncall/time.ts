// Dates in a group's time zone: `declined_on`, and the human dates of Slack messages.

/** YYYY-MM-DD of `at` in `timeZone`. */
export function dateIn(timeZone: string, at: Date): string {
  // en-CA formats dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

/** "Tue 3 Mar 09:00–17:00" or "Tue 3 Mar 09:00 – Wed 4 Mar 09:00", in `timeZone`. */
export function shiftWhen(timeZone: string, start: Date, end: Date): string {
  const day = new Intl.DateTimeFormat('en-GB', { timeZone, weekday: 'short', day: 'numeric', month: 'short' });
  const time = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const sameDay = dateIn(timeZone, start) === dateIn(timeZone, end);
  const from = `${day.format(start).replace(',', '')} ${time.format(start)}`;
  return sameDay ? `${from}–${time.format(end)}` : `${from} – ${day.format(end).replace(',', '')} ${time.format(end)}`;
}
