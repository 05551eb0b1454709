/**
 * One browser's cookie jar for several servers "on one domain": cookies ignore ports, so a
 * cookie set by http://127.0.0.1:A is sent to http://127.0.0.1:B too. Keeps every cookie by
 * name, drops one whose Set-Cookie expired it, and sends them all with each request (fetch).
 */
export interface JarReply<T> {
  readonly status: number;
  readonly body: T;
  /** The Set-Cookie headers of the response. */
  readonly setCookies: readonly string[];
}

export class CookieJar {
  readonly #cookies = new Map<string, string>();

  /** The value of a cookie as the browser holds it (still encoded), if any. */
  cookie(name: string): string | undefined {
    return this.#cookies.get(name);
  }

  /** Puts a cookie in the jar, as a browser that was given it would hold it (encoded). */
  setCookie(name: string, value: string): void {
    this.#cookies.set(name, value);
  }

  async request<T>(method: 'GET' | 'POST', url: string): Promise<JarReply<T>> {
    const cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, {
      method,
      headers: cookie === '' ? {} : { cookie },
      redirect: 'manual',
    });
    const setCookies = response.headers.getSetCookie();
    for (const header of setCookies) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expires = attributes.map((a) => a.trim()).find((a) => /^expires=/i.test(a));
      const maxAge = attributes.map((a) => a.trim()).find((a) => /^max-age=/i.test(a));
      const gone =
        value === '' ||
        (maxAge !== undefined && Number(maxAge.slice(8)) <= 0) ||
        (expires !== undefined && new Date(expires.slice(8)).getTime() <= Date.now());
      if (gone) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
    const text = await response.text();
    let body: T;
    try {
      body = JSON.parse(text) as T;
    } catch {
      throw new Error(`${method} ${url} answered ${response.status}, not JSON: ${text}`);
    }
    return { status: response.status, body, setCookies };
  }

  get<T>(url: string): Promise<JarReply<T>> {
    return this.request<T>('GET', url);
  }

  post<T>(url: string): Promise<JarReply<T>> {
    return this.request<T>('POST', url);
  }
}
