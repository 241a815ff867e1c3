// The files that let native apps share the portal's passkeys (issue 14),
// served only when the operator names the apps: Android's Digital Asset
// Links (/.well-known/assetlinks.json, from PASSKEY_ANDROID_APPS) and
// Apple's associated domains (/.well-known/apple-app-site-association, from
// PASSKEY_APPLE_APP_IDS). Without them, both answer 404 like any unknown
// address. Both are JSON, public, and may be cached for an hour.
import type { FastifyInstance } from 'fastify';
import type { PasskeyParty } from '../auth/passkey-party.ts';

export const ASSETLINKS_PATH = '/.well-known/assetlinks.json';
export const APPLE_ASSOCIATION_PATH = '/.well-known/apple-app-site-association';

/** Digital Asset Links: each app may use the portal's credentials (passkeys and passwords). */
export function assetLinks(party: PasskeyParty) {
  const byPackage = new Map<string, string[]>();
  for (const app of party.androidApps)
    byPackage.set(app.packageName, [...(byPackage.get(app.packageName) ?? []), app.fingerprint]);
  return [...byPackage].map(([packageName, fingerprints]) => ({
    relation: [
      'delegate_permission/common.handle_all_urls',
      'delegate_permission/common.get_login_creds',
    ],
    target: {
      namespace: 'android_app',
      package_name: packageName,
      sha256_cert_fingerprints: fingerprints,
    },
  }));
}

/** Apple's file: the apps that may use the portal's web credentials. */
export function appleAssociation(party: PasskeyParty) {
  return { webcredentials: { apps: [...party.appleAppIds] } };
}

export function registerWellKnown(app: FastifyInstance, party: PasskeyParty): void {
  const json = (body: unknown) => JSON.stringify(body);
  if (party.androidApps.length > 0) {
    const body = json(assetLinks(party));
    app.get(ASSETLINKS_PATH, { schema: { hide: true } }, async (_request, reply) =>
      reply.type('application/json').header('cache-control', 'public, max-age=3600').send(body),
    );
  }
  if (party.appleAppIds.length > 0) {
    const body = json(appleAssociation(party));
    app.get(APPLE_ASSOCIATION_PATH, { schema: { hide: true } }, async (_request, reply) =>
      reply.type('application/json').header('cache-control', 'public, max-age=3600').send(body),
    );
  }
}
