import * as fs from 'node:fs';
import * as path from 'node:path';
import ExcelJS from 'exceljs';
import { expect, test } from '@playwright/test';
import { ADMIN, REPO_ROOT, gotoSettled, loginAs, logout, releaseUsedLogins, screenshot } from './helpers';

// 订单导入 with many bad rows: the first 200 are listed (row, column, reason) and a note says how
// many more there are; nothing is imported.

test.afterEach(() => {
  releaseUsedLogins();
});

test('订单导入: 250 bad rows list the first 200 and say 另有 50 行错误未列出', async ({ page }) => {
  await loginAs(page, ADMIN, '/admin');
  await gotoSettled(page, '/admin/orders-import');
  const download = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: '下载导入模板' }).click(),
  ]).then(([d]) => d);
  const dir = path.join(REPO_ROOT, 'end2end', 'test-results');
  fs.mkdirSync(dir, { recursive: true });
  const templatePath = path.join(dir, 'import-template.xlsx');
  await download.saveAs(templatePath);

  // The template's example order (rows 2–3) stays; rows 4–253 are orders with a made-up status.
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(templatePath);
  const sheet = book.worksheets[0];
  const header = Array.from(sheet.getRow(1).values as unknown[], (v) => String(v ?? ''));
  const col = (name: string) => header.findIndex((h) => h.startsWith(name));
  const example = sheet.getRow(2);
  const stamp = Date.now();
  for (let i = 0; i < 250; i++) {
    const row = sheet.getRow(4 + i);
    example.eachCell({ includeEmpty: true }, (cell, n) => {
      row.getCell(n).value = cell.value;
    });
    row.getCell(col('订单编号')).value = `E2E-MANY-${stamp}-${i}`;
    row.getCell(col('订单状态')).value = '不存在的状态';
    row.commit();
  }
  const badPath = path.join(dir, 'import-many-bad.xlsx');
  await book.xlsx.writeFile(badPath);

  await page.locator('#import-file').setInputFiles(badPath);
  await page.getByRole('button', { name: '导入', exact: true }).click();
  const result = page.locator('.import-errors');
  await expect(result.getByRole('alert')).toContainText('超过 200 行有错误，未导入任何订单');
  const rows = result.locator('.import-error-table tbody tr');
  await expect(rows).toHaveCount(200);
  await expect(rows.first().locator('td')).toHaveText(['4', '订单状态', /订单状态须为以下之一/]);
  await expect(rows.last().locator('td').first()).toHaveText('203');
  const more = result.locator('.import-errors-more');
  await expect(more).toHaveText('另有 50 行错误未列出');
  await screenshot(page, 'orders-import-errors-capped');
  await more.scrollIntoViewIfNeeded();
  await screenshot(page, 'orders-import-errors-capped-note');
  await logout(page);
});
