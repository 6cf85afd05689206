import { test, expect } from '@playwright/test';

test('the page loads and reports the WebGPU adapter it found', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'PtychoPINN Studio' })).toBeVisible();
  const adapter = page.getByTestId('adapter');
  await expect(adapter).toHaveAttribute('data-kind', 'webgpu');
  // Headless Chromium here runs WebGPU through SwiftShader; the app must name it and flag it as software.
  await expect(adapter).toContainText(/WebGPU adapter: .+/);
  const text = (await adapter.textContent()) ?? '';
  expect(text).not.toMatch(/unnamed adapter/);
});
