import { partitionLag } from './metrics';

describe('consumer lag per partition', () => {
  it('counts from the committed offset, or from the partition start when the group committed nothing', () => {
    expect(partitionLag('120', '0', '100')).toBe(20);
    expect(partitionLag('120', '0', '120')).toBe(0);
    expect(partitionLag('120', '40', '-1')).toBe(80); // retention removed the first 40
    expect(partitionLag('5', '0', '9')).toBe(0); // never negative
  });
});
