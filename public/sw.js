// The portal's service worker (served at /sw.js, scope /). The server puts
// three constants before this text: VERSION, OFFLINE_URL and PRECACHE (the
// content-hashed assets of the offline page: src/site/site.ts).
//
// What it does, and only that:
// - keeps the offline page and its assets in a cache of this version, and
//   answers a page that cannot be reached (no network) with the offline page;
// - answers those assets from that cache.
// Pages are always fetched from the network and never stored: they may carry
// a member's data. API answers and everything else are not even looked at.

const CACHE = `autogestion-${VERSION}`;
const PRECACHED = new Set(PRECACHE.map((path) => new URL(path, self.location.origin).href));

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name !== CACHE && name.startsWith('autogestion-')) await caches.delete(name);
      }
      // The page request starts while the worker wakes up, not after.
      if (self.registration.navigationPreload) await self.registration.navigationPreload.enable();
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  if (request.mode === 'navigate') {
    event.respondWith(
      (async () => {
        try {
          const preloaded = await event.preloadResponse;
          return preloaded ?? (await fetch(request));
        } catch {
          // Only when there is no answer at all: an error page from the
          // server is shown as the server sent it.
          const offline = await caches.match(OFFLINE_URL, { cacheName: CACHE });
          return offline ?? Response.error();
        }
      })(),
    );
    return;
  }
  if (PRECACHED.has(request.url)) {
    event.respondWith(
      caches.match(request, { cacheName: CACHE }).then((hit) => hit ?? fetch(request)),
    );
  }
});
