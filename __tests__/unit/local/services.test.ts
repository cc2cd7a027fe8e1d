import { describe, expect, it } from '@jest/globals';
import type { LocalService } from '../../../local/service';
import { LOCAL_TYPES, NO_LOCAL_BEHAVIOUR, SERVED_TYPES, SERVICES, servedTypes } from '../../../local/services';

const service = (name: string, ...types: string[]): LocalService => ({
  name,
  serves: Object.fromEntries(types.map((type) => [type, { becomes: name }])),
  bind: () => undefined,
});

describe('the local services list', () => {
  it('refuses a resource type two services claim, naming both', () => {
    expect(() => servedTypes([service('a', 'aws_x'), service('b', 'aws_y', 'aws_x')])).toThrow('resource type aws_x is served by both a and b');
  });

  it('serves every type once, and no type is both served and declared without local behaviour', () => {
    const claimed = SERVICES.flatMap((entry) => Object.keys(entry.serves));
    expect(new Set(claimed).size).toBe(claimed.length);
    expect(Object.keys(SERVED_TYPES).sort()).toEqual([...claimed].sort());
    expect(claimed.filter((type) => type in NO_LOCAL_BEHAVIOUR)).toEqual([]);
    expect(Object.keys(LOCAL_TYPES).sort()).toEqual([...claimed, ...Object.keys(NO_LOCAL_BEHAVIOUR)].sort());
    expect(new Set(SERVICES.map((entry) => entry.name)).size).toBe(SERVICES.length);
  });
});
