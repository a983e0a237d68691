import { expect, test, type Page } from '@playwright/test';
import {
  ADMIN,
  ADMIN2,
  AGENT_XIAOLI,
  AGENT_XIAOTONG,
  BASE_URL,
  DEMO_PASSWORD_AGENT,
  alertIn,
  gotoSettled,
  loginAs,
  logout,
  newPage,
  pathIs,
  releaseUsedLogins,
  screenshot,
  submitLogin,
  withNewPage,
} from './helpers';

// SPEC §5 / manual §三: 账号新增 (auto-assigned 工号, at most 2), 编辑, 剔除登录, 操作日志,
// and tenants that never see each other.

test.afterEach(releaseUsedLogins);

/** Calls a server function as the page's login; returns status and parsed body. */
/** A server function called as the app's own page does: from the app's origin (the server
 * refuses a request carrying the login cookie without Origin or Referer as cross-site). */
async function serverFn(page: Page, name: string, form: Record<string, string>) {
  const res = await page.request.post(`/api/${name}`, { form, headers: { Origin: BASE_URL } });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status(), body, text };
}

test('账号新增: the second supplier adds its second agent, who logs in; a third is refused', async ({
  page,
  browser,
}) => {
  await loginAs(page, ADMIN2, '/admin');
  await expect(page.getByRole('heading', { name: '账号新增' })).toBeVisible();
  const table = page.locator('table.data-table');
  await expect(table).toContainText('茶社客服');
  await expect(table).toContainText('kf201');

  // Name is required and bounded.
  await page.getByRole('button', { name: '新增', exact: true }).click();
  let dialog = page.getByRole('dialog', { name: '新增客服账号' });
  await dialog.getByRole('button', { name: '确定' }).click();
  await expect(alertIn(dialog)).toContainText('请输入客服姓名');

  await dialog.getByLabel('用户名称').fill('茶社客服二号');
  await dialog.getByRole('button', { name: '确定' }).click();
  const created = page.getByRole('dialog', { name: '客服账号已创建' });
  await expect(created).toBeVisible();
  const login = (await created.getByTestId('new-login').innerText()).trim();
  const password = (await created.getByTestId('new-password').innerText()).trim();
  expect(login).toBe('kf202');
  expect(password.length).toBeGreaterThanOrEqual(8);
  await screenshot(page, 'admin-agent-created');
  await created.getByRole('button', { name: '确定' }).click();
  await expect(table).toContainText('茶社客服二号');

  // The new agent logs in with what was shown.
  await withNewPage(browser, async (agent) => {
    await loginAs(agent.page, { login, password }, '/agent');
    await expect(agent.page.locator('.account')).toContainText('茶社客服二号');
    await logout(agent.page);
  });

  // A third agent is refused, with the reason.
  await page.getByRole('button', { name: '新增', exact: true }).click();
  dialog = page.getByRole('dialog', { name: '新增客服账号' });
  await dialog.getByLabel('用户名称').fill('茶社客服三号');
  await dialog.getByRole('button', { name: '确定' }).click();
  await expect(alertIn(dialog)).toContainText('最多只能新增 2 个');
  await dialog.getByRole('button', { name: '取消' }).click();
  await expect(page.locator('table.data-table tbody tr')).toHaveCount(2);
  await screenshot(page, 'admin-accounts');
  await logout(page);
});

test('剔除登录: the kicked agent’s open workbench returns to the login page at once and can log in again', async ({
  page,
  browser,
}) => {
  await withNewPage(browser, async (agent) => {
    await loginAs(agent.page, AGENT_XIAOTONG, '/agent');

    await loginAs(page, ADMIN, '/admin');
    await page.getByRole('link', { name: '剔除登录' }).click();
    await expect(page).toHaveURL(pathIs('/admin/kick'));
    await page.getByLabel('用户名称').fill('客服小童');
    await page.getByRole('button', { name: '搜索' }).click();
    const row = page.locator('tbody tr', { hasText: 'kf101' });
    await expect(row).toContainText('已登录');
    await expect(row).toContainText('127.0.0.1');
    await expect(page.locator('tbody tr')).toHaveCount(1);
    await screenshot(page, 'admin-kick');

    await row.getByRole('button', { name: '剔除登录' }).click();
    const confirm = page.getByRole('dialog', { name: '剔除登录' });
    await expect(confirm).toContainText('客服小童');
    await confirm.getByRole('button', { name: '确定' }).click();
    await expect(confirm).toBeHidden();
    await expect(row).toContainText('未登录');
    // 已剔除… is a toast: it says so once the server has, then goes away by itself.
    const kicked = page.getByRole('status').filter({ hasText: '已剔除' });
    await expect(kicked).toContainText('客服小童');
    await expect(kicked).toBeHidden({ timeout: 10_000 });

    // Within a second or so the workbench is back on the login page, told why.
    await expect(agent.page).toHaveURL(/\/login\?reason=kicked/, { timeout: 3_000 });
    await expect(agent.page.locator('.notice')).toContainText('剔除');

    // And the account can log in again.
    await submitLogin(agent.page, AGENT_XIAOTONG.login, AGENT_XIAOTONG.password);
    await expect(agent.page).toHaveURL(pathIs('/agent'));
    await logout(agent.page);

    // The kick is in the audit log, below the agent's new 登录 (logins are audited too).
    await page.getByRole('link', { name: '操作日志' }).click();
    const kick = page.locator('table.data-table tbody tr').filter({ hasText: '剔除登录' }).first();
    await expect(kick).toContainText('客服小童');
    await screenshot(page, 'admin-audit');
    await logout(page);
  });
});

test('编辑: rename and new password end the agent’s login; weak password refused; old password stops working', async ({
  page,
  browser,
}) => {
  await withNewPage(browser, async (agent) => {
    const newPassword = 'Xiaoli#2026new';
    await loginAs(agent.page, AGENT_XIAOLI, '/agent');
    await loginAs(page, ADMIN, '/admin');

    const row = page.locator('tbody tr', { hasText: 'kf102' });
    await row.getByRole('button', { name: '编辑' }).click();
    let dialog = page.getByRole('dialog', { name: '编辑用户' });
    await dialog.getByLabel('新密码').fill('abc');
    await dialog.getByRole('button', { name: '确定' }).click();
    await expect(alertIn(dialog)).toContainText('密码');
    await expect(agent.page).toHaveURL(pathIs('/agent')); // nothing changed

    await dialog.getByLabel('客服名称').fill('客服小李（新）');
    await dialog.getByLabel('新密码').fill(newPassword);
    await dialog.getByRole('button', { name: '确定' }).click();
    await expect(dialog).toBeHidden();
    const saved = page.getByRole('status').filter({ hasText: '账号信息已保存' });
    await expect(saved).toBeVisible();
    await expect(row).toContainText('客服小李（新）');

    await expect(agent.page).toHaveURL(/\/login\?reason=password_reset/, { timeout: 3_000 });
    await submitLogin(agent.page, AGENT_XIAOLI.login, AGENT_XIAOLI.password);
    await expect(alertIn(agent.page)).toContainText('账号或密码错误');
    await submitLogin(agent.page, AGENT_XIAOLI.login, newPassword);
    await expect(agent.page).toHaveURL(pathIs('/agent'));
    await expect(agent.page.locator('.account')).toContainText('客服小李（新）');
    await logout(agent.page);
    // The toast went away by itself meanwhile (errors stay; toasts do not).
    await expect(saved).toBeHidden({ timeout: 10_000 });

    // Put the demo account back.
    await row.getByRole('button', { name: '编辑' }).click();
    dialog = page.getByRole('dialog', { name: '编辑用户' });
    await dialog.getByLabel('客服名称').fill('客服小李');
    await dialog.getByLabel('新密码').fill(DEMO_PASSWORD_AGENT);
    await dialog.getByRole('button', { name: '确定' }).click();
    await expect(dialog).toBeHidden();
    await logout(page);
  });
});

test('tenants: an admin cannot see or kick another supplier’s accounts; agents cannot use admin functions', async ({
  page,
  browser,
}) => {
  await withNewPage(browser, async (agent) => {
    await loginAs(agent.page, AGENT_XIAOTONG, '/agent');
    // An agent is refused by every admin function and sent away from the admin pages.
    const asAgent = await serverFn(agent.page, 'admin/agents', {});
    expect(asAgent.status).toBeGreaterThanOrEqual(400);
    expect(asAgent.text).not.toContain('kf101');
    await gotoSettled(agent.page, '/admin/kick');
    await expect(agent.page).toHaveURL(pathIs('/agent'));

    await loginAs(page, ADMIN, '/admin');
    const own = await serverFn(page, 'admin/search_logins', { query: 'kf101' });
    expect(own.status).toBe(200);
    const kf101 = (own.body as Array<{ account_id: number; login: string }>).find((r) => r.login === 'kf101');
    expect(kf101).toBeDefined();
    await logout(page);

    await loginAs(page, ADMIN2, '/admin');
    const foreign = await serverFn(page, 'admin/search_logins', { query: 'kf1' });
    expect(foreign.status).toBe(200);
    expect(foreign.text).not.toContain('kf101');
    expect(foreign.text).not.toContain('demo_admin"');
    await gotoSettled(page, '/admin/kick');
    await page.getByLabel('用户名称').fill('客服小童');
    await page.getByRole('button', { name: '搜索' }).click();
    await expect(page.locator('tbody')).toContainText('没有找到匹配的账号');

    const kick = await serverFn(page, 'admin/kick_login', { account_id: String(kf101!.account_id) });
    expect(kick.status).toBeGreaterThanOrEqual(400);
    const edit = await serverFn(page, 'admin/edit_agent', {
      account_id: String(kf101!.account_id),
      display_name: '被篡改',
      new_password: 'Hacked#123456',
    });
    expect(edit.status).toBeGreaterThanOrEqual(400);

    // kf101 is still logged in and unchanged.
    await agent.page.reload();
    await expect(agent.page).toHaveURL(pathIs('/agent'));
    await expect(agent.page.locator('.account')).toContainText('客服小童');
    await logout(page);
    await logout(agent.page);
  });
});

/** Calls a server function as the page's login from this site's own origin (as the page itself
 * would), so that only the server function's own checks can refuse it. */
async function serverFnFromSite(page: Page, name: string, form: Record<string, string>) {
  const res = await page.request.post(`/api/${name}`, { form, headers: { Origin: BASE_URL, Referer: `${BASE_URL}/admin` } });
  return { status: res.status(), text: await res.text() };
}

test('停用/启用: disabling kf102 ends its open workbench and refuses its login; another supplier cannot touch it; enabling lets it in', async ({
  page,
  browser,
}) => {
  const agent = await newPage(browser);
  let accountId: string | undefined;
  let disabled = false;
  try {
    await loginAs(agent.page, AGENT_XIAOLI, '/agent');
    await loginAs(page, ADMIN, '/admin');
    const agents = await serverFnFromSite(page, 'admin/agents', {});
    expect(agents.status).toBe(200);
    const kf102 = (JSON.parse(agents.text) as Array<{ id: number; login: string }>).find((r) => r.login === 'kf102');
    expect(kf102).toBeDefined();
    accountId = String(kf102!.id);

    const row = page.locator('tbody tr', { hasText: 'kf102' });
    await expect(row).toContainText('已登录');
    await row.getByRole('button', { name: '停用', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: '停用账号' });
    await expect(confirm).toContainText('客服小李');
    await confirm.getByRole('button', { name: '确定' }).click();
    disabled = true;
    await expect(confirm).toBeHidden();
    await expect(row).toContainText('已停用');
    await expect(row.getByRole('button', { name: '启用', exact: true })).toBeVisible();
    await screenshot(page, 'admin-agent-disabled');

    // The open workbench is sent to the login page at once, told why …
    await expect(agent.page).toHaveURL(/\/login\?reason=disabled/, { timeout: 3_000 });
    await expect(agent.page.locator('.notice')).toContainText('账号已被客服管理员停用');
    // … and the right password is refused with the reason.
    await submitLogin(agent.page, AGENT_XIAOLI.login, AGENT_XIAOLI.password);
    await expect(alertIn(agent.page)).toHaveText('账号已停用，请联系客服管理员');
    await expect(agent.page).toHaveURL(pathIs('/login'));

    // The other supplier's admin can neither enable nor disable it.
    const other = await newPage(browser);
    try {
      await loginAs(other.page, ADMIN2, '/admin');
      for (const value of ['false', 'true']) {
        const res = await serverFnFromSite(other.page, 'admin/set_agent_disabled', {
          account_id: accountId,
          disabled: value,
        });
        expect(res.status, res.text).toBeGreaterThanOrEqual(400);
        expect(res.text).toContain('不存在');
      }
      await logout(other.page);
    } finally {
      await other.context.close();
    }
    await page.reload();
    await expect(row).toContainText('已停用');

    // 启用: it logs in again.
    await row.getByRole('button', { name: '启用', exact: true }).click();
    const enable = page.getByRole('dialog', { name: '启用账号' });
    await enable.getByRole('button', { name: '确定' }).click();
    await expect(enable).toBeHidden();
    disabled = false;
    await expect(row).not.toContainText('已停用');
    await expect(row.getByRole('button', { name: '停用', exact: true })).toBeVisible();
    await submitLogin(agent.page, AGENT_XIAOLI.login, AGENT_XIAOLI.password);
    await expect(agent.page).toHaveURL(pathIs('/agent'));
    await logout(agent.page);

    // Both are in the audit log, with the refused login.
    await page.getByRole('link', { name: '操作日志' }).click();
    const log = page.locator('table.data-table tbody');
    await expect(log).toContainText('停用账号');
    await expect(log).toContainText('启用账号');
    await expect(log).toContainText('账号已停用');
    await logout(page);
  } finally {
    if (disabled && accountId) {
      // Never leave the demo agent disabled for later tests and runs.
      const res = await serverFnFromSite(page, 'admin/set_agent_disabled', { account_id: accountId, disabled: 'false' }).catch(
        (err) => ({ status: 0, text: String(err) }),
      );
      if (res.status !== 200) {
        console.warn(`could not enable kf102 again: ${res.status} ${res.text}`);
      }
    }
    await agent.context.close();
  }
});

test('剔除登录 of one’s own login shows only the refusal, never 已剔除', async ({ page }) => {
  await loginAs(page, ADMIN, '/admin');
  await gotoSettled(page, '/admin/kick');
  await page.getByLabel('用户名称').fill('demo_admin');
  await page.getByRole('button', { name: '搜索' }).click();
  const own = page.locator('table.data-table tbody tr', { hasText: 'demo_admin' });
  await expect(page.locator('table.data-table tbody tr')).toHaveCount(1);
  await expect(own).toContainText('已登录');

  await own.getByRole('button', { name: '剔除登录' }).click();
  const confirm = page.getByRole('dialog', { name: '剔除登录' });
  await confirm.getByRole('button', { name: '确定' }).click();
  // The server's answer is in: the refusal, and no success message beside it.
  await expect(alertIn(confirm)).toContainText('不能剔除自己的登录');
  await expect(page.getByText(/已剔除/)).toHaveCount(0);
  await screenshot(page, 'admin-kick-self-refused');
  await confirm.getByRole('button', { name: '取消' }).click();
  await expect(confirm).toBeHidden();
  await expect(page.getByText(/已剔除/)).toHaveCount(0);
  await expect(own).toContainText('已登录');
  await logout(page);
});

test('账号新增: 登录状态 follows an agent logging in and out while the page stays open', async ({ page, browser }) => {
  await loginAs(page, ADMIN, '/admin');
  await expect(page.getByRole('heading', { name: '账号新增' })).toBeVisible();
  const status = page.locator('table.data-table tbody tr', { hasText: 'kf101' }).locator('td').nth(3);
  await expect(status).toHaveText('未登录');
  // Marks this document: a reload or a navigation would lose the mark.
  await page.evaluate(() => {
    (window as unknown as { stayed?: boolean }).stayed = true;
  });

  await withNewPage(browser, async (agent) => {
    await loginAs(agent.page, AGENT_XIAOTONG, '/agent');
    // One look every 5 s: the change shows within two.
    await expect(status).toHaveText('已登录', { timeout: 12_000 });
    await screenshot(page, 'admin-accounts-live');
    await logout(agent.page);
    await expect(status).toHaveText('未登录', { timeout: 12_000 });
  });
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  await logout(page);
});
