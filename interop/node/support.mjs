// What the interop scripts of this folder share: loading the npm packages from where
// scripts/test installed them, reading the inputs, reporting steps, a cookie jar that acts
// as the browser for plain-HTTP flows, and reading the server's HTML forms.
//
// Where the packages come from: scripts/test runs `npm ci` on a copy of package.json and
// package-lock.json in target/interop-node/ (INTEROP_NODE_DIR), so that nothing is installed
// into the source tree. An ES module cannot be pointed at another node_modules with NODE_PATH,
// and a bare `import 'openid-client'` only looks in node_modules folders above the script, so
// the packages are resolved explicitly from that folder with createRequire and then imported
// by file URL. This works from any working directory and needs no symlink in the source tree.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The folder with node_modules/: INTEROP_NODE_DIR, else target/interop-node of this repo. */
export function nodeDir() {
  return path.resolve(process.env.INTEROP_NODE_DIR || path.join(here, '..', '..', 'target', 'interop-node'));
}

/** Imports an npm package installed in nodeDir(), or stops with what to run. */
export async function load(name) {
  const dir = nodeDir();
  if (!existsSync(path.join(dir, 'node_modules', name))) {
    fail(`npm package ${name} is not installed in ${dir}: run scripts/test (it runs npm ci there)`);
  }
  const require = createRequire(path.join(dir, 'package.json'));
  const module = await import(pathToFileURL(require.resolve(name)).href);
  // A CommonJS package (playwright-core) arrives as { default: module.exports }.
  return module.default && typeof module.default === 'object' ? { ...module, ...module.default } : module;
}

/** Stops the script: one clear line on stderr, exit code 1. */
export function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

/** A check: stops at the first one that does not hold. */
export function check(condition, message, detail) {
  if (!condition) {
    fail(detail === undefined ? message : `${message}\n  ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
  }
}

/** One line per step passed. */
export function pass(step) {
  console.log(`ok - ${step}`);
}

/** The named environment variables, all required. */
export function inputs(names) {
  const values = {};
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length) {
    fail(`missing environment variables: ${missing.join(', ')} (tests/interop_oidc.rs of tessera-cli sets them)`);
  }
  for (const name of names) values[name] = process.env[name];
  return values;
}

/** Decodes a JWT's header and claims, without verifying anything. */
export function decodeJwt(jwt) {
  const [header, payload] = String(jwt).split('.');
  const json = (part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  return { header: json(header), claims: json(payload) };
}

/** Cookies of one site (the issuer), as a browser keeps them, with their attributes. */
export class CookieJar {
  constructor() {
    this.cookies = new Map();
  }

  /** Takes the Set-Cookie headers of a response; returns the cookies they set, by name. */
  store(response) {
    const set = {};
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      const attrs = {};
      for (const attribute of attributes) {
        const [key, ...rest] = attribute.split('=');
        attrs[key.toLowerCase()] = rest.length ? rest.join('=') : true;
      }
      const expired =
        value === '' || attrs['max-age'] === '0' || (attrs.expires && Date.parse(attrs.expires) < Date.now());
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
      set[name] = { value, attrs, expired: Boolean(expired), raw: line };
    }
    return set;
  }

  header() {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  has(name) {
    return this.cookies.has(name);
  }
}

/**
 * A request as a browser without JavaScript makes it: the jar's cookies, no redirect
 * followed. Returns { status, location, body, headers, cookies (set by this response) }.
 */
export async function request(jar, url, { method = 'GET', form } = {}) {
  const headers = { accept: 'text/html,application/xhtml+xml' };
  if (jar.header()) headers.cookie = jar.header();
  let body;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(form).toString();
  }
  const response = await fetch(url, { method, headers, body, redirect: 'manual' });
  const cookies = jar.store(response);
  const location = response.headers.get('location');
  return {
    url: String(url),
    method,
    status: response.status,
    location: location ? new URL(location, url).href : null,
    body: await response.text(),
    headers: response.headers,
    cookies,
  };
}

/** A response in one line, for failure messages. */
export function describe(response) {
  const text = response.body.replace(/\s+/g, ' ').slice(0, 400);
  return `${response.method} ${response.url} -> ${response.status}${response.location ? ` Location: ${response.location}` : ''} ${text}`;
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(text) {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, entity) => {
    if (entity[0] === '#') {
      const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return String.fromCodePoint(code);
    }
    return ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

function attributes(tag) {
  const attrs = {};
  const pattern = /([^\s=<>"'/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
  const inner = tag.replace(/^<\s*[a-z]+/i, '').replace(/\/?>$/, '');
  for (const match of inner.matchAll(pattern)) {
    attrs[match[1].toLowerCase()] = decodeEntities(match[2] ?? match[3] ?? match[4] ?? '');
  }
  return attrs;
}

/**
 * The forms of an HTML page: [{ action (absolute), method, fields (hidden and named inputs
 * with their values), inputs (every input's attributes), buttons }].
 */
export function forms(html, baseUrl) {
  const found = [];
  for (const match of html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form>/gi)) {
    const open = match[0].match(/^<form\b[^>]*>/i)[0];
    const form = attributes(open);
    const inputs = [...match[1].matchAll(/<input\b[^>]*>/gi)].map((m) => attributes(m[0]));
    const buttons = [...match[1].matchAll(/<button\b[^>]*>([\s\S]*?)<\/button>/gi)].map((m) => ({
      ...attributes(m[0].match(/^<button\b[^>]*>/i)[0]),
      text: decodeEntities(m[1].replace(/<[^>]*>/g, '')).trim(),
    }));
    const fields = {};
    for (const input of inputs) {
      if (input.name && input.type === 'hidden') fields[input.name] = input.value ?? '';
    }
    found.push({
      action: new URL(form.action ?? '', baseUrl).href,
      actionPath: form.action,
      method: (form.method || 'get').toLowerCase(),
      fields,
      inputs,
      buttons,
    });
  }
  return found;
}

/** What kind of server page this is: 'login', 'consent', 'logout', or null. */
export function pageKind(html, baseUrl) {
  for (const form of forms(html, baseUrl)) {
    const path = new URL(form.action).pathname;
    if (/^\/interaction\/[^/]+\/login$/.test(path)) return { kind: 'login', form };
    if (/^\/interaction\/[^/]+\/consent$/.test(path)) return { kind: 'consent', form };
    if (path === '/oauth/logout') return { kind: 'logout', form };
  }
  return { kind: null, form: null };
}

/** Checks the login form against the contract (hidden csrf, email, password, Sign in). */
export function checkLoginForm(form, response) {
  check(form.method === 'post', 'the login form posts', describe(response));
  check(form.fields.csrf, 'the login form has a hidden csrf field with a value', describe(response));
  const email = form.inputs.find((input) => input.name === 'email');
  const password = form.inputs.find((input) => input.name === 'password');
  check(email && email.id === 'email' && email.type === 'email', 'the login form has <input id="email" name="email" type="email">', form.inputs);
  check(password && password.id === 'password' && password.type === 'password', 'the login form has <input id="password" name="password" type="password">', form.inputs);
  check(form.buttons.some((b) => (b.type || 'submit') === 'submit' && /sign in/i.test(b.text)), 'the login form has a "Sign in" submit button', form.buttons);
}

/** Checks the consent form against the contract (hidden csrf, Allow and Deny buttons). */
export function checkConsentForm(form, response) {
  check(form.method === 'post', 'the consent form posts', describe(response));
  check(form.fields.csrf, 'the consent form has a hidden csrf field with a value', describe(response));
  check(form.buttons.some((b) => b.name === 'decision' && b.value === 'allow'), 'the consent form has a button name="decision" value="allow"', form.buttons);
  check(form.buttons.some((b) => b.name === 'decision' && b.value === 'deny'), 'the consent form has a button name="decision" value="deny"', form.buttons);
}

/** Checks a cookie's attributes: HttpOnly, SameSite=Lax, Path=/ (RFC 6265bis). */
export function checkCookie(cookie, name, response) {
  check(cookie, `the response sets cookie ${name}`, describe(response));
  check(cookie.attrs.httponly === true, `cookie ${name} is HttpOnly`, cookie.raw);
  check(String(cookie.attrs.samesite).toLowerCase() === 'lax', `cookie ${name} is SameSite=Lax`, cookie.raw);
  check(cookie.attrs.path === '/', `cookie ${name} has Path=/`, cookie.raw);
}

/**
 * Drives the server's pages like a person with a browser without JavaScript, from an
 * authorization URL to the redirect back to the client: signs in when the login page comes
 * (after one wrong password when `wrongPasswordFirst`), allows on the consent page.
 * Returns { callback: URL, pages: ['login', 'consent', ...] }.
 */
export async function authorize(jar, authorizationUrl, redirectUri, user, { wrongPasswordFirst = false, consent = 'allow' } = {}) {
  const pages = [];
  let response = await request(jar, authorizationUrl);
  for (let hop = 0; hop < 12; hop++) {
    if (response.location && response.location.startsWith(redirectUri)) {
      check(response.status === 303 || response.status === 302, 'the redirect to the client is a 303 (or 302)', describe(response));
      return { callback: new URL(response.location), pages, last: response };
    }
    if (response.location) {
      check([302, 303].includes(response.status), 'a redirect inside the server is a 303', describe(response));
      if (new URL(response.url).pathname === '/oauth/authorize' && new URL(response.location).pathname.startsWith('/interaction/')) {
        checkCookie(response.cookies.tessera_interaction, 'tessera_interaction', response);
      }
      response = await request(jar, response.location);
      continue;
    }
    check(response.status === 200 || response.status === 401, 'a server page answers 200', describe(response));
    const { kind, form } = pageKind(response.body, response.url);
    if (kind === 'login') {
      checkLoginForm(form, response);
      pages.push('login');
      if (wrongPasswordFirst) {
        wrongPasswordFirst = false;
        const wrong = await request(jar, form.action, {
          method: 'POST',
          form: { ...form.fields, email: user.email, password: `${user.password}-wrong` },
        });
        check(wrong.status === 401, 'a wrong password answers 401 with the login page again', describe(wrong));
        check(/role\s*=\s*["']?alert/i.test(wrong.body), 'the login page after a wrong password has an element role="alert"', describe(wrong));
        const again = pageKind(wrong.body, wrong.url);
        check(again.kind === 'login', 'the page after a wrong password is the login form', describe(wrong));
        check(!wrong.body.includes(`${user.password}-wrong`), 'the wrong password is not echoed back in the page');
        pages.push('login-error');
        response = wrong;
        continue;
      }
      response = await request(jar, form.action, {
        method: 'POST',
        form: { ...form.fields, email: user.email, password: user.password },
      });
      check(response.status === 303, 'a successful login POST answers 303', describe(response));
      checkCookie(response.cookies.tessera_session, 'tessera_session', response);
      continue;
    }
    if (kind === 'consent') {
      checkConsentForm(form, response);
      pages.push('consent');
      response = await request(jar, form.action, { method: 'POST', form: { ...form.fields, decision: consent } });
      check(response.status === 303, 'the consent POST answers 303', describe(response));
      continue;
    }
    fail(`unexpected page on the way to ${redirectUri}: ${describe(response)}`);
  }
  fail(`more than 12 hops from ${authorizationUrl} without reaching ${redirectUri}`);
}
