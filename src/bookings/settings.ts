// bookings.settings.get / .set: the owner's booking settings. One for now: "confirm automatically
// when the time is free" (autoConfirm, off by default). A request is only ever accepted when the
// time is free, so with it on every accepted request is inserted and stored as confirmed.
import type { Ctx } from '../context/index.ts';
import { saveSettings, settingsFor } from './queries.ts';
import { knownOwner } from './owner.ts';

export interface BookingSettingsView {
  externalOwnerId: string;
  autoConfirm: boolean;
  updatedAt: string | null;
}

export async function getBookingSettings(ctx: Ctx, input: { externalOwnerId: string }): Promise<BookingSettingsView> {
  const owner = await knownOwner(ctx, input.externalOwnerId);
  const s = await settingsFor(ctx.db, owner.id);
  return { externalOwnerId: owner.externalOwnerId, autoConfirm: s.autoConfirm, updatedAt: s.updatedAt?.toISOString() ?? null };
}

export async function setBookingSettings(ctx: Ctx, input: { externalOwnerId: string; autoConfirm: boolean }): Promise<BookingSettingsView> {
  const owner = await knownOwner(ctx, input.externalOwnerId);
  const s = await saveSettings(ctx.db, owner.id, { autoConfirm: input.autoConfirm }, ctx.clock.now());
  return { externalOwnerId: owner.externalOwnerId, autoConfirm: s.autoConfirm, updatedAt: s.updatedAt.toISOString() };
}
