// The OncallMember type (members are added and removed with the group's mutations, group.ts).
import { builder } from '../../api/index.ts';
import type { OncallMember } from '../read-groups.ts';

export const OncallMemberRef = builder.objectRef<OncallMember>('OncallMember').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email'),
    name: t.exposeString('name'),
    slackUserId: t.exposeString('slackUserId', { nullable: true, description: 'null when Slack does not know the address' }),
    position: t.exposeInt('position', { description: 'order in the round-robin' }),
  }),
});
