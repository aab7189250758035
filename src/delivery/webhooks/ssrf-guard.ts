// SSRF guard for webhook targets. A webhook URL is operator config, but a compromised or
// careless config must not turn authwatch into a proxy to the loopback interface, the
// private network or a cloud metadata service. Checked twice: at config load (the URL's
// literal host) and at every delivery (every address DNS returns, then the connection is
// pinned to a vetted address so a DNS rebinding between check and connect cannot win).
import { lookup as dnsLookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

export class WebhookTargetError extends Error {
  readonly code = 'WEBHOOK_TARGET_REFUSED';
}

/** Cloud metadata services: refused even when private targets are allowed. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', '169.254.170.2', 'fd00:ec2::254', '168.63.129.16', '100.100.100.200']);
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata', 'metadata.azure.internal']);

/**
 * Why an address may not be a webhook target, or null when it may. Only globally routable
 * unicast passes; ipaddr.process() unwraps IPv4-mapped IPv6 (::ffff:127.0.0.1 is loopback).
 */
export function refusedAddressReason(address: string, allowPrivate: boolean): string | null {
  if (!ipaddr.isValid(address)) return 'not an IP address';
  const addr = ipaddr.process(address);
  const norm = addr.toString();
  if (METADATA_ADDRESSES.has(norm) || METADATA_ADDRESSES.has(address.toLowerCase())) return 'cloud metadata address';
  if (allowPrivate) return null;
  const range = addr.range();
  // 'unicast' is ipaddr's name for "none of the special-purpose ranges".
  return range === 'unicast' ? null : `${range} address`;
}

function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** Load-time check of a webhook URL: scheme, and the host when it is a literal or a well-known local name. */
export function checkWebhookUrl(rawUrl: string, allowPrivate: boolean): URL {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new WebhookTargetError('webhook url is not a valid URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new WebhookTargetError(`webhook url scheme ${url.protocol} is not allowed (http or https)`);
  if (url.username || url.password) throw new WebhookTargetError('webhook url must not carry credentials; the endpoint secret signs requests');
  const host = bareHost(url.hostname).toLowerCase();
  if (METADATA_HOSTS.has(host)) throw new WebhookTargetError(`webhook host ${host} is a cloud metadata service`);
  if (ipaddr.isValid(host)) {
    const why = refusedAddressReason(host, allowPrivate);
    if (why) throw new WebhookTargetError(`webhook host ${host} is a ${why} (set webhooks.allow_private_targets to allow)`);
  } else if (!allowPrivate && (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.local') || host.endsWith('.internal'))) {
    throw new WebhookTargetError(`webhook host ${host} is a local name (set webhooks.allow_private_targets to allow)`);
  }
  return url;
}

export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * Delivery-time check: resolve the host, refuse when ANY address is refused (a name that
 * mixes public and private answers is itself suspicious), return the address to connect to.
 */
export async function resolveWebhookTarget(url: URL, allowPrivate: boolean, resolver: Resolver = systemResolver): Promise<{ address: string; family: 4 | 6 }> {
  const host = bareHost(url.hostname);
  let addrs: Array<{ address: string; family: number }>;
  if (ipaddr.isValid(host)) addrs = [{ address: host, family: host.includes(':') ? 6 : 4 }];
  else {
    if (METADATA_HOSTS.has(host.toLowerCase())) throw new WebhookTargetError(`webhook host ${host} is a cloud metadata service`);
    try {
      addrs = await resolver(host);
    } catch (err) {
      throw new WebhookTargetError(`webhook host ${host} does not resolve: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    }
    if (addrs.length === 0) throw new WebhookTargetError(`webhook host ${host} has no addresses`);
  }
  for (const a of addrs) {
    const why = refusedAddressReason(a.address, allowPrivate);
    if (why) throw new WebhookTargetError(`webhook host ${host} resolves to a ${why} (${a.address})`);
  }
  return { address: addrs[0].address, family: addrs[0].family === 6 ? 6 : 4 };
}
