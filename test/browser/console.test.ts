import { existsSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../local/runtime.ts';
import { connectDevice as connectSimulated } from '../../tools/simulated-device.ts';
import { apiClient, ensureProduct, startTestRuntime, waitForQueueIdle, waitForStatus } from '../support/runtime.ts';

/**
 * The console in a real Chromium against the local runtime, with simulated devices: the IoTDA command flow
 * end to end and the cases an operator meets, at a desktop and a phone width (CONTRACT §8).
 */
const CHROMIUM = process.env.DOWNLINK_CHROMIUM ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(
    `console browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium, or set DOWNLINK_CHROMIUM)`,
  );

const valve = JSON.parse(readFileSync(new URL('../../examples/water-valve.product.json', import.meta.url), 'utf8'));
const WIDTHS = [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 844 } },
];

let runtime: Runtime;
let browser: Browser;
let nextNode = 0;

beforeAll(async () => {
  if (!hasChromium) return;
  // A silent device's command comes back quickly: the explanation is what is tested, not the 20 s.
  runtime = await startTestRuntime({ commandTimeoutMs: 1500 });
  await ensureProduct(runtime, 'water', valve.service_capabilities);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);
afterAll(() => browser?.close());

const addDevice = async (secret = 'secret-1234') => {
  const res = await apiClient(runtime).addDevice({
    node_id: `ui${process.pid}n${nextNode++}`,
    product_id: 'water',
    device_name: 'Garden valve',
    auth_info: { secret },
  });
  expect(res.status).toBe(201);
  return { deviceId: res.body.device_id as string, secret };
};

const online = async (deviceId: string, secret: string, reply: 'echo' | 'silent' = 'echo') => {
  const device = await connectSimulated({
    deviceId,
    secret,
    port: Number(new URL(runtime.mqttUrl).port),
    root: runtime.topicRoot,
    reply,
  });
  await waitForStatus(runtime, deviceId, 'ONLINE');
  await waitForQueueIdle(runtime, 'presence');
  return device;
};

const newPage = async (viewport: { width: number; height: number }) => {
  const page = await browser.newPage({ viewport });
  // A step that cannot happen fails in seconds, naming the step, well within the test's own timeout.
  page.setDefaultTimeout(10_000);
  return page;
};

/** A signed-in page (the sign-in form itself is tested once, below). */
const signedIn = async (viewport: { width: number; height: number }, hash = '#/devices') => {
  const page = await newPage(viewport);
  await page.goto(`${runtime.httpUrl}/console/${hash}`);
  await page.evaluate(
    ([token, project]) => sessionStorage.setItem('downlink.session', JSON.stringify({ token, project })),
    [runtime.token, runtime.project],
  );
  await page.reload();
  return page;
};

const pick = async (page: Page, label: string, option: string) => {
  await page.getByRole('combobox', { name: label, exact: true }).click();
  await page.getByRole('option', { name: option, exact: true }).click();
};

/** A text input by its exact accessible name (a required one's asterisk is not part of it). */
const textbox = (scope: Page | Locator, name: string) => scope.getByRole('textbox', { name, exact: true });
/** One item of a list in the product form: a fieldset named by its legend (`Service 1`, `Parameter 2`). */
const item = (scope: Page | Locator, name: string) => scope.getByRole('group', { name, exact: true });

/** The error text an input is described by (Mantine links it with aria-describedby). */
const errorOf = async (page: Page, input: Locator) => {
  const ids = ((await input.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
  return ids.length ? (await page.locator(ids.map((id) => `[id="${id}"]`).join(', ')).allInnerTexts()).join(' ') : '';
};

/** Presses Tab until `target` has the focus, the way a keyboard user gets there. */
const tabTo = async (page: Page, target: Locator, max = 150) => {
  await target.waitFor();
  for (let i = 0; i < max; i++) {
    if (await target.evaluate((el) => el.matches(':focus'))) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`${max} presses of Tab did not reach ${target}`);
};

/** Picks an option of a select by keyboard: Tab to it, arrow down to the option, Enter. */
const chooseByKeys = async (page: Page, combobox: Locator, option: string) => {
  await tabTo(page, combobox);
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('ArrowDown');
    const active = await combobox.getAttribute('aria-activedescendant');
    if (active && (await page.locator(`[id="${active}"]`).innerText()) === option) break;
  }
  await page.keyboard.press('Enter');
  expect(await combobox.inputValue()).toBe(option);
};

/**
 * The form controls on the page (dialogs included) that have no accessible name, from the accessibility
 * tree Playwright reads, where a named one is `- textbox "Name"` and a nameless one `- textbox` or `- textbox: value`.
 */
const unnamedControls = async (page: Page) =>
  (await page.locator('body').ariaSnapshot())
    .split('\n')
    .filter((line) =>
      /^\s*- (textbox|combobox|checkbox|switch|radio|spinbutton|slider|searchbox|listbox|button)(\s*\[[^\]]*\])*\s*(:.*)?$/.test(
        line,
      ),
    );

const openCommandDialog = async (page: Page) => {
  await page.getByRole('tab', { name: 'Commands' }).click();
  await page.getByRole('button', { name: 'Deliver command' }).click();
  const dialog = page.getByRole('dialog', { name: 'Deliver command' });
  await pick(page, 'Service', 'Valve');
  await pick(page, 'Command', 'open');
  return dialog;
};

describe.skipIf(!hasChromium).each(WIDTHS)('console at $name width', ({ name, viewport }) => {
  it('signs in, lists devices, opens one and delivers a command from its model, showing the answer', async () => {
    const { deviceId, secret } = await addDevice();
    const device = await online(deviceId, secret);
    const page = await newPage(viewport);
    await page.goto(`${runtime.httpUrl}/console/`);

    await page.getByLabel('API token').fill('dlk_not-a-token');
    await page.getByLabel('Project').fill(runtime.project);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toContain('The token is unknown or revoked');

    await page.getByLabel('API token').fill(runtime.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const row = page.locator(`tr[data-device="${deviceId}"]`);
    await row.waitFor();
    expect(await row.innerText()).toContain('ONLINE');
    await row.getByRole('link').click();

    const dialog = await openCommandDialog(page);
    await dialog.getByLabel('level').fill('42');
    await pick(page, 'mode', 'SLOW');
    await dialog.getByRole('button', { name: 'Send' }).click();
    const answer = dialog.getByTestId('device-response');
    await answer.waitFor();
    expect(JSON.parse(await answer.getByLabel('Device response').innerText())).toEqual({
      result_code: 0,
      response_name: 'open',
      paras: { level: 42, mode: 'SLOW' },
    });
    expect(await answer.innerText()).toMatch(/answered in \d+ ms/);

    // The history keeps it; one click sends it again.
    await page.keyboard.press('Escape');
    // The dialog fades out: the screenshot waits until it has gone.
    await dialog.waitFor({ state: 'detached' });
    const history = page.getByRole('table', { name: 'Command history' });
    await history.waitFor();
    if (name === 'desktop') await page.screenshot({ path: 'docs/console-command.png' });
    expect(await history.innerText()).toContain('Valve / open');
    const resent = device.nextMessage((m) => m.topic.includes('/sys/commands/'));
    await history.getByRole('button', { name: 'Resend' }).first().click();
    expect(JSON.parse((await resent).payload.toString()).paras).toEqual({ level: 42, mode: 'SLOW' });
    await expect.poll(() => history.locator('tbody tr').count()).toBe(2);
    await device.close();
    await page.close();
  });

  it('refuses a parameter out of range in the form, sending nothing', async () => {
    const { deviceId, secret } = await addDevice();
    const device = await online(deviceId, secret);
    const got: string[] = [];
    device.onMessage((m) => got.push(m.topic));
    const page = await signedIn(viewport, `#/devices/${deviceId}`);
    const dialog = await openCommandDialog(page);
    await dialog.getByLabel('level').fill('300');
    await dialog.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => dialog.innerText()).toContain('level must be at most 100');
    // The value was not silently clamped, and nothing was sent.
    expect(await dialog.getByLabel('level').inputValue()).toBe('300');
    expect(await page.getByRole('table', { name: 'Command history' }).count()).toBe(0);
    expect(got).toEqual([]);
    await device.close();
    await page.close();
  });

  it('explains an offline device and a silent one in plain words', async () => {
    const offline = await addDevice();
    let page = await signedIn(viewport, `#/devices/${offline.deviceId}`);
    let dialog = await openCommandDialog(page);
    await dialog.getByLabel('level').fill('1');
    await dialog.getByRole('button', { name: 'Send' }).click();
    let alert = dialog.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toContain('The device is not online');
    expect(await alert.innerText()).toContain('IOTDA.014016');
    await page.close();

    const silent = await addDevice();
    const device = await online(silent.deviceId, silent.secret, 'silent');
    page = await signedIn(viewport, `#/devices/${silent.deviceId}`);
    dialog = await openCommandDialog(page);
    await dialog.getByLabel('level').fill('1');
    await dialog.getByRole('button', { name: 'Send' }).click();
    alert = dialog.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toContain('did not answer in time');
    expect(await alert.innerText()).toContain('IOTDA.014111');
    await device.close();
    await page.close();
  });

  it('shows a message to an offline device PENDING, then DELIVERED once the device connects, without a reload', async () => {
    const { deviceId, secret } = await addDevice();
    const page = await signedIn(viewport, `#/devices/${deviceId}`);
    await page.getByRole('tab', { name: 'Messages' }).click();
    await page.getByRole('button', { name: 'Send message' }).click();
    const dialog = page.getByRole('dialog', { name: 'Send message' });
    await dialog.getByLabel('Name').fill('config');
    await dialog.getByLabel('Message id').fill('ui-msg-1');
    await dialog.getByRole('textbox', { name: 'Message', exact: true }).fill('open at dawn');
    await dialog.getByRole('button', { name: 'Send' }).click();
    const row = page.locator('tr[data-message="ui-msg-1"]');
    await expect.poll(() => row.locator('[data-status]').getAttribute('data-status')).toBe('PENDING');

    const device = await online(deviceId, secret);
    await expect
      .poll(() => row.locator('[data-status]').getAttribute('data-status'), { timeout: 20_000 })
      .toBe('DELIVERED');
    await device.close();
    await page.close();
  });

  it('follows a batch task to PartialSuccess, then retries it', async () => {
    const { deviceId, secret } = await addDevice();
    const device = await online(deviceId, secret);
    const missing = `missing${process.pid}${name}`;
    const page = await signedIn(viewport, '#/batchtasks/new');
    await page.getByLabel('Task name').fill(`open_all_${name}`);
    await pick(page, 'Product', 'water (water)');
    await pick(page, 'Service', 'Valve');
    await pick(page, 'Command', 'open');
    await page.getByLabel('level').fill('7');
    await page.getByRole('combobox', { name: 'Devices', exact: true }).click();
    await page.getByRole('option', { name: new RegExp(deviceId) }).click();
    await page.keyboard.press('Escape');
    await page.getByLabel('Device ids').fill(missing);
    await page.getByRole('button', { name: 'Create task' }).click();

    const status = page.locator('h2 + [data-status]');
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 20_000 }).toBe('PartialSuccess');
    expect(await page.locator(`tr[data-target="${deviceId}"] [data-status]`).getAttribute('data-status')).toBe(
      'Success',
    );
    expect(await page.locator(`tr[data-target="${missing}"]`).innerText()).toContain('IOTDA.014000');
    if (name === 'desktop') await page.screenshot({ path: 'docs/console-batch-task.png', fullPage: true });

    await page.getByRole('button', { name: 'Retry failed' }).click();
    await expect.poll(() => page.getByRole('status').innerText()).toContain('Retrying the task');
    // The retry ran the failed target again, and it failed again the same way.
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 20_000 }).toBe('PartialSuccess');
    await device.close();
    await page.close();
  });

  it('shows the server’s refusal of a product next to the field it names', async () => {
    const page = await signedIn(viewport, '#/products/new');
    await page.getByLabel('Name').fill('x'.repeat(65));
    await page.getByLabel('Device type').fill('Valve');
    await page.getByRole('button', { name: 'Create' }).click();
    const nameInput = page.getByRole('textbox', { name: 'Name' });
    await expect.poll(() => nameInput.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await nameInput.getAttribute('aria-describedby')) ?? '';
    const errorText = await page
      .locator(
        describedBy
          .split(' ')
          .map((id) => `[id="${id}"]`)
          .join(', '),
      )
      .allInnerTexts();
    expect(errorText.join(' ')).toContain('name');
    expect(errorText.join(' ')).toMatch(/at most 64|too big|<=64/i);
    await page.close();
  });

  it('creates a product in the form, shows a refusal by the field it names, and edits it', async () => {
    const productId = `form_${name}_${process.pid}`;
    const page = await signedIn(viewport, '#/products/new');
    await textbox(page, 'Product id').fill(productId);
    await textbox(page, 'Name').fill('Pump');
    await textbox(page, 'Device type').fill('Pump');
    await page.getByRole('button', { name: 'Add service' }).click();
    const service = item(page, 'Service 1');
    await textbox(service, 'Service id').fill('Pump');
    await textbox(service, 'Service type').fill('Motor');
    await service.getByRole('button', { name: 'Add property' }).click();
    const property = item(service, 'Property 1');
    await textbox(property, 'Property name').fill('speed');
    await textbox(property, 'Min').fill('0');
    await textbox(property, 'Max').fill('10');
    await service.getByRole('button', { name: 'Add command' }).click();
    const command = item(service, 'Command 1');
    await textbox(command, 'Command name').fill('run');
    await command.getByRole('button', { name: 'Add parameter' }).click();
    const para = item(command, 'Parameter 1');
    await textbox(para, 'Parameter name').fill('rpm');
    await textbox(para, 'Min').fill('100');
    await textbox(para, 'Max').fill('50');
    await para.getByRole('checkbox', { name: 'Required' }).check();
    await page.getByRole('button', { name: 'Create' }).click();

    // The model's own rule, checked before sending: shown by the field, which takes the focus.
    const paraMin = textbox(para, 'Min');
    await expect.poll(() => paraMin.getAttribute('aria-invalid')).toBe('true');
    expect(await errorOf(page, paraMin)).toContain('min must not be greater than max');
    expect(await paraMin.evaluate((el) => el.matches(':focus'))).toBe(true);
    await textbox(para, 'Max').fill('3000');

    // The JSON editor holds the same product; a step no store can keep passes the model's rules but not the
    // server, whose 400 is shown by the JSON, then by the step input when back in the form.
    await page.getByText('JSON', { exact: true }).click();
    const json = textbox(page, 'Product (JSON)');
    const body = JSON.parse(await json.inputValue());
    expect(body.service_capabilities[0].commands[0].paras).toEqual([
      { para_name: 'rpm', data_type: 'int', required: true, min: '100', max: '3000' },
    ]);
    body.service_capabilities[0].commands[0].paras[0].step = 1e-200;
    await json.fill(JSON.stringify(body, null, 2));
    await page.getByRole('button', { name: 'Create' }).click();
    await expect.poll(() => json.getAttribute('aria-invalid')).toBe('true');
    expect(await errorOf(page, json)).toContain(
      'service_capabilities.0.commands.0.paras.0.step is a number closer to 0',
    );
    await page.getByText('Form', { exact: true }).click();
    const step = textbox(para, 'Step');
    expect(await step.getAttribute('aria-invalid')).toBe('true');
    expect(await errorOf(page, step)).toContain('step is a number closer to 0 than 1e-130');
    await step.fill('');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.waitForURL(new RegExp(`#/products/${productId}$`));

    const stored = async () =>
      (await apiClient(runtime).call('GET', `/v5/iot/${runtime.project}/products/${productId}`)).body;
    const model = [
      {
        service_id: 'Pump',
        service_type: 'Motor',
        properties: [{ property_name: 'speed', data_type: 'int', required: false, method: 'RW', min: '0', max: '10' }],
        commands: [
          {
            command_name: 'run',
            paras: [{ para_name: 'rpm', data_type: 'int', required: true, min: '100', max: '3000' }],
          },
        ],
      },
    ];
    expect((await stored()).service_capabilities).toEqual(model);
    if (name === 'desktop') {
      await page.getByRole('link', { name: 'Edit' }).click();
      await item(page, 'Service 1').waitFor();
      await page.screenshot({ path: 'docs/console-product-form.png', fullPage: true });
    } else await page.getByRole('link', { name: 'Edit' }).click();

    // Edited back: the form opens on the stored model; a property removed, a limit changed.
    await expect.poll(() => textbox(para, 'Max').inputValue()).toBe('3000');
    await textbox(para, 'Max').fill('2000');
    await service.getByRole('button', { name: 'Remove property 1' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.waitForURL(new RegExp(`#/products/${productId}$`));
    const { properties: _, ...withoutProperties } = model[0]!;
    expect((await stored()).service_capabilities).toEqual([
      {
        ...withoutProperties,
        commands: [{ command_name: 'run', paras: [{ ...model[0]!.commands[0]!.paras[0]!, max: '2000' }] }],
      },
    ]);
    await page.close();
  });

  it('does the command flow by keyboard alone', async () => {
    const { deviceId, secret } = await addDevice();
    const device = await online(deviceId, secret);
    const page = await newPage(viewport);
    await page.goto(`${runtime.httpUrl}/console/`);

    await tabTo(page, page.getByLabel('API token'));
    await page.keyboard.type(runtime.token);
    await tabTo(page, textbox(page, 'Project'));
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type(runtime.project);
    await page.keyboard.press('Enter');

    await tabTo(page, page.locator(`tr[data-device="${deviceId}"]`).getByRole('link'));
    await page.keyboard.press('Enter');
    // The tabs take the arrow keys.
    const tab = (name: string) => page.getByRole('tab', { name });
    await tabTo(page, tab('Commands'));
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => tab('Properties').getAttribute('aria-selected')).toBe('true');
    await page.keyboard.press('ArrowLeft');
    await expect.poll(() => tab('Commands').getAttribute('aria-selected')).toBe('true');
    await tabTo(page, page.getByRole('button', { name: 'Deliver command' }));
    await page.keyboard.press('Enter');

    const dialog = page.getByRole('dialog', { name: 'Deliver command' });
    await chooseByKeys(page, dialog.getByRole('combobox', { name: 'Service', exact: true }), 'Valve');
    await chooseByKeys(page, dialog.getByRole('combobox', { name: 'Command', exact: true }), 'open');
    await tabTo(page, textbox(dialog, 'level'));
    await page.keyboard.type('42');
    await chooseByKeys(page, dialog.getByRole('combobox', { name: 'mode', exact: true }), 'SLOW');
    await tabTo(page, dialog.getByRole('button', { name: 'Send' }));
    await page.keyboard.press('Space');
    const answer = dialog.getByTestId('device-response');
    await answer.waitFor();
    expect(JSON.parse(await answer.getByLabel('Device response').innerText())).toEqual({
      result_code: 0,
      response_name: 'open',
      paras: { level: 42, mode: 'SLOW' },
    });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await device.close();
    await page.close();
  });
});

// Many pages each: a minute for a loaded machine.
describe.skipIf(!hasChromium)('console accessibility', { timeout: 60_000 }, () => {
  const viewport = WIDTHS[0]!.viewport;
  const expectAllNamed = async (page: Page, where: string) =>
    expect(await unnamedControls(page), `unnamed controls on ${where}`).toEqual([]);

  it('names every form control of sign-in, devices and a device, dialogs included', async () => {
    const { deviceId } = await addDevice();
    let page = await newPage(viewport);
    await page.goto(`${runtime.httpUrl}/console/`);
    await page.getByLabel('API token').waitFor();
    await expectAllNamed(page, 'sign-in');
    await page.close();

    page = await signedIn(viewport, '#/devices');
    await page.locator(`tr[data-device="${deviceId}"]`).waitFor();
    await expectAllNamed(page, 'devices');
    await page.getByRole('button', { name: 'Add device' }).click();
    await page.getByRole('dialog', { name: 'Add device' }).waitFor();
    await expectAllNamed(page, 'add device');
    await page.keyboard.press('Escape');

    await page.goto(`${runtime.httpUrl}/console/#/devices/${deviceId}`);
    await openCommandDialog(page);
    await expectAllNamed(page, 'deliver command');
    await page.keyboard.press('Escape');
    await page.getByRole('tab', { name: 'Properties' }).click();
    await pick(page, 'Service', 'Valve');
    await expectAllNamed(page, 'properties');
    await page.getByRole('tab', { name: 'Messages' }).click();
    await page.getByRole('button', { name: 'Send message' }).click();
    await page.getByRole('dialog', { name: 'Send message' }).waitFor();
    await expectAllNamed(page, 'send message');
    await page.close();
  });

  it('names every form control of the products pages and the model form', async () => {
    const page = await signedIn(viewport, '#/products');
    await page.getByRole('table', { name: 'Products' }).waitFor();
    await expectAllNamed(page, 'products');
    await page.goto(`${runtime.httpUrl}/console/#/products/water`);
    await page.getByRole('link', { name: 'Edit' }).waitFor();
    await expectAllNamed(page, 'product');
    await page.goto(`${runtime.httpUrl}/console/#/products/water/edit`);
    // Every kind of list and input the form has: a property (int), an enum one, a response's parameter, an event.
    const service = item(page, 'Service 1');
    for (const list of ['property', 'event']) await service.getByRole('button', { name: `Add ${list}` }).click();
    await item(service, 'Command 1').getByRole('button', { name: 'Add response' }).click();
    await item(service, 'Response 1').getByRole('button', { name: 'Add parameter' }).click();
    await expectAllNamed(page, 'product form');
    await page.getByText('JSON', { exact: true }).click();
    await expectAllNamed(page, 'product JSON');
    await page.close();
  });

  it('names every form control of the batch task pages', async () => {
    const page = await signedIn(viewport, '#/batchtasks');
    await page.getByRole('link', { name: 'Create task' }).waitFor();
    await expectAllNamed(page, 'batch tasks');
    await page.goto(`${runtime.httpUrl}/console/#/batchtasks/new`);
    await pick(page, 'Product', 'water (water)');
    await pick(page, 'Service', 'Valve');
    await pick(page, 'Command', 'open');
    await page.getByRole('button', { name: 'Show task policy' }).click();
    await expectAllNamed(page, 'create batch task');

    const { deviceId } = await addDevice();
    const task = await apiClient(runtime).call('POST', `/v5/iot/${runtime.project}/batchtasks`, {
      task_name: 'a11y_notify',
      task_type: 'createMessages',
      targets: [deviceId],
      document: { message: { text: 'hello' } },
    });
    expect(task.status).toBe(201);
    await page.goto(`${runtime.httpUrl}/console/#/batchtasks/${task.body.task_id}`);
    await page.getByRole('table', { name: 'Sub-tasks' }).waitFor();
    await expectAllNamed(page, 'batch task');
    await page.close();
  });
});
