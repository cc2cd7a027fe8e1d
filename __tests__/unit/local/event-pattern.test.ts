/**
 * The local bus's pattern matcher against the examples of the EventBridge
 * User Guide ("Event patterns", "Content filtering in event patterns").
 */
import { describe, expect, it } from '@jest/globals';
import { InvalidEventPatternError } from '../../../local/errors';
import { matchesPattern, validatePattern } from '../../../local/event-pattern';
import { RESPONSES_RULE_PATTERN, WORKFLOW_RULE_PATTERN } from '../../../config/pipeline';

const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

const contentEvent = {
  ...ec2Event,
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    source: 'aws.s3',
    FileName: 'photo.png',
    sourceIPAddress: '10.0.0.255',
    eventVersion: '',
    responseElements: null,
    state: 'running',
    filepath: '/usr/lib/bin',
    tags: ['blue', 'green'],
    items: [
      { sku: 'a-1', qty: 2 },
      { sku: 'b-2', qty: 0 },
    ],
  },
};

function check(pattern: unknown, event: unknown): boolean {
  validatePattern(pattern);
  return matchesPattern(pattern, event);
}

describe('event patterns (User Guide examples)', () => {
  it.each([
    ['source and detail-type', { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'] }, true],
    ['a value from a list', { detail: { state: ['stopped', 'terminated'] } }, true],
    ['a value not in the list', { detail: { state: ['pending'] } }, false],
    [
      'an array field intersecting the pattern',
      { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'] },
      true,
    ],
    ['a missing field', { detail: { 'no-such-field': ['x'] } }, false],
    ['a value of another type', { detail: { state: [42] } }, false],
  ])('%s', (_, pattern, expected) => expect(check(pattern, ec2Event)).toBe(expected));
});

describe('content filtering (User Guide examples)', () => {
  it.each([
    ['prefix', { time: [{ prefix: '2017-12-22' }] }, true],
    ['prefix, no match', { time: [{ prefix: '2018' }] }, false],
    ['prefix ignoring case', { detail: { state: [{ prefix: { 'equals-ignore-case': 'RUN' } }] } }, true],
    ['suffix', { detail: { FileName: [{ suffix: '.png' }] } }, true],
    ['suffix ignoring case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.PNG' } }] } }, true],
    ['anything-but a string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, true],
    ['anything-but the value itself', { detail: { state: [{ 'anything-but': 'running' }] } }, false],
    ['anything-but a list', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, true],
    ['anything-but a number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, true],
    ['anything-but a prefix', { detail: { state: [{ 'anything-but': { prefix: 'run' } }] } }, false],
    ['anything-but a suffix', { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } }, true],
    ['anything-but ignoring case', { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['Stopped', 'RUNNING'] } }] } }, false],
    ['anything-but a wildcard', { detail: { filepath: [{ 'anything-but': { wildcard: '*/lib/*' } }] } }, false],
    ['anything-but on a missing field', { detail: { absent: [{ 'anything-but': 'x' }] } }, false],
    ['numeric range', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, true],
    ['numeric upper bound', { detail: { 'd-count': [{ numeric: ['<', 10] }] } }, true],
    ['numeric equality with an exponent', { detail: { 'x-limit': [{ numeric: ['=', 3.018e2] }] } }, true],
    ['numeric range, no match', { detail: { 'c-count': [{ numeric: ['>', 5] }] } }, false],
    ['numeric against a string', { detail: { state: [{ numeric: ['>', 0] }] } }, false],
    ['cidr', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, true],
    ['cidr, no match', { detail: { sourceIPAddress: [{ cidr: '10.0.1.0/24' }] } }, false],
    ['exists', { detail: { 'c-count': [{ exists: true }] } }, true],
    ['exists false on a missing field', { detail: { 'no-such-field': [{ exists: false }] } }, true],
    ['exists false on a present field', { detail: { 'c-count': [{ exists: false }] } }, false],
    ['exists on an intermediate node', { detail: [{ exists: true }] }, false],
    ['equals-ignore-case', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] }, true],
    ['wildcard', { resources: [{ wildcard: 'arn:aws:ec2:us-west-1:*:instance/*' }] }, true],
    ['wildcard, no match', { detail: { FileName: [{ wildcard: '*.jpg' }] } }, false],
    ['null', { detail: { responseElements: [null] } }, true],
    ['empty string', { detail: { eventVersion: [''] } }, true],
    ['null does not match a missing field', { detail: { absent: [null] } }, false],
    ['an array of scalars in the event', { detail: { tags: ['green'] } }, true],
    ['a nested pattern into an array of objects', { detail: { items: { sku: ['b-2'], qty: [0] } } }, true],
    [
      '$or',
      {
        detail: {
          $or: [{ 'c-count': [{ numeric: ['>', 10] }] }, { 'd-count': [{ numeric: ['<', 10] }] }, { 'x-limit': [{ numeric: ['=', 1] }] }],
        },
      },
      true,
    ],
    ['$or, no branch matching', { detail: { $or: [{ 'c-count': [0] }, { 'd-count': [0] }] } }, false],
    ['$or at the top with other fields', { source: ['aws.ec2'], $or: [{ 'detail-type': ['nope'] }, { detail: { state: ['running'] } }] }, true],
  ])('%s', (_, pattern, expected) => expect(check(pattern, contentEvent)).toBe(expected));
});

describe('pattern validation', () => {
  it.each([
    [{}, 'pattern must not be empty'],
    [{ source: [] }, 'source must not be an empty array'],
    [{ source: 'aws.ec2' }, 'source must be an array of matchers or a nested pattern object'],
    [{ detail: { n: [{ numeric: ['>>', 1] }] } }, 'numeric takes'],
    [{ detail: { n: [{ numeric: ['=', 1, '<', 3] }] } }, 'cannot be combined'],
    [{ detail: { n: [{ cidr: '10.0.0.0/33' }] } }, 'cidr takes'],
    [{ detail: { n: [{ prefix: 1 }] } }, 'prefix takes'],
    [{ detail: { n: [{ bogus: 1 }] } }, 'unknown matcher'],
    [{ $or: [{ a: [1] }] }, '$or must be an array of at least two patterns'],
  ])('refuses %j', (pattern, message) => {
    expect(() => validatePattern(pattern)).toThrow(InvalidEventPatternError);
    expect(() => validatePattern(pattern)).toThrow(message);
  });
});

describe('the pipeline rules from the shared config', () => {
  const event = (detailType: string, source = 'orderPipeline') => ({ ...ec2Event, source, 'detail-type': detailType, detail: {} });

  it('start the workflow for commands and queries only', () => {
    expect(check(WORKFLOW_RULE_PATTERN, event('orderCommand'))).toBe(true);
    expect(check(WORKFLOW_RULE_PATTERN, event('orderQuery'))).toBe(true);
    expect(check(WORKFLOW_RULE_PATTERN, event('orderCommandResponse'))).toBe(false);
    expect(check(WORKFLOW_RULE_PATTERN, event('orderCommand', 'somebodyElse'))).toBe(false);
  });

  it('copy responses only', () => {
    expect(check(RESPONSES_RULE_PATTERN, event('orderQueryResponse'))).toBe(true);
    expect(check(RESPONSES_RULE_PATTERN, event('orderQuery'))).toBe(false);
  });
});
