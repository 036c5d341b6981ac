// Tessera's browser flows in a real browser: Debian's Chromium driven by playwright-core,
// against a tiny relying party that this script serves itself on the redirect URIs' ports.
//
// The relying party is a server-side web app: GET /start?client=1|2[&prompt][&max_age]
// makes a PKCE verifier, state and nonce and redirects to the authorization endpoint; its
// redirect URI takes ?code&state&iss, exchanges the code with openid-client (client secret,
// PKCE verifier; ID token signature checked against the JWKS) and renders "Signed in as
// <sub>"; GET /logout sends the browser to the end-session endpoint with id_token_hint;
// its post-logout URI renders "Signed out".
//
// Journey: login page, a wrong password, sign in, consent, callback; SSO into the second
// client; prompt=login and max_age=1 force the login form, with a later auth_time; logout with
// id_token_hint (direct redirect) and without (confirmation page); the error page of a bad
// redirect_uri; and the whole sign-in again with JavaScript disabled. A PNG screenshot of
// every page goes to SCREENSHOT_DIR (default target/screenshots).
//
// Inputs (environment): ISSUER, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, POST_LOGOUT_REDIRECT_URI,
// CLIENT2_ID, CLIENT2_SECRET, CLIENT2_REDIRECT_URI, USER_EMAIL, USER_PASSWORD; optional
// USER_NAME, CLIENT_NAME (shown on the consent page), INTEROP_CHROMIUM, SCREENSHOT_DIR.
// Prints one line per step passed (and `note:` lines for what a person would notice);
// exits 1 with FAIL: … at the first check that fails. Run by tests/interop_oidc.rs of tessera-cli.

import { createServer } from 'node:http';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, decodeJwt, fail, inputs, load, pass } from './support.mjs';

const { chromium } = await load('playwright-core');
const oidc = await load('openid-client');
const env = inputs([
  'ISSUER',
  'CLIENT_ID',
  'CLIENT_SECRET',
  'REDIRECT_URI',
  'POST_LOGOUT_REDIRECT_URI',
  'CLIENT2_ID',
  'CLIENT2_SECRET',
  'CLIENT2_REDIRECT_URI',
  'USER_EMAIL',
  'USER_PASSWORD',
]);
const here = path.dirname(fileURLToPath(import.meta.url));
const screenshots = path.resolve(process.env.SCREENSHOT_DIR || path.join(here, '..', '..', 'target', 'screenshots'));
mkdirSync(screenshots, { recursive: true });
// This run's screenshots only: the numbered PNGs of an earlier run would mislead.
for (const file of readdirSync(screenshots)) {
  if (/^\d\d-[\w-]+\.png$/.test(file)) rmSync(path.join(screenshots, file));
}
const SCOPE = 'openid profile email';
const notes = [];

function note(text) {
  notes.push(text);
  console.log(`note: ${text}`);
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// --- The relying party -----------------------------------------------------------------------

const clients = {
  1: { id: env.CLIENT_ID, secret: env.CLIENT_SECRET, redirectUri: env.REDIRECT_URI },
  2: { id: env.CLIENT2_ID, secret: env.CLIENT2_SECRET, redirectUri: env.CLIENT2_REDIRECT_URI },
};
for (const client of Object.values(clients)) {
  client.config = await oidc
    .discovery(new URL(env.ISSUER), client.id, client.secret, oidc.ClientSecretBasic(client.secret), {
      execute: [oidc.allowInsecureRequests, oidc.enableNonRepudiationChecks],
    })
    .catch((error) => fail(`discovery for ${client.id}: ${error.message}${error.cause ? ` (${error.cause.message})` : ''}`));
}
pass('discovery for both clients');

const pending = new Map(); // state -> { client, verifier, nonce, maxAge }
const rp = { signIns: [], signOuts: [], errors: [], idToken: null };
const rpUrl = new URL(env.REDIRECT_URI);
const rpOrigin = rpUrl.origin;
const postLogout = new URL(env.POST_LOGOUT_REDIRECT_URI);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:sans-serif;margin:3rem auto;max-width:40rem}pre{background:#f4f4f4;padding:1rem;white-space:pre-wrap;word-break:break-all}</style>
</head><body>${body}</body></html>`;
}

// docs:begin rp-start
async function start(query, response) {
  const client = clients[query.get('client') || '1'];
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const parameters = {
    redirect_uri: client.redirectUri,
    scope: SCOPE,
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  };
  for (const name of ['prompt', 'max_age', 'login_hint']) {
    if (query.get(name)) parameters[name] = query.get(name);
  }
  if (query.get('redirect_uri')) parameters.redirect_uri = query.get('redirect_uri');
  const maxAge = query.get('max_age') ? Number(query.get('max_age')) : undefined;
  pending.set(state, { client, verifier, nonce, maxAge });
  response.writeHead(302, { location: oidc.buildAuthorizationUrl(client.config, parameters).href }).end();
}
// docs:end rp-start

async function callback(client, url, response) {
  const state = url.searchParams.get('state');
  const request = pending.get(state);
  pending.delete(state);
  try {
    // docs:begin rp-callback
    if (url.searchParams.get('error')) {
      throw new Error(`the server answered error=${url.searchParams.get('error')}: ${url.searchParams.get('error_description')}`);
    }
    if (!request || request.client !== client) throw new Error(`unknown state ${state}`);
    // RFC 9207: openid-client requires iss since discovery advertises it; checked here too.
    if (url.searchParams.get('iss') !== env.ISSUER) throw new Error(`callback iss is ${url.searchParams.get('iss')}`);
    const tokens = await oidc.authorizationCodeGrant(client.config, url, {
      pkceCodeVerifier: request.verifier,
      expectedState: state,
      expectedNonce: request.nonce,
      idTokenExpected: true,
      maxAge: request.maxAge,
    });
    const claims = tokens.claims();
    const info = await oidc.fetchUserInfo(client.config, tokens.access_token, claims.sub);
    // docs:end rp-callback
    rp.signIns.push({ client: client.id, claims, info, tokens });
    rp.idToken = tokens.id_token;
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      page(
        'Signed in',
        `<h1 id="signed-in">Signed in as ${escapeHtml(claims.sub)}</h1>
<p>Client <b>${escapeHtml(client.id)}</b>, ${escapeHtml(info.email ?? '')} ${escapeHtml(info.name ?? '')}</p>
<p><a id="logout" href="/rp/logout">Sign out</a></p>
<pre id="claims">${escapeHtml(JSON.stringify(claims, null, 2))}</pre>`,
      ),
    );
  } catch (error) {
    rp.errors.push(error.message);
    response.writeHead(400, { 'content-type': 'text/html; charset=utf-8' }).end(
      page('Sign-in failed', `<h1 id="rp-error">Sign-in failed</h1><pre>${escapeHtml(error.message)}</pre>`),
    );
  }
}

// docs:begin rp-logout
function logout(response) {
  const state = oidc.randomState();
  rp.logoutState = state;
  const url = oidc.buildEndSessionUrl(clients[1].config, {
    id_token_hint: rp.idToken,
    post_logout_redirect_uri: env.POST_LOGOUT_REDIRECT_URI,
    state,
  });
  response.writeHead(302, { location: url.href }).end();
}
// docs:end rp-logout

function signedOut(url, response) {
  rp.signOuts.push({ state: url.searchParams.get('state') });
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
    page('Signed out', `<h1 id="signed-out">Signed out of the relying party</h1><p>state: ${escapeHtml(url.searchParams.get('state') ?? '')}</p>`),
  );
}

async function route(request, response) {
  const url = new URL(request.url, `http://${request.headers.host}`);
  const here = `${url.origin}${url.pathname}`;
  try {
    if (url.pathname === '/rp/start') return await start(url.searchParams, response);
    if (url.pathname === '/rp/logout') return logout(response);
    if (here === env.REDIRECT_URI) return await callback(clients[1], url, response);
    if (here === env.CLIENT2_REDIRECT_URI) return await callback(clients[2], url, response);
    if (here === env.POST_LOGOUT_REDIRECT_URI) return signedOut(url, response);
    response.writeHead(404).end('not found');
  } catch (error) {
    rp.errors.push(error.message);
    response.writeHead(500).end(error.message);
  }
}

// One server per port among the client's URIs (usually one). A relying party at
// http://localhost:PORT is another site than the issuer at 127.0.0.1 (RFC 6265bis "site"),
// so the redirects between them are cross-site, as in real life; localhost may resolve to
// either loopback address, so both are served.
const ports = new Map();
for (const uri of [env.REDIRECT_URI, env.CLIENT2_REDIRECT_URI, env.POST_LOGOUT_REDIRECT_URI].map((u) => new URL(u))) {
  const hosts = ports.get(uri.port) ?? new Set();
  for (const host of uri.hostname === 'localhost' ? ['127.0.0.1', '::1'] : [uri.hostname.replace(/^\[|\]$/g, '')]) hosts.add(host);
  ports.set(uri.port, hosts);
}
const servers = [];
const listening = [];
for (const [port, hosts] of ports) {
  for (const host of hosts) {
    const server = createServer((request, response) => void route(request, response));
    const ok = await new Promise((resolve) => {
      server.once('error', (error) => resolve(error));
      server.listen(Number(port), host, () => resolve(true));
    });
    if (ok === true) {
      servers.push(server);
      listening.push(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
    } else if (host !== '::1') {
      fail(`the relying party cannot listen on ${host}:${port}: ${ok.message}`);
    }
  }
}
pass(`relying party listening on ${listening.join(', ')}`);

// --- The browser -----------------------------------------------------------------------------

const executablePath = process.env.INTEROP_CHROMIUM || '/usr/bin/chromium';
const browser = await chromium
  .launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  })
  .catch((error) => fail(`cannot start Chromium at ${executablePath} (scripts/test installs Debian's chromium): ${error.message.split('\n')[0]}`));

let shot = 0;
async function screenshot(page, name) {
  shot += 1;
  const file = path.join(screenshots, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`   screenshot ${file}`);
}

async function finish(code) {
  await browser.close().catch(() => {});
  for (const server of servers) server.close();
  if (notes.length) console.log(`${notes.length} note(s) for a person to look at (above)`);
  process.exit(code);
}

/** A page of the server's own: checks what every HTML page of an identity server should have. */
async function serverPage(page, response, what) {
  check(response, `${what}: a response`);
  const headers = response.headers();
  const type = headers['content-type'] ?? '';
  check(type.startsWith('text/html'), `${what}: text/html`, type);
  const title = await page.title();
  if (!title.trim()) note(`${what}: the page has no <title>`);
  const lang = await page.getAttribute('html', 'lang').catch(() => null);
  if (!lang) note(`${what}: <html> has no lang attribute`);
  const viewport = await page.locator('meta[name="viewport"]').count();
  if (!viewport) note(`${what}: no <meta name="viewport">; the page will be tiny on a phone`);
  // SPEC §7: security headers on HTML pages; a login page must not be framed or cached.
  const frameable = !headers['x-frame-options'] && !/frame-ancestors/.test(headers['content-security-policy'] ?? '');
  if (frameable) note(`${what}: neither X-Frame-Options nor CSP frame-ancestors (clickjacking)`);
  if (!/no-store/.test(headers['cache-control'] ?? '')) note(`${what}: Cache-Control is ${headers['cache-control'] ?? 'absent'}, not no-store`);
  if (headers['x-content-type-options'] !== 'nosniff') note(`${what}: no X-Content-Type-Options: nosniff`);
}

async function isLoginPage(page) {
  return (await page.locator('form[action*="/interaction/"][action$="/login"]').count()) > 0;
}

async function isConsentPage(page) {
  return (await page.locator('form[action*="/interaction/"][action$="/consent"]').count()) > 0;
}

async function login(page, password = env.USER_PASSWORD) {
  const email = page.locator('#email');
  check((await email.getAttribute('type')) === 'email' && (await email.getAttribute('name')) === 'email', 'login: <input id="email" name="email" type="email">');
  const pw = page.locator('#password');
  check((await pw.getAttribute('type')) === 'password' && (await pw.getAttribute('name')) === 'password', 'login: <input id="password" name="password" type="password">');
  check((await page.locator('input[type="hidden"][name="csrf"]').count()) === 1, 'login: one hidden csrf input');
  // A person finds the fields by their labels; a missing label is a usability and a11y bug.
  if ((await page.getByLabel(/e-?mail/i).count()) === 0) note('login: the e-mail field has no <label>');
  if ((await page.getByLabel(/password/i).count()) === 0) note('login: the password field has no <label>');
  await email.fill(env.USER_EMAIL);
  await pw.fill(password);
  const [response] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /sign in/i }).click()]);
  return response;
}

async function signedInAs(page, client, what) {
  const heading = page.locator('#signed-in');
  if ((await heading.count()) === 0) {
    const error = rp.errors.at(-1);
    fail(`${what}: the relying party did not sign in${error ? `: ${error}` : ''}; the browser is at ${page.url()}\n  ${(await page.content()).replace(/\s+/g, ' ').slice(0, 600)}`);
  }
  const last = rp.signIns.at(-1);
  check(last && last.client === client.id, `${what}: signed in to ${client.id}`, last?.client);
  check((await heading.textContent()).includes(last.claims.sub), `${what}: the page shows the sub`);
  return last;
}

try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const start = (query = '') => page.goto(`${rpOrigin}/rp/start?${query}`);

  // 1. Login page, then a wrong password.
  let response = await start('client=1');
  check(await isLoginPage(page), 'the first visit shows the login form', page.url());
  check(new URL(page.url()).pathname.startsWith('/interaction/'), 'the login page is at /interaction/{id}', page.url());
  await serverPage(page, response, 'login page');
  const interaction = (await context.cookies(env.ISSUER)).find((c) => c.name === 'tessera_interaction');
  check(interaction && interaction.httpOnly && interaction.sameSite === 'Lax' && interaction.path === '/', 'cookie tessera_interaction: HttpOnly, SameSite=Lax, Path=/', interaction);
  await screenshot(page, 'login');
  pass('login page');

  response = await login(page, `${env.USER_PASSWORD}-wrong`);
  check(response.status() === 401, 'a wrong password: 401', response.status());
  check(await isLoginPage(page), 'a wrong password: the login form again');
  check((await page.locator('[role="alert"]').count()) > 0, 'a wrong password: an element role="alert"');
  const alert = (await page.locator('[role="alert"]').first().textContent()).trim();
  check(alert.length > 0, 'the alert says something', alert);
  if ((await page.locator('#email').inputValue()) !== env.USER_EMAIL) note('login error: the e-mail address typed is not kept; the user must type it again');
  if ((await page.locator('#password').inputValue()) !== '') note('login error: the password field is filled again');
  await screenshot(page, 'login-error');
  pass(`wrong password: 401 with an alert ("${alert}")`);

  // 2. Sign in, consent, callback.
  response = await login(page);
  const session = (await context.cookies(env.ISSUER)).find((c) => c.name === 'tessera_session');
  check(session && session.httpOnly && session.sameSite === 'Lax', 'cookie tessera_session: HttpOnly, SameSite=Lax', session);
  if (await isConsentPage(page)) {
    await serverPage(page, response, 'consent page');
    const text = await page.locator('body').innerText();
    if (process.env.CLIENT_NAME && !text.includes(process.env.CLIENT_NAME)) note(`consent: the page does not name the client ("${process.env.CLIENT_NAME}")`);
    if (!/e-?mail/i.test(text) || !/profile|name/i.test(text)) note('consent: the page does not say what is shared (profile, email)');
    check((await page.getByRole('button', { name: 'Allow' }).count()) === 1, 'consent: an Allow button');
    check((await page.getByRole('button', { name: 'Deny' }).count()) === 1, 'consent: a Deny button');
    await screenshot(page, 'consent');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Allow' }).click()]);
    pass('consent page: Allow');
  } else {
    note('no consent page for the first client: is it registered first-party? (no consent screenshot)');
  }
  const first = await signedInAs(page, clients[1], 'sign-in');
  await screenshot(page, 'callback');
  check(first.info.sub === first.claims.sub && first.info.email === env.USER_EMAIL, 'userinfo: the same sub, the e-mail', first.info);
  pass(`signed in as ${first.claims.sub} (auth_time ${first.claims.auth_time})`);

  // 3. SSO into the second client: no login form.
  await start('client=2');
  check(!(await isLoginPage(page)), 'SSO: no login form for the second client', page.url());
  if (await isConsentPage(page)) {
    await screenshot(page, 'consent-client2');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Allow' }).click()]);
  }
  const sso = await signedInAs(page, clients[2], 'SSO');
  check(sso.claims.sub === first.claims.sub && sso.claims.sid === first.claims.sid, 'SSO: same sub and sid', { first: first.claims, sso: sso.claims });
  check(sso.claims.auth_time === first.claims.auth_time, 'SSO: same auth_time', { first: first.claims.auth_time, sso: sso.claims.auth_time });
  await screenshot(page, 'sso-callback');
  pass(`SSO into ${clients[2].id} without a login`);

  // 4. prompt=login: the login form again, and a later auth_time.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  await start('client=1&prompt=login');
  check(await isLoginPage(page), 'prompt=login shows the login form although a session exists', page.url());
  await screenshot(page, 'prompt-login');
  await login(page);
  if (await isConsentPage(page)) {
    note('prompt=login asked for consent again although it was given');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Allow' }).click()]);
  }
  const reauth = await signedInAs(page, clients[1], 'prompt=login');
  check(reauth.claims.auth_time > first.claims.auth_time, 'prompt=login: a later auth_time', { before: first.claims.auth_time, after: reauth.claims.auth_time });
  pass(`prompt=login: login form, auth_time ${first.claims.auth_time} -> ${reauth.claims.auth_time}`);

  // 5. max_age=1 after 2 s: the login form again.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  await start('client=1&max_age=1');
  check(await isLoginPage(page), 'max_age=1 after 2 s shows the login form', page.url());
  await login(page);
  if (await isConsentPage(page)) await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Allow' }).click()]);
  const aged = await signedInAs(page, clients[1], 'max_age=1');
  check(aged.claims.auth_time > reauth.claims.auth_time, 'max_age=1: a later auth_time', { before: reauth.claims.auth_time, after: aged.claims.auth_time });
  pass(`max_age=1: login form, auth_time ${aged.claims.auth_time} (openid-client checked max_age)`);

  // 6. Logout with id_token_hint: straight to the post-logout URI.
  await Promise.all([page.waitForNavigation(), page.locator('#logout').click()]);
  if (new URL(page.url()).pathname === '/oauth/logout') {
    note('logout with a matching id_token_hint showed a confirmation page instead of redirecting');
    await screenshot(page, 'logout-confirmation-with-hint');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /sign out/i }).click()]);
  }
  check(`${new URL(page.url()).origin}${new URL(page.url()).pathname}` === env.POST_LOGOUT_REDIRECT_URI, 'logout: at the post_logout_redirect_uri', page.url());
  check(new URL(page.url()).searchParams.get('state') === rp.logoutState, 'logout: with the state', page.url());
  await screenshot(page, 'rp-signed-out');
  await start('client=1');
  check(await isLoginPage(page), 'after logout the login form is back', page.url());
  pass('RP-initiated logout with id_token_hint; the login form is back');

  // 7. Logout without a hint: the confirmation page, then signed out.
  await login(page);
  if (await isConsentPage(page)) await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Allow' }).click()]);
  await signedInAs(page, clients[1], 'sign-in after logout');
  response = await page.goto(`${env.ISSUER}/oauth/logout`);
  const confirm = page.locator('form[action="/oauth/logout"]');
  check((await confirm.count()) === 1, 'logout without a hint: a confirmation form posting to /oauth/logout', page.url());
  check((await confirm.locator('input[type="hidden"][name="csrf"]').count()) === 1, 'the confirmation has a hidden csrf');
  check((await confirm.locator('input[type="hidden"][name="logout"]').count()) === 1, 'the confirmation has a hidden logout');
  await serverPage(page, response, 'logout confirmation');
  await screenshot(page, 'logout-confirmation');
  response = (await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: /sign out/i }).click()]))[0];
  check(response && response.status() < 400, 'the logout POST succeeds', response?.status());
  const after = page.url();
  if (`${new URL(after).origin}${new URL(after).pathname}` !== env.POST_LOGOUT_REDIRECT_URI) {
    check(/signed out|logged out/i.test(await page.locator('body').innerText()), 'the page after the logout POST says signed out', after);
    await serverPage(page, response, 'signed-out page');
  }
  await screenshot(page, 'signed-out');
  await start('client=2');
  check(await isLoginPage(page), 'after the confirmed logout the login form is back (second client too)', page.url());
  pass('logout with confirmation page; signed out');

  // 8. The error page of an unregistered redirect_uri: no redirect, status 400.
  response = await start(`client=1&redirect_uri=${encodeURIComponent(`${rpOrigin}/not-registered`)}`);
  check(response.status() === 400, 'an unregistered redirect_uri: status 400', response.status());
  check(new URL(page.url()).origin === new URL(env.ISSUER).origin, 'an unregistered redirect_uri: the browser stays at the server', page.url());
  const errorText = (await page.locator('body').innerText()).trim();
  check(errorText.length > 0, 'the error page says something', errorText);
  await serverPage(page, response, 'error page');
  await screenshot(page, 'error-bad-redirect-uri');
  pass(`unregistered redirect_uri: an error page ("${errorText.replace(/\s+/g, ' ').slice(0, 80)}")`);

  // A narrow phone screen: the login page should still be usable.
  const phone = await browser.newContext({ viewport: { width: 375, height: 667 }, isMobile: true });
  const phonePage = await phone.newPage();
  await phonePage.goto(`${rpOrigin}/rp/start?client=1`);
  await screenshot(phonePage, 'login-phone');
  await phone.close();
  await context.close();

  // 9. Without JavaScript: the whole sign-in still works (SPEC §5: pages work without JS).
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  const plain = await noJs.newPage();
  await plain.goto(`${rpOrigin}/rp/start?client=1`);
  check(await isLoginPage(plain), 'without JavaScript: the login form', plain.url());
  await screenshot(plain, 'login-no-js');
  await login(plain);
  if (await isConsentPage(plain)) {
    await screenshot(plain, 'consent-no-js');
    await Promise.all([plain.waitForNavigation(), plain.getByRole('button', { name: 'Allow' }).click()]);
  }
  await signedInAs(plain, clients[1], 'without JavaScript');
  await screenshot(plain, 'callback-no-js');
  await noJs.close();
  pass('without JavaScript: sign in and callback');

  check(rp.errors.length === 0, 'the relying party saw no error', rp.errors);
  pass(`browser journey complete; screenshots in ${screenshots}`);
  await finish(0);
} catch (error) {
  console.error(`FAIL: ${error.stack ?? error}`);
  await finish(1);
}
