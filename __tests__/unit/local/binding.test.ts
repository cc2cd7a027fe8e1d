import { describe, expect, it } from '@jest/globals';
import { bindingFor, newRegistry, type Core } from '../../../local/binding';
import { Router } from '../../../local/endpoint';
import type { Integration, Protocol } from '../../../local/service';

describe('a binding', () => {
  it('works with its functions taken off it, as every service destructures it in bind()', async () => {
    // Prepare
    const registry = newRegistry(new Router(new Map()));
    const protocol: Protocol<string> = { name: 'test', serve: async () => false };
    const integration: Integration = {};
    const hooks = {
      start: () => undefined,
      stop: async () => undefined,
      idle: async () => true,
      check: async () => undefined,
      page: () => ({}),
      stream: () => undefined,
      status: () => 'ok',
    };

    // Act: each function called on its own, detached from the binding.
    const { serve, integrate, page, stream, status, summary, creationCheck, onStart, onStop, onIdle } = bindingFor({} as Core, registry);
    serve(protocol, 'api');
    integrate('lambda', integration);
    page('/_local/test', hooks.page);
    stream('/_local/test-stream', hooks.stream);
    status('test', hooks.status);
    summary('test', 'value');
    creationCheck(hooks.check);
    onStart(hooks.start);
    onStop(hooks.stop);
    onIdle(hooks.idle);

    // Assess
    expect([...registry.router.protocols()]).toEqual([[protocol, ['api']]]);
    expect(registry.integrations.get('lambda')).toBe(integration);
    expect(registry.router.pages.get('/_local/test')).toBe(hooks.page);
    expect(registry.router.streams.get('/_local/test-stream')).toBe(hooks.stream);
    expect(registry.statuses).toEqual([['test', hooks.status]]);
    expect(registry.summary).toEqual([['test', 'value']]);
    expect([registry.creationChecks, registry.starts, registry.stops, registry.idles]).toEqual([[hooks.check], [hooks.start], [hooks.stop], [hooks.idle]]);
  });

  it('gives a part provided by one service to the next, and names a part used before it is provided or provided twice', () => {
    // Prepare
    const { use, provide } = bindingFor({} as Core, newRegistry(new Router(new Map())));

    // Act
    let early: unknown;
    try {
      use('bus');
    } catch (error) {
      early = error;
    }
    provide('bus', 'the bus' as never);

    // Assess
    expect(early).toEqual(
      new Error('bus is used before a service provides it: a service that uses it comes after the one that provides it in local/services.ts'),
    );
    expect(use('bus')).toBe('the bus');
    expect(() => provide('bus', 'another' as never)).toThrow('bus is provided twice');
  });
});
