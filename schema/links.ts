// Tables of the `links` module: owners (one per external owner id), pending OAuth states, and the
// tombstones UNLINKED leaves behind.
import { pgTable, uuid, text, timestamp, index } from 'drizzle-orm/pg-core';

export const owners = pgTable('owners', {
  id: uuid('id').primaryKey().defaultRandom(),
  externalOwnerId: text('external_owner_id').notNull().unique(),
  /** active | revoked. An unlinked owner has no row here any more: only an owner_tombstones row. */
  status: text('status').notNull(),
  googleEmail: text('google_email'),
  /** AES-256-GCM sealed (see src/crypto), never the token in clear. */
  refreshTokenEnc: text('refresh_token_enc'),
  accessTokenEnc: text('access_token_enc'),
  accessTokenExpiresAt: timestamp('access_token_expires_at', { withTimezone: true }),
  /**
   * The refresh lease: one refresh of the access token at a time per owner, across processes,
   * without holding a transaction (or a connection) open during the call to Google.
   */
  refreshLeaseId: text('refresh_lease_id'),
  refreshLeaseUntil: timestamp('refresh_lease_until', { withTimezone: true }),
  scopes: text('scopes'),
  linkedAt: timestamp('linked_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  unlinkedAt: timestamp('unlinked_at', { withTimezone: true }),
  lastSyncAt: timestamp('last_sync_at', { withTimezone: true }),
  lastError: text('last_error'),
  lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

export const oauthStates = pgTable(
  'oauth_states',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** SHA-256 of the state; the state itself only lives in the user's cookie and the URL. */
    stateHash: text('state_hash').notNull().unique(),
    externalOwnerId: text('external_owner_id').notNull(),
    returnTo: text('return_to'),
    /** The redirect_uri sent to Google: the code exchange must repeat it. */
    redirectUri: text('redirect_uri').notNull(),
    /** The PKCE code verifier (S256), sealed (src/crypto): only its challenge went to Google. */
    verifierEnc: text('verifier_enc'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('oauth_states_expires_idx').on(t.expiresAt)],
);

/**
 * Single-use tickets to start OAuth in a browser (`oauth.ticket`, service token): the only way into
 * GET /oauth/google/start. Stored hashed; valid 10 minutes.
 */
export const oauthTickets = pgTable(
  'oauth_tickets',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    ticketHash: text('ticket_hash').notNull().unique(),
    externalOwnerId: text('external_owner_id').notNull(),
    returnTo: text('return_to'),
    loginHint: text('login_hint'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('oauth_tickets_expires_idx').on(t.expiresAt)],
);

/**
 * What UNLINKED keeps of an owner: its former id, its external id and when. No token, no calendar.
 * (The column is `former_owner_id`, not `owner_id`: nothing here belongs to a live owner.)
 */
export const ownerTombstones = pgTable(
  'owner_tombstones',
  {
    formerOwnerId: uuid('former_owner_id').primaryKey(),
    externalOwnerId: text('external_owner_id').notNull(),
    linkedAt: timestamp('linked_at', { withTimezone: true }),
    unlinkedAt: timestamp('unlinked_at', { withTimezone: true }).notNull(),
  },
  (t) => [index('owner_tombstones_external_idx').on(t.externalOwnerId, t.unlinkedAt)],
);

export type Owner = typeof owners.$inferSelect;
export type OwnerTombstone = typeof ownerTombstones.$inferSelect;
