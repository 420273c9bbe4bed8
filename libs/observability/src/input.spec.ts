import { AppError } from '@saga-lab/errors';
import { z } from 'zod';
import { toBody } from './errors';
import { correlationIdFrom, parseInput } from './input';

describe('parseInput', () => {
  const schema = z.strictObject({ quantity: z.number().int().positive() });

  it('returns the parsed value', () => {
    expect(parseInput(schema, { quantity: 2 }, 'body')).toEqual({ quantity: 2 });
  });

  it('refuses with 400 VALIDATION_FAILED naming each problem', () => {
    const error = (() => {
      try {
        parseInput(schema, { quantity: -1, extra: true }, 'query');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', message: 'the query parameters are invalid' });
    expect(toBody(error, 'c-1').status).toBe(400);
    expect((error as AppError).details).toEqual([
      { path: 'quantity', message: expect.any(String) },
      { path: '(query)', message: expect.stringContaining('extra') },
    ]);
  });
});

describe('correlationIdFrom', () => {
  it('keeps a usable id and replaces anything else', () => {
    expect(correlationIdFrom('corr-rename.1:a_b')).toBe('corr-rename.1:a_b');
    for (const bad of [undefined, '', 'has space', 'x'.repeat(101), ['a'], 'ü'])
      expect(correlationIdFrom(bad)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
