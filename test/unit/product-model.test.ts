import { describe, expect, it } from 'vitest';
import {
  checkCommand,
  checkPropertyQuery,
  checkPropertySet,
  checkValue,
  ServiceCapabilities,
  type FieldDef,
  type ServiceDef,
} from '../../shared/domain/product-model.ts';
import type { ApiError } from '../../shared/errors.ts';
import { parseInput } from '../../shared/validation.ts';

const field = (f: Partial<FieldDef> & Pick<FieldDef, 'data_type'>): FieldDef => ({ required: false, ...f });

/** The error_msg a model gets refused with, or 'ok'. */
const modelError = (capabilities: unknown): string => {
  try {
    parseInput(ServiceCapabilities, capabilities);
    return 'ok';
  } catch (e) {
    return (e as ApiError).message;
  }
};

const valve: ServiceDef[] = parseInput(ServiceCapabilities, [
  {
    service_id: 'Valve',
    service_type: 'Valve',
    properties: [
      { property_name: 'interval', data_type: 'int', min: '5', max: '3600', step: 5, method: 'RW' },
      { property_name: 'flow', data_type: 'decimal', method: 'R' },
      { property_name: 'label', data_type: 'string', max_length: 8, method: 'RWE' },
    ],
    commands: [
      {
        command_name: 'open',
        paras: [
          { para_name: 'level', data_type: 'int', required: true, min: '0', max: '100' },
          { para_name: 'mode', data_type: 'enum', enum_list: ['ON', 'OFF'] },
        ],
      },
      { command_name: 'reset' },
    ],
  },
]);

describe('a value against its field', () => {
  it.each([
    // int: 32-bit integers within min/max
    [field({ data_type: 'int' }), 2 ** 31 - 1, undefined],
    [field({ data_type: 'int' }), -(2 ** 31), undefined],
    [field({ data_type: 'int' }), 2 ** 31, 'must be an integer (int, 32 bits)'],
    [field({ data_type: 'int' }), 1.5, 'must be an integer (int, 32 bits)'],
    [field({ data_type: 'int' }), '3', 'must be an integer (int, 32 bits)'],
    [field({ data_type: 'int', min: '0', max: '100' }), 0, undefined],
    [field({ data_type: 'int', min: '0', max: '100' }), 100, undefined],
    [field({ data_type: 'int', min: '0', max: '100' }), -1, 'must be at least 0'],
    [field({ data_type: 'int', min: '0', max: '100' }), 101, 'must be at most 100'],
    // long: any integer JSON carries exactly
    [field({ data_type: 'long' }), 2 ** 40, undefined],
    [field({ data_type: 'long' }), 2 ** 53, 'must be an integer (long)'],
    [field({ data_type: 'long', max: '10' }), 11, 'must be at most 10'],
    // decimal, with steps from min (or 0)
    [field({ data_type: 'decimal' }), 0.25, undefined],
    [field({ data_type: 'decimal' }), true, 'must be a number'],
    [field({ data_type: 'decimal', min: '-1.5', max: '1.5' }), -1.5, undefined],
    [field({ data_type: 'decimal', min: '-1.5', max: '1.5' }), 1.51, 'must be at most 1.5'],
    [field({ data_type: 'decimal', step: 0.1 }), 0.3, undefined],
    [field({ data_type: 'decimal', step: 0.1 }), 0.35, 'must be a multiple of 0.1'],
    [field({ data_type: 'int', min: '5', step: 5 }), 15, undefined],
    [field({ data_type: 'int', min: '5', step: 5 }), 16, 'must be a multiple of 5 from 5'],
    [field({ data_type: 'int', min: '1', step: 5 }), 6, undefined],
    [field({ data_type: 'int', step: 0 }), 7, undefined],
    // string, with max_length exactly
    [field({ data_type: 'string', max_length: 3 }), 'abc', undefined],
    [field({ data_type: 'string', max_length: 3 }), 'abcd', 'must be at most 3 characters'],
    [field({ data_type: 'string' }), 3, 'must be a string'],
    // enum
    [field({ data_type: 'enum', enum_list: ['ON', 'OFF'] }), 'ON', undefined],
    [field({ data_type: 'enum', enum_list: ['ON', 'OFF'] }), 'on', 'must be one of ON, OFF'],
    // boolean
    [field({ data_type: 'boolean' }), false, undefined],
    [field({ data_type: 'boolean' }), 'true', 'must be true or false'],
    // DateTime: compact UTC that names a real time
    [field({ data_type: 'DateTime' }), '20261201T080000Z', undefined],
    [field({ data_type: 'DateTime' }), '20260231T080000Z', "must be a time as yyyyMMdd'T'HHmmss'Z'"],
    [field({ data_type: 'DateTime' }), '2026-12-01T08:00:00Z', "must be a time as yyyyMMdd'T'HHmmss'Z'"],
    // jsonObject
    [field({ data_type: 'jsonObject' }), { a: [1] }, undefined],
    [field({ data_type: 'jsonObject' }), [1], 'must be a JSON object'],
    [field({ data_type: 'jsonObject' }), null, 'must be a JSON object'],
    // string list
    [field({ data_type: 'string list' }), ['a', 'b'], undefined],
    [field({ data_type: 'string list' }), ['a', 1], 'must be a list of strings'],
    [field({ data_type: 'string list', max_length: 2 }), ['ab', 'abc'], 'must hold strings of at most 2 characters'],
  ])('%o with %o: %s', (def, value, expected) => {
    expect(checkValue(def, value)).toBe(expected);
  });
});

describe('a command against the model', () => {
  it('accepts a defined command with valid paras', () => {
    expect(
      checkCommand(valve, { service_id: 'Valve', command_name: 'open', paras: { level: 30, mode: 'OFF' } }),
    ).toBeUndefined();
    expect(checkCommand(valve, { service_id: 'Valve', command_name: 'reset', paras: {} })).toBeUndefined();
  });

  it.each([
    [
      { service_id: 'Pump', command_name: 'open', paras: { level: 1 } },
      'service_id',
      'is not a service of the product model',
    ],
    [
      { service_id: 'Valve', command_name: 'close', paras: {} },
      'command_name',
      'must be one of the commands of service Valve',
    ],
    [{ service_id: 'Valve', paras: {} }, 'command_name', 'must be one of the commands of service Valve'],
    [{ service_id: 'Valve', command_name: 'open', paras: { mode: 'ON' } }, 'paras.level', 'is required'],
    [
      { service_id: 'Valve', command_name: 'open', paras: { level: 1, speed: 2 } },
      'paras.speed',
      'is not a parameter of the product model',
    ],
    [{ service_id: 'Valve', command_name: 'open', paras: { level: 101 } }, 'paras.level', 'must be at most 100'],
    [
      { service_id: 'Valve', command_name: 'open', paras: { level: 1, mode: 'HALF' } },
      'paras.mode',
      'must be one of ON, OFF',
    ],
  ])('refuses %o at %s', (command, path, rule) => {
    expect(checkCommand(valve, command)).toEqual({ path, rule });
  });

  it('leaves a command without service_id, and any command to a free-form product, unchecked', () => {
    expect(checkCommand(valve, { command_name: 'anything', paras: { x: 1 } })).toBeUndefined();
    expect(checkCommand([], { service_id: 'Any', command_name: 'thing', paras: { x: 1 } })).toBeUndefined();
  });
});

describe('a property set and query against the model', () => {
  it('accepts writable properties with valid values', () => {
    expect(
      checkPropertySet(valve, { services: [{ service_id: 'Valve', properties: { interval: 60, label: 'north' } }] }),
    ).toBeUndefined();
  });

  it.each([
    [{ service_id: 'Valve', properties: { flow: 1.5 } }, 'services.0.properties.flow', 'is not writable'],
    // A set mixing a writable and a read-only property is refused whole.
    [{ service_id: 'Valve', properties: { interval: 60, flow: 1.5 } }, 'services.0.properties.flow', 'is not writable'],
    [
      { service_id: 'Valve', properties: { interval: 61 } },
      'services.0.properties.interval',
      'must be a multiple of 5 from 5',
    ],
    [
      { service_id: 'Valve', properties: { label: 'too long!' } },
      'services.0.properties.label',
      'must be at most 8 characters',
    ],
    [
      { service_id: 'Valve', properties: { colour: 'red' } },
      'services.0.properties.colour',
      'is not a property of the product model',
    ],
    [{ service_id: 'Pump', properties: {} }, 'services.0.service_id', 'is not a service of the product model'],
  ])('refuses %o at %s', (service, path, rule) => {
    expect(checkPropertySet(valve, { services: [service] })).toEqual({ path, rule });
  });

  it('queries only services of the model, unless the product is free-form', () => {
    expect(checkPropertyQuery(valve, 'Valve')).toBeUndefined();
    expect(checkPropertyQuery(valve, 'Pump')).toEqual({
      path: 'service_id',
      rule: 'is not a service of the product model',
    });
    expect(checkPropertyQuery([], 'Pump')).toBeUndefined();
  });
});

describe('a model to store', () => {
  const service = (extra: Record<string, unknown>) => [{ service_id: 'S', service_type: 'S', ...extra }];

  it('accepts every data type and method', () => {
    const properties = ['int', 'long', 'decimal', 'string', 'DateTime', 'jsonObject', 'boolean', 'string list'].map(
      (t, i) => ({
        property_name: `p${i}`,
        data_type: t,
        method: ['RWE', 'RW', 'RE', 'WE', 'E', 'W', 'R', 'RW'][i],
      }),
    );
    expect(
      modelError(
        service({
          properties: [...properties, { property_name: 'e', data_type: 'enum', enum_list: ['A'], method: 'R' }],
        }),
      ),
    ).toBe('ok');
  });

  it.each([
    [{ properties: [{ property_name: 'p', data_type: 'float', method: 'R' }] }, '0.properties.0.data_type'],
    [{ properties: [{ property_name: 'p', data_type: 'int', method: 'X' }] }, '0.properties.0.method'],
    [
      { properties: [{ property_name: 'p', data_type: 'int', min: '10', max: '1', method: 'R' }] },
      '0.properties.0.min must not be greater than max',
    ],
    [
      { properties: [{ property_name: 'p', data_type: 'int', min: 'low', method: 'R' }] },
      '0.properties.0.min must be a number',
    ],
    [
      { properties: [{ property_name: 'p', data_type: 'enum', method: 'R' }] },
      '0.properties.0.enum_list is required for data_type enum',
    ],
    [
      { properties: [{ property_name: 'a.b', data_type: 'int', method: 'R' }] },
      "0.properties.0.property_name must not contain '.' or '$'",
    ],
    [
      { properties: [{ property_name: '$a', data_type: 'int', method: 'R' }] },
      "0.properties.0.property_name must not contain '.' or '$'",
    ],
    [
      { properties: [{ property_name: 'p', data_type: 'int', method: 'R', default_value: 'x' }] },
      '0.properties.0.default_value must be an integer',
    ],
    [
      { properties: [1, 2].map(() => ({ property_name: 'p', data_type: 'int', method: 'R' })) },
      '0.properties.1.property_name is not unique',
    ],
    [{ commands: [{ command_name: 'c' }, { command_name: 'c' }] }, '0.commands.1.command_name is not unique'],
    [
      {
        commands: [
          {
            command_name: 'c',
            paras: [
              { para_name: 'x', data_type: 'int' },
              { para_name: 'x', data_type: 'int' },
            ],
          },
        ],
      },
      '0.commands.0.paras.1.para_name is not unique',
    ],
    [
      {
        properties: Array.from({ length: 501 }, (_, i) => ({ property_name: `p${i}`, data_type: 'int', method: 'R' })),
      },
      '0.properties',
    ],
  ])('refuses %#, naming %s', (extra, path) => {
    expect(modelError(service(extra))).toContain(`Invalid input: ${path}`);
  });

  it('refuses duplicate service ids, over 500 services and over 500 KB of capability JSON', () => {
    expect(modelError([...service({}), ...service({})])).toContain('1.service_id is not unique');
    expect(modelError(Array.from({ length: 501 }, (_, i) => ({ service_id: `s${i}`, service_type: 'S' })))).toContain(
      'Invalid input: body',
    );
    const big = Array.from({ length: 300 }, (_, i) => ({
      property_name: `p${i}`,
      data_type: 'string',
      method: 'R',
      description: 'd'.repeat(128),
      unit: 'u'.repeat(16),
    }));
    const services = Array.from({ length: 8 }, (_, i) => ({ service_id: `s${i}`, service_type: 'S', properties: big }));
    expect(modelError(services)).toContain('must be at most 500 KB of JSON');
  });
});
