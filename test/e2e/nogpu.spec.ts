import { test, expect } from '@playwright/test';
import { fillSettings } from './helpers';

// Launch Chromium without WebGPU: no --enable-unsafe-webgpu, WebGPU and Vulkan features off.
test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      '--no-sandbox', '--disable-gpu', '--disable-features=WebGPU,Vulkan'],
  },
});

test('without a WebGPU adapter the app says it will train on WASM, and does (CPU when picked)', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('adapter')).toHaveAttribute('data-kind', 'none');
  await expect(page.getByTestId('cpu-notice')).toContainText('WebAssembly (WASM)');

  await page.getByRole('button', { name: 'Load demo study' }).click();
  await expect(page.getByTestId('job-table').locator('tbody tr[data-job]')).toHaveCount(9, { timeout: 60_000 });
  await page.getByLabel('Dose').selectOption('1000');
  await page.getByLabel('View').selectOption('baseline');
  await fillSettings(page, { epochs: 1, groups: 16, filterScale: null });
  await page.getByRole('button', { name: 'Start training' }).click();
  // Auto: the training worker starts tfjs on WASM and says which backend trains and why.
  await expect(page.getByTestId('backend')).toHaveAttribute('data-name', 'wasm', { timeout: 60_000 });
  await expect(page.getByTestId('backend')).toContainText('there is no WebGPU adapter');
  await expect(page.getByTestId('backend-notice')).toHaveCount(0);
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('status')).toContainText(/Cancelled|Finished/, { timeout: 120_000 });

  // The Backend select overrides Auto: CPU, with its slow-backend notice.
  await page.getByLabel('Backend').selectOption('cpu');
  await page.getByRole('button', { name: 'Start training' }).click();
  await expect(page.getByTestId('backend')).toHaveAttribute('data-name', 'cpu', { timeout: 60_000 });
  await expect(page.getByTestId('backend-notice')).toContainText('Training on the CPU');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('status')).toContainText(/Cancelled|Finished/, { timeout: 120_000 });
});
