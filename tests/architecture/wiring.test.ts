// The runtime wiring of the modules (docs/architecture.md, "Wiring"): every reaction and answer a
// module declares is wired, in the module list's order, and each answer has exactly one provider.
import { describe, expect, test } from 'bun:test';
import { modules } from '../../src/composition/service.ts';
import { wireModules, type ModuleProviders } from '../../src/context/index.ts';

const wiring = wireModules(modules);
const names = (list: ReadonlyArray<{ module: string }>) => list.map((r) => r.module);

describe('wiring', () => {
  test('reactions run in the module list order (fan-out before the modules publishing their own events, the feed last)', () => {
    expect(names(wiring.eventChanges)).toEqual(['channels', 'fanout', 'oncall', 'availability', 'bookings', 'changes']);
    expect(names(wiring.calendarChanges)).toEqual(['channels', 'fanout', 'availability', 'changes']);
    expect(names(wiring.ownerEvents)).toEqual(['sync', 'channels', 'fanout', 'oncall', 'availability', 'bookings', 'changes']);
    expect(names(wiring.beforeUnlink)).toEqual(['channels']);
  });

  test('every declared reaction is wired, and nothing else', () => {
    for (const kind of ['eventChanges', 'calendarChanges', 'ownerEvents', 'beforeUnlink'] as const) {
      const declared = modules.filter((m) => m.reactions?.[kind]).map((m) => m.name);
      expect(names(wiring[kind])).toEqual(declared);
    }
  });

  test('each answer links.get needs has one provider', () => {
    const expected: Array<keyof ModuleProviders> = ['calendarStatus', 'channelExpiry', 'calendarFreshness'];
    for (const key of expected) expect(typeof wiring.providers[key]).toBe('function');
    expect(() => wireModules([...modules, { name: 'second-sync', provides: { calendarStatus: async () => [] } }])).toThrow(
      'calendarStatus is provided by both sync and second-sync',
    );
  });

  test('a module listed twice is refused', () => {
    expect(() => wireModules([...modules, modules[0]!])).toThrow('listed twice');
  });

  test('no source registers a reaction by import (the registries are gone)', async () => {
    const offenders: string[] = [];
    for (const f of new Bun.Glob('{src,tests,bench}/**/*.ts').scanSync({ cwd: `${import.meta.dir}/../..` })) {
      if (f === 'tests/architecture/wiring.test.ts') continue;
      const text = await Bun.file(`${import.meta.dir}/../../${f}`).text();
      if (/\b(onEventChanges|onCalendarChanges|onOwnerEvent|beforeUnlink|provideCalendarStatus|provideCalendarFreshness|provideChannelExpiry)\(/.test(text)) offenders.push(f);
    }
    expect(offenders).toEqual([]);
  });
});
