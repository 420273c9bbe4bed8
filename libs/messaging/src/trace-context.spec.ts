import { childTraceparent, currentTraceparent, newTraceparent, withTraceContext } from './trace-context';

describe('trace context', () => {
  it('continues the trace with a new span for each hop', () => {
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const child = childTraceparent(parent);
    expect(child).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/);
    expect(child).not.toBe(parent);
  });

  it('starts a new trace for a missing or malformed parent', () => {
    expect(withTraceContext(undefined, currentTraceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(withTraceContext('garbage', currentTraceparent)).not.toBe('garbage');
    expect(newTraceparent()).not.toBe(newTraceparent());
    expect(currentTraceparent()).toBeUndefined();
  });

  it('is visible across awaits inside the context only', async () => {
    const parent = newTraceparent();
    const seen = await withTraceContext(parent, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return currentTraceparent();
    });
    expect(seen).toBe(parent);
  });
});
