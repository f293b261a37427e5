// The admin GraphQL types of links, one file per type; the module's index.ts imports this file.
export { OwnerRef, OwnerStatusEnum, loadOwner } from './owner.ts';
