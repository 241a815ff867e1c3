// The files native apps need to share the portal's passkeys
// (src/routes/well-known.ts): served from the configuration, or not at all.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTestApp, databaseLabel } from '../helper.ts';

const FINGERPRINT = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0'))
  .join(':')
  .toUpperCase();

describe(`the passkeys' association files (${databaseLabel})`, () => {
  it('answers 404 for both when no app is configured', async () => {
    const t = await buildTestApp();
    try {
      for (const url of ['/.well-known/assetlinks.json', '/.well-known/apple-app-site-association'])
        assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 404, url);
    } finally {
      await t.close();
    }
  });

  it('serves assetlinks.json and apple-app-site-association for the configured apps', async () => {
    const t = await buildTestApp({
      env: {
        PASSKEY_ANDROID_APPS: `uy.example.portal=${FINGERPRINT}, uy.example.portal=${FINGERPRINT.replace('00', 'FF')}`,
        PASSKEY_APPLE_APP_IDS: 'ABCDE12345.uy.example.portal',
      },
    });
    try {
      const links = await t.app.inject({ method: 'GET', url: '/.well-known/assetlinks.json' });
      assert.equal(links.statusCode, 200);
      assert.match(String(links.headers['content-type']), /^application\/json/);
      assert.equal(links.headers['cache-control'], 'public, max-age=3600');
      assert.deepEqual(links.json(), [
        {
          relation: [
            'delegate_permission/common.handle_all_urls',
            'delegate_permission/common.get_login_creds',
          ],
          target: {
            namespace: 'android_app',
            package_name: 'uy.example.portal',
            sha256_cert_fingerprints: [FINGERPRINT, FINGERPRINT.replace('00', 'FF')],
          },
        },
      ]);
      const apple = await t.app.inject({
        method: 'GET',
        url: '/.well-known/apple-app-site-association',
      });
      assert.equal(apple.statusCode, 200);
      assert.deepEqual(apple.json(), {
        webcredentials: { apps: ['ABCDE12345.uy.example.portal'] },
      });
      // The Android app's answers are accepted from its own origin.
      assert.ok(
        t.deps.config.passkeys.origins.includes(
          `android:apk-key-hash:${Buffer.from(FINGERPRINT.replaceAll(':', ''), 'hex').toString('base64url')}`,
        ),
      );
    } finally {
      await t.close();
    }
  });

  it('refuses malformed app settings with a message for the operator', async () => {
    await assert.rejects(
      buildTestApp({ env: { PASSKEY_ANDROID_APPS: 'portal=12:34' } }),
      /PASSKEY_ANDROID_APPS: "portal=12:34" is not package=SHA256_FINGERPRINT/,
    );
    await assert.rejects(
      buildTestApp({ env: { PASSKEY_APPLE_APP_IDS: 'uy.example.portal' } }),
      /PASSKEY_APPLE_APP_IDS: "uy.example.portal" is not TEAMID.bundle.id/,
    );
  });
});
