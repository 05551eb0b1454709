/**
 * A cookie jar for one signed session cookie, over fetch: what a browser does with the
 * session cookie of express-session, @fastify/session or koa-session, and nothing else.
 */
import { createHmac } from 'node:crypto';

/** How a framework names and signs its session cookie. */
export interface CookieFormat {
  readonly name: string;
  /** Before the signed value: `s:` for express-session, none for @fastify/session by default. */
  readonly prefix: string;
  readonly secret: string;
  /** How the framework signs an id, when not as cookie-signature does (hono/cookie keeps base64's padding). */
  readonly sign?: (id: string, secret: string) => string;
  /**
   * Where the signature goes: in the cookie's value (`inline`, the default: cookie-signature,
   * @fastify/cookie), or in a cookie of its own named `<name>.sig` (`sig-cookie`: Koa's
   * `cookies` with Keygrip, HMAC-SHA1 of `name=value`, URL-safe base64 without padding),
   * the value being the session id as it is.
   */
  readonly signature?: 'inline' | 'sig-cookie';
}

/** The cookie signature of cookie-signature and @fastify/cookie (HMAC-SHA256, base64 without padding). */
export function signedCookieValue(id: string, secret: string, prefix = 's:'): string {
  const mac = createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
  return `${prefix}${id}.${mac}`;
}

/** The `.sig` cookie of Koa's `cookies` (Keygrip's signature of `name=value`). */
export function keygripSignature(name: string, value: string, secret: string): string {
  return createHmac('sha1', secret)
    .update(`${name}=${value}`)
    .digest('base64')
    .replaceAll('/', '_')
    .replaceAll('+', '-')
    .replace(/=+$/, '');
}

export interface Reply<T> {
  readonly status: number;
  /** The body, parsed when it is JSON, else its text. */
  readonly body: T;
  /** The session cookie's Set-Cookie header, if the response set it. */
  readonly setCookie: string | undefined;
  /** The session id in that Set-Cookie header. */
  readonly setId: string | undefined;
  /** The Expires attribute of that header, if any. */
  readonly cookieExpires: Date | undefined;
  /** The Location header, if any. */
  readonly location: string | null;
}

/** What every session route of the test apps answers: the session id and the session without its cookie. */
export interface SessionReply {
  id: string;
  data: Record<string, unknown>;
}

/** A cookie jar for the session cookie and nothing else, over fetch. */
export class Client {
  readonly #url: string;
  readonly #format: CookieFormat;
  #cookie: string | undefined;
  /** The `<name>.sig` cookie, with `signature: 'sig-cookie'`. */
  #sig: string | undefined;

  constructor(url: string, format: CookieFormat) {
    this.#url = url;
    this.#format = format;
  }

  /** The session id the jar holds (unsigned), if any. */
  get sessionId(): string | undefined {
    return this.#cookie === undefined ? undefined : this.#idOf(this.#cookie);
  }

  /** Puts a cookie for this session id in the jar, signed as the framework signs it. */
  useSessionId(id: string, secret = this.#format.secret): void {
    if (this.#sigCookie) {
      this.#cookie = id;
      this.#sig = keygripSignature(this.#format.name, id, secret);
      return;
    }
    const signed =
      this.#format.sign?.(id, secret) ?? signedCookieValue(id, secret, this.#format.prefix);
    this.#cookie = encodeURIComponent(signed);
  }

  /** Empties the jar: the next request is a new visitor's. */
  forget(): void {
    this.#cookie = undefined;
    this.#sig = undefined;
  }

  get #sigCookie(): boolean {
    return this.#format.signature === 'sig-cookie';
  }

  async request<T = SessionReply>(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const name = this.#format.name;
    const cookies = [
      ...(this.#cookie === undefined ? [] : [`${name}=${this.#cookie}`]),
      ...(this.#sig === undefined ? [] : [`${name}.sig=${this.#sig}`]),
    ];
    const response = await fetch(this.#url + path, {
      method,
      headers: { ...headers, ...(cookies.length === 0 ? {} : { cookie: cookies.join('; ') }) },
      redirect: 'manual',
    });
    const setCookies = response.headers.getSetCookie();
    const setCookie = setCookies.find((header) => header.startsWith(`${name}=`));
    const value = setCookie?.slice(name.length + 1).split(';')[0];
    // an empty value clears the cookie (a logout): the jar forgets it
    if (value !== undefined) this.#cookie = value === '' ? undefined : value;
    const sig = setCookies
      .find((header) => header.startsWith(`${name}.sig=`))
      ?.slice(name.length + 5)
      .split(';')[0];
    if (sig !== undefined) this.#sig = sig === '' ? undefined : sig;
    const expires = setCookie?.match(/;\s*Expires=([^;]+)/i)?.[1];
    const text = await response.text();
    const json = response.headers.get('content-type')?.includes('json') && text !== '';
    return {
      status: response.status,
      body: (json ? JSON.parse(text) : text) as T,
      setCookie,
      setId: value === undefined || value === '' ? undefined : this.#idOf(value),
      cookieExpires: expires === undefined ? undefined : new Date(expires),
      location: response.headers.get('location'),
    };
  }

  get<T = SessionReply>(path: string, headers?: Record<string, string>): Promise<Reply<T>> {
    return this.request<T>('GET', path, headers);
  }

  post<T = SessionReply>(path: string, headers?: Record<string, string>): Promise<Reply<T>> {
    return this.request<T>('POST', path, headers);
  }

  /** The session id in a (URL-encoded, signed) cookie value. */
  #idOf(cookieValue: string): string {
    if (this.#sigCookie) return cookieValue;
    const signed = decodeURIComponent(cookieValue);
    const { prefix } = this.#format;
    if (!signed.startsWith(prefix)) throw new Error(`session cookie without ${prefix}: ${signed}`);
    const dot = signed.lastIndexOf('.');
    if (dot < 0) throw new Error(`unsigned session cookie: ${signed}`);
    return signed.slice(prefix.length, dot);
  }
}
