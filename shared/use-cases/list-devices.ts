import * as z from 'zod';
import type { Deps } from '../ports/deps.ts';
import { PAGING } from '../paging.ts';
import { idString, parseInput } from '../validation.ts';
import { deviceView } from './device-view.ts';

/** The ports this use case uses. */
export type ListDevicesDeps = Pick<Deps, 'devices' | 'products'>;

// IoTDA ListDevices filters (CONTRACT.md §5): product and node id exactly, the name by substring.
const ListQuery = z.object({
  product_id: idString(36).optional(),
  node_id: idString(64).optional(),
  device_name: z.string().min(1).max(256).optional(),
  ...PAGING,
});

/** IoTDA ListDevices: the project's devices newest first, as ShowDevice shows them (never a secret). */
export const listDevices = async (deps: ListDevicesDeps, project: string, query: unknown) => {
  const q = parseInput(ListQuery, query);
  const page = await deps.devices.list(project, {
    productId: q.product_id,
    nodeId: q.node_id,
    nameContains: q.device_name,
    below: q.marker,
    offset: q.offset,
    limit: q.limit,
  });
  // A page's products, each read once (reads in one turn of the loop go out together).
  const products = new Map(
    await Promise.all(
      [...new Set(page.items.map((d) => d.productId))].map(async (id) => [id, await deps.products.get(id)] as const),
    ),
  );
  const last = page.items.at(-1);
  return {
    devices: page.items.map((d) => deviceView(d, products.get(d.productId))),
    page: { count: page.count, ...(last ? { marker: last.listId } : {}) },
  };
};
