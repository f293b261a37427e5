// The `links` module's public face: other modules import only from here.
import type { CalwatchModule } from '../context/index.ts';
import { linksRoutes } from './routes.ts';

export { linksRouter } from './router.ts';
export { getOwner, findOwnerByExternalId, recordOwnerSync, listOwners, type Owner, type OwnerStatus } from './owners.ts';
export { withCalendar } from './with-calendar.ts';
export { accessTokenFor } from './access-token.ts';
export { linkOwner, refreshOwnerToken, resyncOwner, unlinkOwner, type LinkResult } from './link-owner.ts';
export { applyLinkEvent, type LinkEvent } from './link-events.ts';
export { getLinkStatus, type LinkStatus } from './status.ts';
export { startOAuth, finishOAuth } from './oauth.ts';
/** `bun run calwatch rotate-key` calls this (with every other module's rotateKey). */
export { rotateKey, type RotateKeyResult } from './rotate-key.ts';

export const linksModule: CalwatchModule = { name: 'links', jobs: [], routes: linksRoutes };
export { OwnerRef, OwnerStatusEnum, loadOwner } from './admin/index.ts';
