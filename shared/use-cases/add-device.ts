import * as z from 'zod';
import { newListId, randomHex } from '../ids.ts';
import type { Deps } from '../ports/deps.ts';
import { errors } from '../errors.ts';
import type { DeviceRecord } from '../ports/device-store.ts';
import { ID_CHARS, idString, parseInput } from '../validation.ts';
import { deviceView } from './device-view.ts';
import { findProduct } from './manage-products.ts';

/** The ports this use case uses. */
export type AddDeviceDeps = Pick<Deps, 'clock' | 'devices' | 'logger' | 'products'>;

// A device's MQTT client id `{device_id}_0_{0|1}_{YYYYMMDDHH}` adds 15 characters, and IoT Core refuses a
// client id over 128 bytes at connect: a longer id is refused here, where the caller can still choose another.
const MAX_DEVICE_ID = 128 - '_0_0_YYYYMMDDHH'.length;

// IoTDA AddDevice body (CONTRACT.md §1); unknown fields are ignored, as Huawei's API does.
const AddDeviceBody = z.object({
  device_id: z
    .string()
    .min(1)
    .max(
      MAX_DEVICE_ID,
      `must be at most ${MAX_DEVICE_ID} characters: its MQTT client id (15 more) must fit IoT Core's 128 bytes`,
    )
    .regex(ID_CHARS, 'must be of [A-Za-z0-9_-]')
    .optional(),
  node_id: idString(64),
  product_id: idString(36),
  device_name: z.string().min(1).max(256).optional(),
  description: z.string().max(2048).optional(),
  auth_info: z
    .object({
      auth_type: z.literal('SECRET').optional(),
      secret: z
        .string()
        .regex(/^[A-Za-z0-9_-]{8,32}$/, 'must be 8-32 of [A-Za-z0-9_-]')
        .optional(),
      secure_access: z.boolean().optional(),
    })
    .optional(),
});

export const addDevice = async (deps: AddDeviceDeps, project: string, body: unknown) => {
  const input = parseInput(AddDeviceBody, body);
  // IoTDA's default id; 36 + 1 + 64 = 101 characters always fits MAX_DEVICE_ID.
  const deviceId = input.device_id ?? `${input.product_id}_${input.node_id}`;
  const secret = input.auth_info?.secret ?? randomHex(16);
  const now = deps.clock.now();
  const device: DeviceRecord = {
    project,
    deviceId,
    generation: randomHex(8),
    listId: newListId(now),
    nodeId: input.node_id,
    productId: input.product_id,
    name: input.device_name ?? input.node_id,
    ...(input.description !== undefined ? { description: input.description } : {}),
    secret,
    createdAt: now,
    rev: 0,
    presence: {},
  };
  const product = await findProduct(deps, project, input.product_id);
  // The device's use of its product is recorded before the device, and the product looked at again after:
  // a delete of the product either sees this device or has hidden the product by then (ProductStore.delete).
  await deps.products.link(product.productId, device, now);
  let created = false;
  try {
    await findProduct(deps, project, input.product_id);
    created = await deps.devices.create(device);
  } finally {
    if (!created) await deps.products.unlink(product.productId, device);
  }
  if (!created) throw errors.deviceExists(deviceId);
  deps.logger.info('device added', { project, deviceId });
  // The secret is shown here once, never again.
  const view = deviceView(device, product);
  return { ...view, auth_info: { ...view.auth_info, secret } };
};
