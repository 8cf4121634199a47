import type { Deps } from '../ports/deps.ts';
import { errors } from '../errors.ts';
import type { DeviceRecord } from '../ports/device-store.ts';
import type { ProductRecord } from '../ports/product-store.ts';
import { parseDeviceId } from '../validation.ts';
import { deviceView } from './device-view.ts';

/** The ports this use case uses. */
export type ShowDeviceDeps = Pick<Deps, 'devices' | 'products'>;

/** A device of this project; another project's device is as unknown as a missing one. */
export const findDevice = async (
  deps: ShowDeviceDeps,
  project: string,
  rawDeviceId: string | undefined,
): Promise<DeviceRecord> => {
  const deviceId = parseDeviceId(rawDeviceId);
  const device = await deps.devices.get(deviceId);
  if (!device || device.project !== project) throw errors.deviceNotFound(deviceId);
  return device;
};

/**
 * The product id each device had when this instance last read it. A registration's product never changes,
 * so its product can be read beside the device (both reads go out in one BatchGetItem, coalesced-items.ts)
 * instead of after it. Only a guess, never trusted: the product used is always the one the device read
 * names, read in this call (a device re-added under another product costs the sequential read once).
 */
const GUESSES_KEPT = 10_000;
const productGuesses = new Map<string, string>();

/** A device of this project and its product (undefined when not stored), read as fresh as the device. */
export const findDeviceAndProduct = async (
  deps: ShowDeviceDeps,
  project: string,
  rawDeviceId: string | undefined,
): Promise<{ device: DeviceRecord; product: ProductRecord | undefined }> => {
  const guess = rawDeviceId === undefined ? undefined : productGuesses.get(rawDeviceId);
  const [device, guessed] = await Promise.all([
    findDevice(deps, project, rawDeviceId),
    guess === undefined ? undefined : deps.products.get(guess),
  ]);
  if (device.productId === guess) return { device, product: guessed };
  if (productGuesses.size >= GUESSES_KEPT) productGuesses.delete(productGuesses.keys().next().value!);
  productGuesses.set(device.deviceId, device.productId);
  return { device, product: await deps.products.get(device.productId) };
};

export const showDevice = async (deps: ShowDeviceDeps, project: string, deviceId: string | undefined) => {
  const { device, product } = await findDeviceAndProduct(deps, project, deviceId);
  return deviceView(device, product);
};
