/**
 * Swagger UI at /docs in a real headless Chromium: a member signs in through the "Authorize" dialog (HTTP Basic)
 * and reads their project through "Try it out" / "Execute"; the page must show the real answer (200 and the
 * project as JSON), sent with the credentials typed into the dialog.
 *
 * Every step waits on what the page shows (an element appearing, a button turning into another), never on time.
 * The selectors are Swagger UI's own class names and ids (swagger-ui-dist 5.x, as served by @nestjs/swagger):
 * an operation's block is `#operations-<tag>-<operationId>`.
 */
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'puppeteer-core';
import { describeWithChromium, launchChromium } from '../utils/browser-env';
import { ADMIN, ALICE, startTestApp, TestApp } from '../utils/test-app';

const OPERATION = '#operations-projects-getProject';

function basic(user: { username: string; password: string }): string {
  return 'Basic ' + Buffer.from(`${user.username}:${user.password}`).toString('base64');
}

/** The text of the first element `selector` matches, trimmed. */
async function textOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => (el.textContent ?? '').trim());
}

describeWithChromium('Swagger UI at /docs, in a browser', (chromium) => {
  let t: TestApp | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let baseUrl: string;
  /** uncaught errors of the page's scripts: a broken Swagger UI shows up here first */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    await t.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    await t.http().post('/v1/projects').set('Authorization', basic(ADMIN)).send({ name: 'proj1' }).expect(201);
    browser = await launchChromium(chromium);
    page = await browser.newPage();
    // well under jest's 60 s, so that a step that never comes fails with the selector it waited for
    page.setDefaultTimeout(20000);
    page.on('pageerror', (e) => pageErrors.push(String(e)));
  });

  afterAll(async () => {
    // both, even when one of them fails
    const closing = await Promise.allSettled([browser?.close(), t?.close()]);
    for (const c of closing) if (c.status === 'rejected') throw c.reason;
  });

  it('signs in through "Authorize" and runs GET /v1/projects/{project} through "Try it out"', async () => {
    await page.goto(`${baseUrl}/docs`, { waitUntil: 'domcontentloaded' });
    // the operations are drawn once the UI has loaded the document
    await page.waitForSelector(OPERATION);

    // the "Authorize" dialog: HTTP Basic, one scheme (`basic`)
    await page.locator('.auth-wrapper .btn.authorize.unlocked').click();
    await page.locator('.dialog-ux .auth-container #auth-basic-username').fill(ALICE.username);
    await page.locator('.dialog-ux .auth-container #auth-basic-password').fill(ALICE.password);
    await page.locator('.dialog-ux .auth-container .btn.modal-btn.auth.authorize').click();
    // once applied, the dialog shows the user and offers to log out instead
    await page.waitForSelector('.dialog-ux .auth-container button[aria-label="Remove authorization"]');
    expect(await textOf(page, '.dialog-ux .auth-container h6')).toBe('Authorized');
    expect(await textOf(page, '.dialog-ux .auth-container label[for="auth-basic-username"] + code')).toBe(
      ALICE.username,
    );
    await page.locator('.dialog-ux .auth-container .btn.modal-btn.auth.btn-done').click();
    await page.waitForSelector('.dialog-ux', { hidden: true });
    await page.waitForSelector('.auth-wrapper .btn.authorize.locked');

    // open the operation, "Try it out", fill in the project, "Execute"
    await page.locator(`${OPERATION} .opblock-summary-control`).click();
    await page.locator(`${OPERATION} .try-out__btn`).click();
    await page.waitForSelector(`${OPERATION} .try-out__btn.cancel`);
    const project = `${OPERATION} tr[data-param-name="project"][data-param-in="path"] input`;
    // the field starts with the document's example (proj1 too): type over it as a user would, then Enter, on
    // which the field hands its value to Swagger UI at once (otherwise after a pause in typing)
    const field = (await page.waitForSelector(project))!;
    await field.focus();
    await field.evaluate((input) => input.select());
    await page.keyboard.type('proj1');
    await page
      .locator(project)
      .filter((input) => input.value === 'proj1')
      .wait();
    await field.press('Enter');
    await page.locator(`${OPERATION} .btn.execute`).click();

    // the live response: its status cell and its body (highlighted JSON)
    const live = `${OPERATION} .live-responses-table`;
    await page.waitForSelector(`${live} tbody .response-col_status`);
    expect(await textOf(page, `${OPERATION} .request-url .microlight`)).toBe(`${baseUrl}/v1/projects/proj1`);
    expect(await textOf(page, `${OPERATION} .curl-command .curl`)).toContain(`Authorization: ${basic(ALICE)}`);
    expect(await textOf(page, `${live} tbody .response-col_status`)).toBe('200');
    const body = `${live} tbody .response-col_description .highlight-code .microlight`;
    await page.waitForSelector(body);
    expect(JSON.parse(await textOf(page, body))).toEqual({ id: expect.any(Number), name: 'proj1' });
    expect(pageErrors).toEqual([]);
  });

  it('shows a refused password as the 401 and its error body, not as a login prompt of the browser', async () => {
    await page.locator('.auth-wrapper .btn.authorize.locked').click();
    await page.locator('.dialog-ux .auth-container button[aria-label="Remove authorization"]').click();
    await page.locator('.dialog-ux .auth-container #auth-basic-username').fill(ALICE.username);
    await page.locator('.dialog-ux .auth-container #auth-basic-password').fill('not-her-password');
    await page.locator('.dialog-ux .auth-container .btn.modal-btn.auth.authorize').click();
    await page.locator('.dialog-ux .auth-container .btn.modal-btn.auth.btn-done').click();
    await page.waitForSelector('.dialog-ux', { hidden: true });
    await page.locator(`${OPERATION} .btn.execute`).click();
    const live = `${OPERATION} .live-responses-table`;
    await page
      .locator(`${live} tbody .response-col_status`)
      .filter((cell) => (cell.textContent ?? '').trim() === '401')
      .wait();
    const body = `${live} tbody .response-col_description .highlight-code .microlight`;
    await page.waitForSelector(body);
    expect(JSON.parse(await textOf(page, body))).toMatchObject({ code: 'HIL_AUTHENTICATION_FAILED' });
    expect(pageErrors).toEqual([]);
  });
});
