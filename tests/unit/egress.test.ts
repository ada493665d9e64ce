/**
 * The SSRF guard's address and URL rules (lib/jobs/egress.ts) without a network; the attacks
 * through the crawler and the API are in tests/security/ssrf.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { EgressRefused, checkCrawlable, checkUrl, nonPublicReason, type EgressPolicy } from '@/lib/jobs/egress';

const policy = (overrides: Partial<EgressPolicy> = {}): EgressPolicy => ({ allowPrivateHosts: [], allowedPorts: [80, 443], ...overrides });

describe('the crawler’s egress rules', () => {
  it('lets public unicast addresses through, IPv4 and IPv6, and public IPv4 inside NAT64 or 6to4', () => {
    for (const address of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111', '64:ff9b::5db8:d70e', '2002:5db8:d70e::1']) {
      expect({ address, reason: nonPublicReason(address) }).toEqual({ address, reason: null });
    }
  });

  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['224.0.0.251', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.0.192', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'ipv4Mapped of loopback 127.0.0.1'],
    ['::ffff:a9fe:a9fe', 'ipv4Mapped of linkLocal 169.254.169.254'],
    ['::7f00:1', 'ipv4Compatible of loopback 127.0.0.1'],
    ['64:ff9b::a00:1', 'rfc6052 of private 10.0.0.1'],
    ['64:ff9b:1::1', 'rfc6052'],
    ['2002:7f00:1::', '6to4 of loopback 127.0.0.1'],
    ['2001::1', 'teredo'],
  ])('refuses %s (%s)', (address, reason) => {
    expect(nonPublicReason(address)).toBe(reason);
  });

  it('checks scheme, port and host length before any lookup', () => {
    expect(() => checkUrl('ftp://shop.example/', policy())).toThrow('refused: ftp: URLs are not crawled');
    expect(() => checkUrl('https://shop.example:8443/', policy())).toThrow('refused: port 8443 is not crawled');
    expect(checkUrl('https://shop.example:8443/', policy({ allowedPorts: [443, 8443] })).port).toBe('8443');
    expect(() => checkUrl(`https://${'a.'.repeat(130)}example/`, policy())).toThrow('refused: host must be 1 to 253 characters');
  });

  it('exempts allow-listed hosts by name, by address and by CIDR range, and nothing else', async () => {
    const lookup = async (host: string) => [{ address: host === 'intranet.example' ? '10.0.0.7' : '127.0.0.1', family: 4 }];
    await expect(checkCrawlable('http://localhost:3000/', policy({ allowPrivateHosts: ['localhost'], lookup }))).resolves.toBeUndefined();
    await expect(checkCrawlable('http://127.0.0.1:3000/', policy({ allowPrivateHosts: ['127.0.0.1'] }))).resolves.toBeUndefined();
    await expect(checkCrawlable('http://[::1]/', policy({ allowPrivateHosts: ['[::1]'] }))).resolves.toBeUndefined();
    await expect(checkCrawlable('http://intranet.example/', policy({ allowPrivateHosts: ['10.0.0.0/8'], lookup }))).resolves.toBeUndefined();
    await expect(checkCrawlable('http://10.0.0.7/', policy({ allowPrivateHosts: ['10.0.0.0/8'] }))).resolves.toBeUndefined();
    // Allowing localhost by name does not allow 127.0.0.1 by address, nor another name resolving there.
    await expect(checkCrawlable('http://127.0.0.1/', policy({ allowPrivateHosts: ['localhost'] }))).rejects.toThrow('refused: 127.0.0.1 is a loopback address');
    await expect(checkCrawlable('http://localhost./', policy({ allowPrivateHosts: ['localhost'], lookup }))).rejects.toThrow(/^refused: localhost\. resolves to 127\.0\.0\.1/);
    await expect(checkCrawlable('http://192.168.1.1/', policy({ allowPrivateHosts: ['10.0.0.0/8'] }))).rejects.toThrow('refused: 192.168.1.1 is a private address');
  });

  it('gives up resolving after its time limit with an error that is not a refusal', async () => {
    const hanging = () => new Promise<never>(() => {});
    const failure = await checkCrawlable('https://slow-dns.example/', policy({ lookup: hanging }), 50).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toBeInstanceOf(EgressRefused);
    expect((failure as Error).message).toBe('resolving slow-dns.example took over 50 ms');
  });
});
