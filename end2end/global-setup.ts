/**
 * `cargo leptos end-to-end` starts the server and the tests at the same moment, without
 * waiting for the server to listen; the first start also runs the migrations and seeds the
 * demo data. Wait here until the login page answers 200.
 */
const LOGIN_URL = `${process.env.KEFU_E2E_BASE_URL ?? 'http://127.0.0.1:3000'}/login`;
const WAIT_MS = 5 * 60_000;
const POLL_MS = 1_000;

export default async function waitForServer(): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(LOGIN_URL, { signal: AbortSignal.timeout(5_000) });
      if (res.status === 200) {
        return;
      }
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  throw new Error(`server did not answer 200 at ${LOGIN_URL} within ${WAIT_MS / 1000} s (last: ${last})`);
}
